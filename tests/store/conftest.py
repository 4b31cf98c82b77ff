"""The store on SQLite and PostgreSQL (``db_url`` and ``store`` are parametrised over both
in tests/support/db_fixtures.py), without HTTP. Marked ``store``."""
