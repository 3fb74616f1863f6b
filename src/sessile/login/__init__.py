"""Login: one-time codes by email or SMS, and passwords (DESIGN §6)."""
