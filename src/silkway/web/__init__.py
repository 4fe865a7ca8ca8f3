"""The web entrypoint: the JSON API under /api/v1 and the pages."""
