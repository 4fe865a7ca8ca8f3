"""Cargo transit: a declaration lodged once, released once, and recognised at every later border."""
