"""The pages in Debian's Chromium through Playwright (tests/support/web_fixtures.py:
``chromium``, ``browser_pages``, screenshots in test-artifacts/). Marked ``browser``."""
