"""iCalendar out: rendering meetings and decisions (VEVENT, VTODO), feeds and exports."""
