"""Silkway: cargo transit declared once and inspected once across Central Asia, and the Commonwealth Visa."""

__version__ = "0.1.0"
