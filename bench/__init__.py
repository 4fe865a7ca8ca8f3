"""Silkway's benchmarks: `make bench` (or ``python -m bench``) writes ``bench/results/<date>.md``.

Each part is a module with ``run(ctx: Context) -> Section``; `bench.report` puts the sections together.
See bench/README.md for what each figure means and how to reproduce it.
"""
