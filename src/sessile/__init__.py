"""sessile."""
