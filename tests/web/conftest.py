"""The Flask app through its test client (tests/support/webapp.py: ``make_app``, ``login``),
on SQLite and PostgreSQL; no CalDAV server, no browser. ``policies_dir`` (the confidential
policies) is in tests/conftest.py. Marked ``web``."""
