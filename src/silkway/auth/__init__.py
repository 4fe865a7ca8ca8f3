"""Password hashing (argon2) and signed, expiring access tokens (JWT, HS256)."""
