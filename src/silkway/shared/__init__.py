"""Value types used by every part of Silkway: errors, money, clocks, actors and idempotency keys."""
