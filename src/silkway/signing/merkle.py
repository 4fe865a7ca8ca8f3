"""The Merkle tree of the transparency log, hashed as in RFC 9162 §2.1 (and RFC 6962 §2.1).

    leaf     SHA-256(0x00 ‖ entry)
    node     SHA-256(0x01 ‖ left ‖ right)
    empty    SHA-256("")

The tree is kept the way a database can keep it: as the hashes of its *complete aligned subtrees*.
A `NodeKey` ``(level, index)`` names the root of leaves ``[index·2^level, (index+1)·2^level)``;
level 0 holds the leaf hashes. Such a node never changes once its last leaf is appended, so storage
only ever inserts rows, and ``completed_by_append`` says which rows one append adds (O(log n)).

Every hash of a tree of any size is a fold of stored nodes: the RFC splits ``D[a:b]`` at the largest
power of two below ``b - a``, and every range that split produces is either complete and aligned or
the concatenation of the greedy ``range_keys``. So proofs read O(log n) stored nodes and never
recompute the tree. The ``needed_for_*`` functions name those nodes in advance, so storage can fetch
them in one query and pass them in as a ``Mapping``.

``CompactTree`` rebuilds a root from the entries alone in O(log n) memory (for auditors); ``MemoryLog``
is a dict-backed log for tests and small tools.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactTree",
    "MemoryLog",
    "NodeKey",
    "completed_by_append",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "needed_for_consistency",
    "needed_for_inclusion",
    "needed_for_root",
    "node_hash",
    "range_keys",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

NodeKey = tuple[int, int]
"""``(level, index)``: the complete subtree over leaves ``[index·2^level, (index+1)·2^level)``."""

HASH_SIZE = 32
"""The size in bytes of every leaf, node and root hash (SHA-256)."""

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""The root hash of the tree with no leaves, MTH({}) = SHA-256("")."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

# A sub-range [start, end) of the leaves, as the RFC's recursive definitions split them.
_Range = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """The hash of one log entry: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


# --- Storage: which nodes exist, and which an append completes ------------------------------------


def completed_by_append(index: int, leaf: bytes, lookup: Callable[[NodeKey], bytes]) -> list[tuple[NodeKey, bytes]]:
    """The nodes that become complete when the leaf hash `leaf` is appended at position `index`.

    The tree had `index` leaves before. The result starts with ``((0, index), leaf)`` and goes up one
    level at a time, as many levels as `index` has trailing one bits. `lookup` is asked only for the
    left siblings on that way up, all of which are complete already; whatever it raises (a
    `KeyError` for a missing node) propagates.

    Raises `ValueError` if `index` is negative or `leaf` is not a 32-byte hash.
    """
    if index < 0:
        raise ValueError(f"a leaf index cannot be negative, got {index}")
    _check_hash_size("leaf hash", leaf)
    completed: list[tuple[NodeKey, bytes]] = [((0, index), leaf)]
    level, position, current = 0, index, leaf
    while position & 1:
        current = node_hash(lookup((level, position - 1)), current)
        level, position = level + 1, position >> 1
        completed.append(((level, position), current))
    return completed


def range_keys(start: int, end: int) -> list[NodeKey]:
    """The complete aligned subtrees that, left to right, make up exactly leaves ``[start, end)``.

    Greedy: each key is the largest aligned subtree that starts where the previous one ended and
    still fits, so there are at most about 2·log2(end - start) of them. An empty range gives ``[]``.

    Raises `ValueError` if `start` is negative or `end` is before `start`.
    """
    if start < 0 or end < start:
        raise ValueError(f"[{start}, {end}) is not a range of leaves")
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            # An aligned subtree may not be larger than the lowest set bit of its start.
            level = min(level, (start & -start).bit_length() - 1)
        keys.append((level, start >> level))
        start += 1 << level
    return keys


# --- Which nodes a root or a proof reads ----------------------------------------------------------


def needed_for_root(size: int) -> set[NodeKey]:
    """The stored nodes `root_hash` reads for a tree of `size` leaves (none for the empty tree).

    Raises `ValueError` if `size` is negative.
    """
    _check_size(size)
    return set(range_keys(0, size))


def needed_for_inclusion(index: int, size: int) -> set[NodeKey]:
    """The stored nodes `inclusion_proof` reads to prove leaf `index` in the tree of `size` leaves.

    Raises `ValueError` unless ``0 <= index < size``.
    """
    _check_index(index, size)
    return _keys_of(_inclusion_ranges(index, size))


def needed_for_consistency(first: int, second: int) -> set[NodeKey]:
    """The stored nodes `consistency_proof` reads to prove the tree of `first` leaves a prefix of `second`.

    Raises `ValueError` unless ``0 < first <= second``.
    """
    _check_sizes(first, second)
    return _keys_of(_consistency_ranges(first, second))


# --- Roots and proofs from stored nodes -----------------------------------------------------------


def root_hash(size: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """MTH(D[size]): the root hash of the first `size` leaves, from stored complete nodes.

    Reads exactly `needed_for_root(size)` from `nodes`. Raises `ValueError` if `size` is negative
    and `KeyError` naming the node if one it needs is missing.
    """
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _range_hash((0, size), nodes)


def inclusion_proof(index: int, size: int, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1: the audit path of leaf `index`, leaf end first.

    Reads exactly `needed_for_inclusion(index, size)` from `nodes`. Raises `ValueError` unless
    ``0 <= index < size``, and `KeyError` naming the node if one it needs is missing.
    """
    _check_index(index, size)
    return [_range_hash(part, nodes) for part in _inclusion_ranges(index, size)]


def consistency_proof(first: int, second: int, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1: the tree of `first` leaves is a prefix of `second`'s.

    Equal sizes give ``[]``. Reads exactly `needed_for_consistency(first, second)` from `nodes`.
    Raises `ValueError` unless ``0 < first <= second`` (there is nothing to prove about the empty
    tree), and `KeyError` naming the node if one it needs is missing.
    """
    _check_sizes(first, second)
    return [_range_hash(part, nodes) for part in _consistency_ranges(first, second)]


# --- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2) --------------------------------------------------


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether `proof` shows the leaf hash `leaf` at position `index` of the tree of `size` leaves with `root`.

    Follows RFC 9162 §2.1.3.2, and also rejects a proof whose length differs from what
    ``(index, size)`` calls for. Never raises: impossible positions, hashes that are not 32 bytes
    and proofs of the wrong length all give ``False``.
    """
    if not 0 <= index < size:
        return False
    if not _all_hashes(leaf, root, *proof) or len(proof) != len(_inclusion_ranges(index, size)):
        return False
    fn, sn, computed = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            computed = node_hash(computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and computed == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows the tree of `first` leaves with `first_root` a prefix of `second`'s with `second_root`.

    Follows RFC 9162 §2.1.4.2 for ``first < second``; equal sizes hold exactly when the proof is
    empty and the roots are equal. Like `consistency_proof`, it knows no proof from the empty tree.
    Never raises: sizes outside ``0 < first <= second``, hashes that are not 32 bytes and proofs of
    the wrong length all give ``False``.
    """
    if not 0 < first <= second:
        return False
    if not _all_hashes(first_root, second_root, *proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if len(proof) != len(_consistency_ranges(first, second)):
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        # A power of two is a complete subtree, which the proof leaves out because the verifier has it.
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_computed = second_computed = path[0]
    for hash_ in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_computed = node_hash(hash_, first_computed)
            second_computed = node_hash(hash_, second_computed)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_computed = node_hash(second_computed, hash_)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first_computed == first_root and second_computed == second_root


# --- In-memory trees ------------------------------------------------------------------------------


class CompactTree:
    """An append-only tree that keeps only its frontier: the roots of its complete subtrees.

    For auditors rebuilding a log's root from its entries: memory is O(log n) hashes, `append` is
    O(log n) (amortised O(1)), `root` is O(log n). It cannot prove anything; use stored nodes for that.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        # Left to right, one hash per set bit of the size, largest subtree first (`range_keys(0, size)`).
        self._frontier: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self._size

    def append(self, leaf: bytes) -> None:
        """Append the leaf hash `leaf` (see `leaf_hash`). Raises `ValueError` unless it is 32 bytes."""
        _check_hash_size("leaf hash", leaf)
        current, size = leaf, self._size
        while size & 1:
            current = node_hash(self._frontier.pop(), current)
            size >>= 1
        self._frontier.append(current)
        self._size += 1

    def root(self) -> bytes:
        """MTH of all leaves appended so far; `EMPTY_ROOT` before the first."""
        return _fold(self._frontier)


class MemoryLog:
    """A log whose complete nodes live in a dict, filled by `completed_by_append`; for tests and tools.

    It stores exactly what a database would, and proves through the same functions.
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self._size = 0

    @property
    def size(self) -> int:
        """How many entries the log holds."""
        return self._size

    @property
    def nodes(self) -> Mapping[NodeKey, bytes]:
        """A read-only view of every stored complete node."""
        return MappingProxyType(self._nodes)

    def append(self, data: bytes) -> int:
        """Append the entry `data` (hashed with `leaf_hash`) and return its index."""
        index = self._size
        self._nodes.update(completed_by_append(index, leaf_hash(data), self._nodes.__getitem__))
        self._size += 1
        return index

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` entries (all of them by default).

        Raises `ValueError` if `size` is negative or more than the log holds.
        """
        return root_hash(self._stored_size(size), self._nodes)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path of entry `index` in the tree of the first `size` entries.

        Raises `ValueError` unless ``0 <= index < size <= self.size``.
        """
        return inclusion_proof(index, self._stored_size(size), self._nodes)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The proof that the first `first` entries are a prefix of the first `second`.

        Raises `ValueError` unless ``0 < first <= second <= self.size``.
        """
        return consistency_proof(first, self._stored_size(second), self._nodes)

    def _stored_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        _check_size(size)
        if size > self._size:
            raise ValueError(f"a tree of {size} leaves was asked for, but the log holds {self._size}")
        return size


# --- The RFC's recursion, unrolled into ranges of leaves ------------------------------------------


def _split(start: int, end: int) -> int:
    """Where the RFC splits ``D[start:end]`` (two or more leaves): after the largest power of two below its size."""
    return start + (1 << ((end - start - 1).bit_length() - 1))


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    """The ranges whose hashes make PATH(index, D[size]), leaf end first."""
    siblings: list[_Range] = []
    start, end = 0, size
    while end - start > 1:
        middle = _split(start, end)
        if index < middle:
            siblings.append((middle, end))
            end = middle
        else:
            siblings.append((start, middle))
            start = middle
    return siblings[::-1]


def _consistency_ranges(first: int, second: int) -> list[_Range]:
    """The ranges whose hashes make PROOF(first, D[second]), in the RFC's order."""
    siblings: list[_Range] = []
    start, end = 0, second
    # SUBPROOF's flag b: still on the left edge, where the verifier already knows the subtree's hash.
    on_left_edge = True
    while first != end:
        middle = _split(start, end)
        if first <= middle:
            siblings.append((middle, end))
            end = middle
        else:
            siblings.append((start, middle))
            start = middle
            on_left_edge = False
    head = [] if on_left_edge else [(start, end)]
    return head + siblings[::-1]


def _range_hash(part: _Range, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """MTH of the leaves in `part`, which must be a range the RFC's recursion produces."""
    return _fold([_stored(nodes, key) for key in range_keys(*part)])


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The root over consecutive subtrees, each at most half the size of the one before: a right fold."""
    if not hashes:
        return EMPTY_ROOT
    current = hashes[-1]
    for hash_ in reversed(hashes[:-1]):
        current = node_hash(hash_, current)
    return current


def _keys_of(parts: list[_Range]) -> set[NodeKey]:
    return {key for part in parts for key in range_keys(*part)}


def _stored(nodes: Mapping[NodeKey, bytes], key: NodeKey) -> bytes:
    try:
        return nodes[key]
    except KeyError:
        level, index = key
        raise KeyError(f"node {key} (level {level}, index {index}) is not among the nodes given") from None


# --- Argument checks --------------------------------------------------------------------------------


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"a tree size cannot be negative, got {size}")


def _check_index(index: int, size: int) -> None:
    _check_size(size)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")


def _check_sizes(first: int, second: int) -> None:
    if first <= 0:
        raise ValueError(f"a consistency proof needs a first tree of at least one leaf, got {first}")
    if first > second:
        raise ValueError(f"the first tree ({first} leaves) cannot be larger than the second ({second})")


def _check_hash_size(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"a {what} is {HASH_SIZE} bytes, got {len(value)}")


def _all_hashes(*values: bytes) -> bool:
    return all(isinstance(value, bytes) and len(value) == HASH_SIZE for value in values)
