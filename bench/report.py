"""What a benchmark part hands back, and the report the parts make together."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Goal:
    """One goal of the issue with the figure measured beside it.

    `why` is required when the goal is missed: what the figure is made of and what would close the gap."""

    name: str
    target: str
    measured: str
    met: bool
    why: str = ""


@dataclass
class Section:
    """One part of the report: markdown body (tables, prose), its goals and the charts it drew."""

    title: str
    body: str
    goals: list[Goal] = field(default_factory=list)
    charts: list[Path] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Context:
    """What every part is given.

    `charts` is the folder for this run's PNGs; `work` a scratch folder (deleted after the run); `pg_url` an
    admin URL of a PostgreSQL server on which a part may create and drop its own ``silkway_bench_*`` databases."""

    quick: bool
    charts: Path
    work: Path
    pg_url: str = DEFAULT_PG
    log: Callable[[str], None] = print

    @property
    def python(self) -> str:
        return sys.executable


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; numbers are written with thousands separators, floats to 3 significant digits."""

    def cell(value: object) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, float):
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line on the machine the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git on PATH, as a developer would
            capture_output=True,
            text=True,
            check=True,
            cwd=RESULTS.parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def render(sections: Sequence[Section], *, day: date, quick: bool, started: datetime, charts: Path) -> str:
    """The whole report: a summary of every goal first, then each part."""
    took = (datetime.now(UTC) - started).total_seconds()
    out = [
        f"# Silkway benchmarks, {day.isoformat()}{' (quick run)' if quick else ''}",
        "",
        f"Commit `{commit()}` on {machine()}; the run took {took / 60:.1f} min. "
        "Figures drift by up to ~30% between runs on this machine: compare ratios measured in the same run.",
        "",
        "## Goals",
        "",
    ]
    rows = []
    for section in sections:
        for goal in section.goals:
            rows.append((goal.name, goal.target, goal.measured, "met" if goal.met else "**missed**"))
    out += [table(("goal", "target", "measured", ""), rows), ""]
    missed = [goal for section in sections for goal in section.goals if not goal.met]
    if missed:
        out += ["Missed goals, what they are made of and what would close them:", ""]
        out += [f"- **{goal.name}** ({goal.measured}): {goal.why}" for goal in missed]
        out.append("")
    for section in sections:
        out += [f"## {section.title}", "", f"_{section.seconds:.0f} s._", "", section.body.strip(), ""]
        for chart in section.charts:
            relative = chart.relative_to(charts.parent) if chart.is_relative_to(charts.parent) else chart
            out += [f"![{chart.stem}]({relative.as_posix()})", ""]
    return "\n".join(out)
