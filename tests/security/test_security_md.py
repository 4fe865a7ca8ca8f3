"""SECURITY.md names, for each threat, the test that shows its defence: each named test must exist, so the
threat model cannot point at a test that was renamed or removed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "SECURITY.md").read_text("utf-8")

THREATS = (
    "forged QR code or seal",
    "edited PDF",
    "replayed or forged bus message",
    "compromised office key",
    "corrupt official in one state",
    "Enumeration of visa applications",
    "Denial of service",
)

# `dir/file.py` opens a file; `::name`, `dir/file.py::name` or a bare `test_name` (a list under a file) names
# a test in the file opened last; a name ending in … is the start of a longer one
REFERENCE = re.compile(r"`([\w/]+\.py)?(?:::)?([\w…]*)`")


def references() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    current: str | None = None
    for path, name in REFERENCE.findall(TEXT):
        if path:
            current = path
        if name.startswith("test_") and current is not None:
            found.append((current, name))
    return found


def defined_tests(path: str) -> set[str]:
    tree = ast.parse((ROOT / "tests" / path).read_text("utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_threat_of_the_issue_has_its_section() -> None:
    headings = [line.lower() for line in TEXT.splitlines() if line.startswith("### ")]
    for threat in THREATS:
        assert any(threat.lower() in heading for heading in headings), threat


def test_every_test_security_md_names_exists() -> None:
    named = references()
    assert len(named) > 60
    missing = []
    for path, name in named:
        defined = defined_tests(path)
        if name.endswith("…"):
            if not any(test.startswith(name.rstrip("…")) for test in defined):
                missing.append(f"{path}::{name}")
        elif name not in defined:
            missing.append(f"{path}::{name}")
    assert not missing, missing


def test_every_test_file_security_md_names_exists() -> None:
    files = {path for path in re.findall(r"`([\w/]+\.py)", TEXT) if not path.startswith(("src/", "web/"))}
    assert files
    assert [path for path in sorted(files) if not (ROOT / "tests" / path).exists()] == []
