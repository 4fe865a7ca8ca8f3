"""The `silkway` command line."""
