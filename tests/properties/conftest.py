"""Properties and cross-checks of the pure core: hypothesis, and independent engines
(``ical``, ``recurring-ical-events``, ``chinese-calendar``, ``opencc``) from the test extras. No
database or server. Marked ``properties``; the hypothesis CI profile is in tests/conftest.py."""
