"""An auditor of a node's transparency log: it keeps the tree heads it has seen and proves that every new
head extends them (RFC 9162 consistency), so a log that was rewritten, reordered, truncated or forked is
caught — by anyone, with nothing but the trust list."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from silkway.signing import merkle
from silkway.signing.errors import MalformedRecord, Problem
from silkway.signing.treehead import TreeHead, verify_tree_head
from silkway.signing.trustlist import TrustList

Fetch = Callable[[str], Any]
"""GET a path of the node's API (`/api/v1/log/...`) and return its parsed JSON."""

ENTRIES_PAGE = 1000


@dataclass(slots=True)
class AuditState:
    """The tree heads an auditor has accepted, kept between runs in a JSON file."""

    heads: list[TreeHead] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> AuditState:
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls([TreeHead.from_json(h) for h in data["heads"]])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MalformedRecord(f"{path} is not an audit state file: {exc}") from exc

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(json.dumps({"heads": [h.to_json() for h in self.heads]}, indent=1), "utf-8")
        temporary.replace(path)  # atomic: a crash never leaves half a state file


@dataclass(frozen=True, slots=True)
class AuditReport:
    head: TreeHead | None
    problems: list[Problem]
    checked_heads: int
    checked_entries: int

    @property
    def ok(self) -> bool:
        return not self.problems


def audit(fetch: Fetch, trust: TrustList, state: AuditState, *, entries: bool = False) -> AuditReport:
    """Fetch the node's current tree head and check it against every head seen before.

    Codes: `tree_head_signature` and the signer codes (a head the node did not sign), `log_truncated` (the log
    shrank), `log_forked` (same size, another root), `log_inconsistent` (the consistency proof fails: past
    entries were rewritten, reordered or deleted) and, with `entries=True`, `log_rewritten` (the leaf hashes
    the node serves do not rebuild the root it signed). Only a head without problems joins `state`.
    """
    try:
        head = TreeHead.from_json(fetch("/api/v1/log/tree-head"))
    except MalformedRecord as exc:
        return AuditReport(None, [Problem("tree_head_malformed", str(exc))], 0, 0)
    problems = list(verify_tree_head(head, trust))
    if problems:
        return AuditReport(head, problems, 0, 0)
    checked = 0
    for seen in state.heads:
        problem = _consistent(fetch, seen, head)
        checked += 1
        if problem is not None:
            problems.append(problem)
    counted = 0
    if entries and not problems:
        problem, counted = _rebuild(fetch, head)
        if problem is not None:
            problems.append(problem)
    if not problems and all(h.tree_size != head.tree_size for h in state.heads):
        state.heads.append(head)
    return AuditReport(head, problems, checked, counted)


def _consistent(fetch: Fetch, old: TreeHead, new: TreeHead) -> Problem | None:
    if new.tree_size < old.tree_size:
        return Problem(
            "log_truncated", f"the log shrank from {old.tree_size} entries (seen earlier) to {new.tree_size}"
        )
    if new.tree_size == old.tree_size:
        if new.root_hash != old.root_hash:
            return Problem("log_forked", f"two different roots were signed for the same size {new.tree_size}")
        return None
    if old.tree_size == 0:
        return None
    answer = fetch(f"/api/v1/log/proofs/consistency?first={old.tree_size}&second={new.tree_size}")
    proof = [bytes.fromhex(h) for h in answer.get("consistency_path", [])]
    if not merkle.verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof):
        return Problem(
            "log_inconsistent",
            f"the log of {new.tree_size} entries does not extend the one of {old.tree_size} seen earlier: "
            "past entries were rewritten, reordered or deleted",
        )
    return None


def _rebuild(fetch: Fetch, head: TreeHead) -> tuple[Problem | None, int]:
    tree = merkle.CompactTree()
    while tree.size < head.tree_size:
        end = min(tree.size + ENTRIES_PAGE, head.tree_size)
        page = fetch(f"/api/v1/log/entries?start={tree.size}&end={end}")["entries"]
        if not page:
            break
        for entry in page:
            if entry["index"] != tree.size:
                return Problem("log_rewritten", f"entry {tree.size} is missing from the log"), tree.size
            tree.append(bytes.fromhex(entry["leaf_hash"]))
    if tree.size != head.tree_size or tree.root() != head.root_hash:
        return Problem("log_rewritten", "the log's entries do not rebuild the root the node signed"), tree.size
    return None, tree.size


def check_inclusion(leaf_hash: bytes, answer: dict[str, Any], head: TreeHead) -> Problem | None:
    """Check an inclusion proof (as `/log/proofs/inclusion` returns it) against a verified tree head."""
    proof: Sequence[bytes] = [bytes.fromhex(h) for h in answer.get("audit_path", [])]
    if answer.get("tree_size") != head.tree_size or not merkle.verify_inclusion(
        leaf_hash, int(answer.get("leaf_index", -1)), head.tree_size, proof, head.root_hash
    ):
        return Problem("not_in_log", "the record is not in the log the node signed")
    return None
