"""Background jobs: the periodic SLA sweep."""
