"""Personal data: masked at the edge, kept only with consent, purged after its time."""
