"""Storage: SQLAlchemy Core on SQLite or PostgreSQL (DESIGN §8)."""
