"""What joins the store, generation and CalDAV: the service, the scheduler, the publish lock, the
notices queue, accounts at login, and `calsync serve`."""
