"""The transparency log's Merkle tree, checked against RFC 9162's recursive definitions taken literally.

`reference_mth`, `reference_path` and `reference_proof` below follow MTH(D[n]), PATH(m, D[n]) and
SUBPROOF(m, D[n], b) of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 line by line, slicing lists and
recomputing everything; the module under test stores complete subtrees and reads O(log n) of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkway.signing.merkle import (
    EMPTY_ROOT,
    CompactTree,
    MemoryLog,
    NodeKey,
    completed_by_append,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    needed_for_consistency,
    needed_for_inclusion,
    needed_for_root,
    node_hash,
    range_keys,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# --- The reference: RFC 9162 §2.1, literally --------------------------------------------------------


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def reference_mth(entries: Sequence[bytes]) -> bytes:
    """MTH(D[n])."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = largest_power_of_two_below(n)
    return hashlib.sha256(b"\x01" + reference_mth(entries[:k]) + reference_mth(entries[k:])).digest()


def reference_path(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    n = len(entries)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*reference_path(m, entries[:k]), reference_mth(entries[k:])]
    return [*reference_path(m - k, entries[k:]), reference_mth(entries[:k])]


def reference_subproof(m: int, entries: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    n = len(entries)
    if m == n:
        return [] if b else [reference_mth(entries)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*reference_subproof(m, entries[:k], b), reference_mth(entries[k:])]
    return [*reference_subproof(m - k, entries[k:], False), reference_mth(entries[:k])]


def reference_proof(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n])."""
    return reference_subproof(m, entries, True)


# --- Known vectors --------------------------------------------------------------------------------
# The reference tree of the RFC 6962 code, google/certificate-transparency cpp/merkletree/merkle_tree_test.cc
# (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs; read at commit 0e901cacd1388fa16f78b184612f6cd16e5ceec1),
# carried on in transparency-dev/merkle: testonly/constants.go (LeafInputs, NodeHashes, RootHashes; commit
# 582a6ad190b6848f1d26f8bf08ddef29955d9db1) and proof/verify_test.go (inclusionProofs, consistencyProofs; commit
# 02194e9afb6c1d95b5381350007963aa70fff472). Both number leaves from 1 in their inclusion vectors; here from 0.

KNOWN_ENTRIES = [
    bytes.fromhex(entry)
    for entry in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]

KNOWN_NODES: dict[NodeKey, str] = {
    (0, 0): "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    (0, 1): "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    (0, 2): "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    (0, 3): "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    (0, 4): "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    (0, 5): "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    (0, 6): "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    (0, 7): "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    (1, 0): "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    (1, 1): "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    (1, 2): "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    (1, 3): "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    (2, 0): "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    (2, 1): "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    (3, 0): "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

KNOWN_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# (index from 0, size, path)
KNOWN_INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (first, second, proof)
KNOWN_CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    # Only in transparency-dev/merkle's verify_test.go:
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def log_of(entries: Sequence[bytes]) -> MemoryLog:
    log = MemoryLog()
    for entry in entries:
        log.append(entry)
    return log


def hexes(hashes: Sequence[bytes]) -> list[str]:
    return [hash_.hex() for hash_ in hashes]


KNOWN_LOG = log_of(KNOWN_ENTRIES)


@pytest.mark.parametrize("size", range(len(KNOWN_ROOTS)))
def test_known_roots_for_every_size(size: int) -> None:
    compact = CompactTree()
    for entry in KNOWN_ENTRIES[:size]:
        compact.append(leaf_hash(entry))

    assert KNOWN_LOG.root(size).hex() == KNOWN_ROOTS[size]
    assert compact.root().hex() == KNOWN_ROOTS[size]
    assert reference_mth(KNOWN_ENTRIES[:size]).hex() == KNOWN_ROOTS[size]


def test_the_log_stores_exactly_the_known_complete_nodes() -> None:
    assert {key: hash_.hex() for key, hash_ in KNOWN_LOG.nodes.items()} == KNOWN_NODES


def test_empty_root_and_the_leaf_of_an_empty_entry() -> None:
    assert EMPTY_ROOT.hex() == KNOWN_ROOTS[0]
    assert leaf_hash(b"").hex() == KNOWN_NODES[(0, 0)]
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")).hex() == KNOWN_NODES[(1, 0)]


@pytest.mark.parametrize(("index", "size", "expected"), KNOWN_INCLUSION_PROOFS)
def test_known_inclusion_proofs(index: int, size: int, expected: list[str]) -> None:
    proof = KNOWN_LOG.inclusion_proof(index, size)

    assert hexes(proof) == expected
    assert hexes(reference_path(index, KNOWN_ENTRIES[:size])) == expected
    assert verify_inclusion(leaf_hash(KNOWN_ENTRIES[index]), index, size, proof, bytes.fromhex(KNOWN_ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "expected"), KNOWN_CONSISTENCY_PROOFS)
def test_known_consistency_proofs(first: int, second: int, expected: list[str]) -> None:
    proof = KNOWN_LOG.consistency_proof(first, second)

    assert hexes(proof) == expected
    assert hexes(reference_proof(first, KNOWN_ENTRIES[:second])) == expected
    first_root, second_root = bytes.fromhex(KNOWN_ROOTS[first]), bytes.fromhex(KNOWN_ROOTS[second])
    assert verify_consistency(first, second, first_root, second_root, proof)


# --- A larger log, for the properties ---------------------------------------------------------------

ENTRIES = [f"declaration {i:04d}".encode() * (1 + i % 3) for i in range(300)]
LOG = log_of(ENTRIES)
ROOTS = [LOG.root(size) for size in range(len(ENTRIES) + 1)]
PROPERTIES = settings(max_examples=60, deadline=None)
NO_NODES: dict[NodeKey, bytes] = {}


@st.composite
def positions(draw: st.DrawFn, *, min_size: int = 1) -> tuple[int, int]:
    """A leaf index and a tree size that holds it."""
    size = draw(st.integers(min_size, len(ENTRIES)))
    return draw(st.integers(0, size - 1)), size


@st.composite
def size_pairs(draw: st.DrawFn, *, growing: bool = False) -> tuple[int, int]:
    """Two tree sizes, ``0 < first <= second`` (``first < second`` if `growing`)."""
    second = draw(st.integers(2 if growing else 1, len(ENTRIES)))
    return draw(st.integers(1, second - 1 if growing else second)), second


def flip(hash_: bytes, bit: int) -> bytes:
    changed = bytearray(hash_)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


class RecordingNodes(Mapping[NodeKey, bytes]):
    """Stored nodes that remember every key read from them."""

    def __init__(self, nodes: Mapping[NodeKey, bytes]) -> None:
        self._nodes = nodes
        self.read: set[NodeKey] = set()

    def __getitem__(self, key: NodeKey) -> bytes:
        self.read.add(key)
        return self._nodes[key]

    def __iter__(self) -> Iterator[NodeKey]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)


def only(keys: set[NodeKey]) -> dict[NodeKey, bytes]:
    return {key: LOG.nodes[key] for key in keys}


# --- Storage: complete nodes and appends ----------------------------------------------------------


def test_the_log_stores_every_complete_aligned_subtree_and_nothing_else() -> None:
    size = len(ENTRIES)
    complete = {(level, index) for level in range(size.bit_length()) for index in range(size >> level)}

    assert set(LOG.nodes) == complete
    for (level, index), hash_ in LOG.nodes.items():
        assert hash_ == reference_mth(ENTRIES[index << level : (index + 1) << level])


@pytest.mark.parametrize("index", range(70))
def test_an_append_completes_one_node_per_trailing_one_bit_reading_only_left_siblings(index: int) -> None:
    asked: list[NodeKey] = []

    def lookup(key: NodeKey) -> bytes:
        asked.append(key)
        return LOG.nodes[key]

    completed = completed_by_append(index, LOG.nodes[(0, index)], lookup)

    trailing_ones = (index ^ (index + 1)).bit_length() - 1
    levels = range(trailing_ones + 1)
    assert [key for key, _ in completed] == [(level, index >> level) for level in levels]
    assert asked == [(level, (index >> level) - 1) for level in levels[:-1]]
    assert completed == [(key, LOG.nodes[key]) for key, _ in completed]


def test_an_append_lets_a_missing_left_sibling_surface() -> None:
    with pytest.raises(KeyError, match=r"\(0, 2\)"):
        completed_by_append(3, leaf_hash(b"x"), NO_NODES.__getitem__)


# --- range_keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "keys"),
    [
        (0, 0, []),
        (5, 5, []),
        (0, 1, [(0, 0)]),
        (0, 7, [(2, 0), (1, 2), (0, 6)]),
        (0, 8, [(3, 0)]),
        (3, 13, [(0, 3), (2, 1), (2, 2), (0, 12)]),
        (6, 8, [(1, 3)]),
    ],
)
def test_range_keys_examples(start: int, end: int, keys: list[NodeKey]) -> None:
    assert range_keys(start, end) == keys


@given(st.integers(0, 1 << 20), st.integers(0, 1 << 20))
@PROPERTIES
def test_range_keys_tile_the_range_with_the_largest_aligned_subtrees(start: int, length: int) -> None:
    end = start + length
    keys = range_keys(start, end)

    spans = [(index << level, (index + 1) << level) for level, index in keys]
    edges = [start, *[right for _, right in spans]]
    assert [left for left, _ in spans] == edges[:-1], "each subtree starts where the previous one ended"
    assert edges[-1] == end
    for level, index in keys:
        first = index << level
        doubled_is_aligned = first % (2 << level) == 0
        assert not (doubled_is_aligned and first + (2 << level) <= end), "a larger aligned subtree would fit"


# --- Roots and proofs against the reference -------------------------------------------------------


def test_roots_match_the_reference_for_every_size() -> None:
    assert [reference_mth(ENTRIES[:size]) for size in range(len(ENTRIES) + 1)] == ROOTS


def test_a_compact_tree_has_the_log_root_after_every_append() -> None:
    tree = CompactTree()
    roots = [tree.root()]
    for entry in ENTRIES:
        tree.append(leaf_hash(entry))
        roots.append(tree.root())

    assert tree.size == len(ENTRIES)
    assert roots == ROOTS


@given(positions())
@PROPERTIES
def test_inclusion_proofs_match_the_reference_and_verify(position: tuple[int, int]) -> None:
    index, size = position
    proof = LOG.inclusion_proof(index, size)

    assert proof == reference_path(index, ENTRIES[:size])
    assert verify_inclusion(leaf_hash(ENTRIES[index]), index, size, proof, ROOTS[size])


@given(size_pairs())
@PROPERTIES
def test_consistency_proofs_match_the_reference_and_verify(sizes: tuple[int, int]) -> None:
    first, second = sizes
    proof = LOG.consistency_proof(first, second)

    assert proof == reference_proof(first, ENTRIES[:second])
    assert verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)


# --- Tampering: every altered inclusion proof fails -------------------------------------------------


@given(positions(min_size=2), st.data())
@PROPERTIES
def test_an_inclusion_proof_with_any_bit_flipped_fails(position: tuple[int, int], data: st.DataObject) -> None:
    index, size = position
    leaf, proof = leaf_hash(ENTRIES[index]), LOG.inclusion_proof(index, size)

    for at in range(len(proof)):
        bit = data.draw(st.integers(0, 255))
        tampered = [*proof[:at], flip(proof[at], bit), *proof[at + 1 :]]
        assert not verify_inclusion(leaf, index, size, tampered, ROOTS[size])
    assert not verify_inclusion(flip(leaf, data.draw(st.integers(0, 255))), index, size, proof, ROOTS[size])


@given(positions(min_size=2))
@PROPERTIES
def test_an_inclusion_proof_truncated_or_extended_fails(position: tuple[int, int]) -> None:
    index, size = position
    leaf, proof, root = leaf_hash(ENTRIES[index]), LOG.inclusion_proof(index, size), ROOTS[size]
    extensions = [[*proof, root], [root, *proof], [*proof, EMPTY_ROOT], [*proof, b""], [b"", *proof]]
    truncations = [[], proof[:-1], proof[1:]]

    for altered in extensions + truncations:
        assert not verify_inclusion(leaf, index, size, altered, root)


@given(positions(), st.integers(-2, len(ENTRIES) + 2))
@PROPERTIES
def test_an_inclusion_proof_fails_for_any_other_index(position: tuple[int, int], other: int) -> None:
    index, size = position
    leaf, proof, root = leaf_hash(ENTRIES[index]), LOG.inclusion_proof(index, size), ROOTS[size]

    for wrong in {other, index - 1, index + 1, index ^ 2} - {index}:
        assert not verify_inclusion(leaf, wrong, size, proof, root)


@given(positions(), st.data())
@PROPERTIES
def test_an_inclusion_proof_fails_for_another_tree(position: tuple[int, int], data: st.DataObject) -> None:
    index, size = position
    leaf, proof = leaf_hash(ENTRIES[index]), LOG.inclusion_proof(index, size)
    other = data.draw(st.integers(1, len(ENTRIES)).filter(lambda n: n != size))

    # Against another signed tree head (its own size and root), and against this root with a size from
    # the certificate-transparency verifier tests (double and half).
    assert not verify_inclusion(leaf, index, other, proof, ROOTS[other])
    assert not verify_inclusion(leaf, index, size * 2, proof, ROOTS[size])
    assert not verify_inclusion(leaf, index, size // 2, proof, ROOTS[size])
    assert not verify_inclusion(leaf, index, size, proof, EMPTY_ROOT)


def test_inclusion_verification_returns_false_on_malformed_input() -> None:
    index, size = 5, 13
    leaf, proof, root = leaf_hash(ENTRIES[index]), LOG.inclusion_proof(index, size), ROOTS[size]
    assert verify_inclusion(leaf, index, size, proof, root)

    assert not verify_inclusion(leaf[:-1], index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, root + b"\x00")
    assert not verify_inclusion(leaf, index, size, [proof[0][:-1], *proof[1:]], root)
    assert not verify_inclusion(leaf, index, size, [*proof[:-1], proof[-1] + b"\x00"], root)
    assert not verify_inclusion(leaf, -1, size, proof, root)
    assert not verify_inclusion(leaf, index, -size, proof, root)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(b"", 0, 1, [], b"")


# --- Tampering: every altered consistency proof fails -----------------------------------------------


@given(size_pairs(growing=True), st.data())
@PROPERTIES
def test_a_consistency_proof_with_any_bit_flipped_fails(sizes: tuple[int, int], data: st.DataObject) -> None:
    first, second = sizes
    proof = LOG.consistency_proof(first, second)

    for at in range(len(proof)):
        bit = data.draw(st.integers(0, 255))
        tampered = [*proof[:at], flip(proof[at], bit), *proof[at + 1 :]]
        assert not verify_consistency(first, second, ROOTS[first], ROOTS[second], tampered)


@given(size_pairs(growing=True))
@PROPERTIES
def test_a_consistency_proof_truncated_or_extended_fails(sizes: tuple[int, int]) -> None:
    first, second = sizes
    proof, first_root, second_root = LOG.consistency_proof(first, second), ROOTS[first], ROOTS[second]
    extensions = [
        [*proof, first_root],
        [*proof, second_root],
        [first_root, *proof],
        [second_root, *proof],
        [*proof, b""],
        [b"", *proof],
        [proof[0], *proof],
    ]
    truncations = [[], proof[:-1], proof[1:]]

    for altered in extensions + truncations:
        assert not verify_consistency(first, second, first_root, second_root, altered)


@given(size_pairs(growing=True), st.integers(0, len(ENTRIES)))
@PROPERTIES
def test_a_consistency_proof_fails_for_other_sizes_or_roots(sizes: tuple[int, int], other: int) -> None:
    first, second = sizes
    proof, first_root, second_root = LOG.consistency_proof(first, second), ROOTS[first], ROOTS[second]

    # Other tree heads with their own roots.
    for wrong_first, wrong_second in {(other, second), (first, other)} - {(first, second)}:
        assert not verify_consistency(wrong_first, wrong_second, ROOTS[wrong_first], ROOTS[wrong_second], proof)
    # The same roots under sizes from the certificate-transparency verifier tests.
    for wrong_first, wrong_second in [
        (first - 1, second),
        (first + 1, second),
        (first ^ 2, second),
        (first, second * 2),
        (first, second // 2),
    ]:
        assert not verify_consistency(wrong_first, wrong_second, first_root, second_root, proof)
    assert not verify_consistency(first, second, second_root, first_root, proof)
    assert not verify_consistency(first, second, EMPTY_ROOT, second_root, proof)
    assert not verify_consistency(first, second, first_root, EMPTY_ROOT, proof)


def test_consistency_of_equal_sizes_is_an_empty_proof_and_equal_roots() -> None:
    root = ROOTS[9]

    assert LOG.consistency_proof(9, 9) == []
    assert verify_consistency(9, 9, root, root, [])
    assert not verify_consistency(9, 9, root, ROOTS[10], [])
    assert not verify_consistency(9, 9, root, root, [root])


def test_consistency_verification_returns_false_on_malformed_input() -> None:
    first, second = 6, 13
    proof, first_root, second_root = LOG.consistency_proof(first, second), ROOTS[first], ROOTS[second]
    assert verify_consistency(first, second, first_root, second_root, proof)

    assert not verify_consistency(first, second, first_root[:-1], second_root, proof)
    assert not verify_consistency(first, second, first_root, second_root + b"\x00", proof)
    assert not verify_consistency(first, second, first_root, second_root, [proof[0][:-1], *proof[1:]])
    assert not verify_consistency(second, first, second_root, first_root, proof)
    assert not verify_consistency(0, second, EMPTY_ROOT, second_root, [])
    assert not verify_consistency(-1, second, first_root, second_root, proof)
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


# --- needed_for_*: exactly the nodes a proof reads -------------------------------------------------


def test_a_root_reads_exactly_the_nodes_needed_for_it() -> None:
    for size in range(len(ENTRIES) + 1):
        nodes = RecordingNodes(LOG.nodes)

        assert root_hash(size, nodes) == ROOTS[size]
        assert nodes.read == needed_for_root(size)
        assert root_hash(size, only(needed_for_root(size))) == ROOTS[size]
        assert len(nodes.read) <= size.bit_length()


@given(positions())
@PROPERTIES
def test_an_inclusion_proof_reads_exactly_the_nodes_needed_for_it(position: tuple[int, int]) -> None:
    index, size = position
    nodes = RecordingNodes(LOG.nodes)
    needed = needed_for_inclusion(index, size)

    assert inclusion_proof(index, size, nodes) == LOG.inclusion_proof(index, size)
    assert nodes.read == needed
    assert inclusion_proof(index, size, only(needed)) == LOG.inclusion_proof(index, size)
    assert len(needed) <= 2 * size.bit_length()


@given(size_pairs())
@PROPERTIES
def test_a_consistency_proof_reads_exactly_the_nodes_needed_for_it(sizes: tuple[int, int]) -> None:
    first, second = sizes
    nodes = RecordingNodes(LOG.nodes)
    needed = needed_for_consistency(first, second)

    assert consistency_proof(first, second, nodes) == LOG.consistency_proof(first, second)
    assert nodes.read == needed
    assert consistency_proof(first, second, only(needed)) == LOG.consistency_proof(first, second)
    assert len(needed) <= 2 * second.bit_length()


@given(positions(min_size=2), st.data())
@PROPERTIES
def test_a_missing_node_is_named(position: tuple[int, int], data: st.DataObject) -> None:
    index, size = position
    needed = needed_for_inclusion(index, size)
    missing = data.draw(st.sampled_from(sorted(needed)))

    with pytest.raises(KeyError, match=rf"node \({missing[0]}, {missing[1]}\) \(level {missing[0]}, index"):
        inclusion_proof(index, size, only(needed - {missing}))


def test_a_missing_node_in_a_root_is_named() -> None:
    with pytest.raises(KeyError, match=r"\(1, 2\)"):
        root_hash(7, only(needed_for_root(7) - {(1, 2)}))


def test_a_missing_node_in_a_consistency_proof_is_named() -> None:
    nodes = only(needed_for_consistency(6, 13) - {(1, 2)})

    with pytest.raises(KeyError, match=r"\(1, 2\)"):
        consistency_proof(6, 13, nodes)


# --- The in-memory trees --------------------------------------------------------------------------


def test_a_memory_log_numbers_entries_and_defaults_to_its_full_size() -> None:
    log = MemoryLog()

    assert log.root() == EMPTY_ROOT
    assert [log.append(entry) for entry in ENTRIES[:5]] == [0, 1, 2, 3, 4]
    assert log.size == 5
    assert log.root() == ROOTS[5]
    assert log.root(3) == ROOTS[3]


def test_a_compact_tree_starts_empty() -> None:
    tree = CompactTree()

    assert tree.size == 0
    assert tree.root() == EMPTY_ROOT


# --- Out-of-range arguments -----------------------------------------------------------------------

EIGHT = log_of(KNOWN_ENTRIES)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: range_keys(-1, 2), r"\[-1, 2\) is not a range"),
        (lambda: range_keys(3, 2), r"\[3, 2\) is not a range"),
        (lambda: needed_for_root(-1), "cannot be negative"),
        (lambda: root_hash(-1, NO_NODES), "cannot be negative"),
        (lambda: needed_for_inclusion(3, 3), "leaf index 3 is not in a tree of 3 leaves"),
        (lambda: needed_for_inclusion(-1, 3), "leaf index -1 is not in a tree of 3 leaves"),
        (lambda: inclusion_proof(0, 0, NO_NODES), "leaf index 0 is not in a tree of 0 leaves"),
        (lambda: inclusion_proof(0, -1, NO_NODES), "cannot be negative"),
        (lambda: needed_for_consistency(0, 3), "at least one leaf, got 0"),
        (lambda: consistency_proof(-2, 3, NO_NODES), "at least one leaf, got -2"),
        (lambda: consistency_proof(4, 3, NO_NODES), r"first tree \(4 leaves\) cannot be larger than the second \(3\)"),
        (lambda: completed_by_append(-1, EMPTY_ROOT, NO_NODES.__getitem__), "cannot be negative"),
        (lambda: completed_by_append(0, b"short", NO_NODES.__getitem__), "32 bytes, got 5"),
        (lambda: CompactTree().append(b"short"), "32 bytes, got 5"),
        (lambda: EIGHT.root(9), "a tree of 9 leaves was asked for, but the log holds 8"),
        (lambda: EIGHT.root(-1), "cannot be negative"),
        (lambda: EIGHT.inclusion_proof(0, 9), "a tree of 9 leaves was asked for, but the log holds 8"),
        (lambda: EIGHT.inclusion_proof(8, 8), "leaf index 8 is not in a tree of 8 leaves"),
        (lambda: EIGHT.consistency_proof(1, 9), "a tree of 9 leaves was asked for, but the log holds 8"),
        (lambda: EIGHT.consistency_proof(0, 8), "at least one leaf, got 0"),
    ],
)
def test_out_of_range_arguments_are_refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
