"""Keys, signatures, canonical records and the transparency log: the trust core."""
