"""Unit tests: the pure core (settings, policy, calendar, meetings, ical, directory, and CLI
commands that need no database), plus the import-graph checks of test_layers.py. No database,
server, browser or hypothesis: `scripts/test -m unit` runs them with calsync's own
dependencies and pytest only. Every test here is marked ``unit`` by tests/conftest.py."""
