"""CalDAV sync: plan with no I/O, then apply."""
