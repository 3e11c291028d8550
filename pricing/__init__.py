"""The domain core: venues, calendars, plans, quotes and quote tokens. Pure: no I/O, no numpy."""
