"""The embedded CalDAV server (Radicale): its process, the grants it serves, its auth and rights
plugins."""
