"""Every write on the calendar, one function per action (see the modules of this package)."""
