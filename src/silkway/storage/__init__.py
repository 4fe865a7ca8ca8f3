"""Storage: SQLAlchemy tables, repositories, the unit of work and read-only queries (SQLite or PostgreSQL)."""
