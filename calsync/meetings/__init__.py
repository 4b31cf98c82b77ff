"""The meeting's life after the calendar: sign-in, attendance, minutes and decisions,
what was held."""
