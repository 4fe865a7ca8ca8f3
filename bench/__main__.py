"""``python -m bench [--quick] [--only PART,...]``: run the benchmarks and write the report."""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.report import DEFAULT_PG, RESULTS, Context, Goal, Section, render

# The parts, in the order the report shows them: name -> module with run(ctx) -> Section.
PARTS = {
    "load": "bench.load",
    "year": "bench.year",
    "offline": "bench.offline",
    "border-time": "bench.border_time",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run (a few minutes), for trying things out")
    parser.add_argument("--only", default="", help=f"comma-separated parts to run, of: {', '.join(PARTS)}")
    parser.add_argument("--pg", default=DEFAULT_PG, help="admin URL of the PostgreSQL server (default %(default)s)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the report (default bench/results)")
    args = parser.parse_args(argv)
    chosen = [part.strip() for part in args.only.split(",") if part.strip()] or list(PARTS)
    unknown = [part for part in chosen if part not in PARTS]
    if unknown:
        parser.error(f"unknown part {', '.join(unknown)}; the parts are {', '.join(PARTS)}")

    started = datetime.now(UTC)
    stem = started.date().isoformat() + ("-quick" if args.quick else "")
    charts = args.out / stem
    shutil.rmtree(charts, ignore_errors=True)
    charts.mkdir(parents=True)
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="silkway-bench-") as work:
        for name in chosen:
            ctx = Context(quick=args.quick, charts=charts, work=Path(work), pg_url=args.pg, log=_logger(name))
            ctx.log("starting")
            began = time.perf_counter()
            try:
                section = importlib.import_module(PARTS[name]).run(ctx)
            except Exception as exc:  # a failed part is reported, and the others still run
                traceback.print_exc()
                section = Section(
                    title=name,
                    body=f"This part failed: `{type(exc).__name__}: {exc}`.",
                    goals=[Goal(name, "the part runs", "failed", met=False, why=f"{type(exc).__name__}: {exc}")],
                )
            section.seconds = time.perf_counter() - began
            ctx.log(f"done in {section.seconds:.0f} s")
            sections.append(section)
    report = args.out / f"{stem}.md"
    report.write_text(render(sections, day=started.date(), quick=args.quick, started=started, charts=charts))
    print(f"report: {report}")
    failed = any(goal.measured == "failed" for section in sections for goal in section.goals)
    return 1 if failed else 0


def _logger(name: str) -> Callable[[str], None]:
    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {name}: {message}", file=sys.stderr, flush=True)

    return log


if __name__ == "__main__":
    sys.exit(main())
