"""The HTTP layer: the only place errors become responses."""
