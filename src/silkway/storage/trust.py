"""The trust core's storage: keys and trust list sections, the signed-record ledger and the transparency log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, tuple_, update
from sqlalchemy.orm import Session

from silkway.shared.errors import InvalidInput, NotFound
from silkway.signing import merkle
from silkway.signing.authority import StoredKey
from silkway.signing.errors import KeyUnavailable
from silkway.signing.keys import Keyring, PublicKey, SigningKey
from silkway.signing.records import SignedRecord, canonical
from silkway.signing.revocations import RevocationList, RevokedVisa, sign_revocation_list
from silkway.signing.treehead import TreeHead, sign_tree_head
from silkway.signing.trustlist import (
    Certificate,
    KeyEntry,
    KeyStatus,
    KeyUsage,
    RootKey,
    SignedSection,
    StateSection,
    TrustList,
    load_trust_list,
    publish,
)
from silkway.storage.tables import (
    LogLeafRow,
    LogNodeRow,
    LogStateRow,
    TrustKeyRow,
    TrustSectionRow,
)


class SqlKeyStore:
    """signing.authority.KeyStore on the node's database."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def root(self, state: str) -> tuple[RootKey, bytes | None] | None:
        row = self._session.scalars(
            select(TrustKeyRow)
            .where(TrustKeyRow.state == state, TrustKeyRow.usage == KeyUsage.ROOT.value)
            .order_by(TrustKeyRow.created_at.desc())
        ).first()
        if row is None:
            return None
        root = RootKey(
            state=row.state,
            public_key=PublicKey(row.public_key),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )
        return root, row.sealed_private

    def add_root(self, root: RootKey, sealed: bytes | None, *, created_at: datetime) -> None:
        self._session.add(
            TrustKeyRow(
                key_id=root.key_id,
                state=root.state,
                usage=KeyUsage.ROOT.value,
                office=None,
                public_key=root.public_key.raw,
                certificate=None,
                certificate_signature=None,
                valid_from=root.valid_from,
                valid_until=root.valid_until,
                status=KeyStatus.ACTIVE.value,
                rotated_at=None,
                compromised_at=None,
                sealed_private=sealed,
                created_at=created_at,
            )
        )
        self._session.flush()

    def keys(self, state: str) -> Sequence[StoredKey]:
        rows = self._session.scalars(
            select(TrustKeyRow)
            .where(TrustKeyRow.state == state, TrustKeyRow.usage != KeyUsage.ROOT.value)
            .order_by(TrustKeyRow.created_at, TrustKeyRow.key_id)
        ).all()
        return [_stored(row) for row in rows]

    def key(self, key_id: str) -> StoredKey | None:
        row = self._session.get(TrustKeyRow, key_id)
        if row is None or row.usage == KeyUsage.ROOT.value:
            return None
        return _stored(row)

    def add_key(self, entry: KeyEntry, sealed: bytes | None, *, created_at: datetime) -> None:
        cert = entry.certificate
        self._session.add(
            TrustKeyRow(
                key_id=cert.key_id,
                state=cert.state,
                usage=cert.usage.value,
                office=cert.office,
                public_key=cert.public_key.raw,
                certificate=canonical(cert.to_json()),
                certificate_signature=entry.signature,
                valid_from=cert.valid_from,
                valid_until=cert.valid_until,
                status=entry.status.value,
                rotated_at=entry.rotated_at,
                compromised_at=entry.compromised_at,
                sealed_private=sealed,
                created_at=created_at,
            )
        )
        self._session.flush()

    def set_status(
        self, key_id: str, status: KeyStatus, *, rotated_at: datetime | None, compromised_at: datetime | None
    ) -> None:
        self._session.execute(
            update(TrustKeyRow)
            .where(TrustKeyRow.key_id == key_id)
            .values(status=status.value, rotated_at=rotated_at, compromised_at=compromised_at)
        )

    def section_sequence(self, state: str) -> int:
        return self._session.scalar(select(TrustSectionRow.sequence).where(TrustSectionRow.state == state)) or 0

    def save_section(self, state: str, sequence: int, section: SignedSection, *, updated_at: datetime) -> None:
        row = self._session.get(TrustSectionRow, state)
        if row is None:
            self._session.add(
                TrustSectionRow(
                    state=state,
                    sequence=sequence,
                    canonical=section.canonical,
                    signature=section.signature,
                    updated_at=updated_at,
                )
            )
        else:
            row.sequence, row.canonical, row.signature, row.updated_at = (
                sequence,
                section.canonical,
                section.signature,
                updated_at,
            )
        self._session.flush()

    def sections(self) -> list[tuple[str, int, SignedSection]]:
        """Every stored section: (state, sequence, the signed bytes)."""
        rows = self._session.scalars(select(TrustSectionRow).order_by(TrustSectionRow.state)).all()
        return [(r.state, r.sequence, SignedSection(canonical=r.canonical, signature=r.signature)) for r in rows]

    def adopt_section(self, section: StateSection, signed: SignedSection, *, at: datetime) -> None:
        """Store a peer state's verified section as it signed it, and its keys (public only) with their status."""
        found = self.root(section.state)
        if found is None or found[0].key_id != section.root.key_id:
            self.add_root(section.root, None, created_at=at)
        for entry in section.keys:
            if self._session.get(TrustKeyRow, entry.key_id) is None:
                self.add_key(entry, None, created_at=at)
            else:
                self.set_status(
                    entry.key_id, entry.status, rotated_at=entry.rotated_at, compromised_at=entry.compromised_at
                )
        self.save_section(section.state, section.sequence, signed, updated_at=at)


def _stored(row: TrustKeyRow) -> StoredKey:
    if row.certificate is None:
        raise ValueError(f"key {row.key_id} has no certificate")
    cert = Certificate.from_json(json.loads(row.certificate))
    return StoredKey(
        entry=KeyEntry(
            certificate=cert,
            signature=row.certificate_signature or b"",
            status=KeyStatus(row.status),
            rotated_at=row.rotated_at,
            compromised_at=row.compromised_at,
        ),
        sealed=row.sealed_private,
    )


@dataclass(frozen=True, slots=True)
class LoggedRecord:
    record: SignedRecord
    log_index: int


class SqlLedger:
    """The acting office's active signing key, and the transparency log that every record is appended to, in
    the caller's transaction: a record is stored, signed and logged together, or not at all."""

    def __init__(self, session: Session, keyring: Keyring) -> None:
        self._session = session
        self._keyring = keyring

    def signing_key(self, office: str, *, usage: KeyUsage = KeyUsage.OFFICE) -> SigningKey:
        """The active key of an office (or, with `usage=NODE` and the node's state as `office`, the node key).

        On an office without an active key held here, raises `KeyUnavailable`.
        """
        query = select(TrustKeyRow.key_id, TrustKeyRow.sealed_private).where(
            TrustKeyRow.usage == usage.value, TrustKeyRow.status == KeyStatus.ACTIVE.value
        )
        query = (
            query.where(TrustKeyRow.office == office)
            if usage is KeyUsage.OFFICE
            else query.where(TrustKeyRow.state == office)
        )
        row = self._session.execute(query.order_by(TrustKeyRow.created_at.desc())).first()
        if row is None or row.sealed_private is None:
            raise KeyUnavailable(f"no active signing key for {office} on this node; run `silkway trust init`")
        return self._keyring.unseal(row.key_id, row.sealed_private)

    def append(self, records: Iterable[tuple[str, str, int, SignedRecord]]) -> list[int]:
        """Append (kind, ref, seq, record) entries to the log, in order; returns their log indices.

        The log's single state row is locked for the rest of the transaction, which orders appends from
        concurrent writers (SQLite's write lock does the same there).
        """
        # Core statements, not ORM objects: this runs for every record written, and the unit-of-work flush of a
        # leaf, its nodes and the state row cost more than the hashing (bench/README.md, profile)
        connection = self._session.connection()
        size = connection.scalar(select(LogStateRow.size).where(LogStateRow.id == 1).with_for_update())
        if size is None:  # a new database; two first writers racing here meet at the primary key
            connection.execute(insert(LogStateRow).values(id=1, size=0))
            size = 0
        known: dict[merkle.NodeKey, bytes] = {}
        leaves: list[dict[str, object]] = []
        nodes: list[dict[str, object]] = []
        indices = []
        for kind, ref, seq, record in records:
            leaf = merkle.leaf_hash(record.canonical)
            needed = [k for k in _left_siblings(size) if k not in known]
            if needed:
                known.update(_log_nodes(self._session, needed))
            completed = merkle.completed_by_append(size, leaf, known.__getitem__)
            known.update(completed)
            leaves.append({"index": size, "leaf_hash": leaf, "kind": kind, "ref": ref, "seq": seq})
            nodes += ({"level": level, "idx": idx, "hash": h} for (level, idx), h in completed)
            indices.append(size)
            size += 1
        if leaves:
            connection.execute(insert(LogLeafRow), leaves)
            connection.execute(insert(LogNodeRow), nodes)
            connection.execute(update(LogStateRow).where(LogStateRow.id == 1).values(size=size))
        return indices


def _left_siblings(index: int) -> list[merkle.NodeKey]:
    """The complete subtrees that appending leaf `index` joins with: one per trailing 1-bit of `index`."""
    keys = []
    level = 0
    while (index >> level) & 1:
        keys.append((level, (index >> level) - 1))
        level += 1
    return keys


@dataclass(frozen=True, slots=True)
class LogEntry:
    index: int
    leaf_hash: bytes


class SqlNotary:
    """What the node states publicly, read in short read-only transactions and signed with the node key:
    the trust list, tree heads, log proofs and entries, and document seals."""

    MAX_ENTRIES = 1000

    def __init__(self, engine: Engine, keyring: Keyring, node_state: str) -> None:
        self._engine = engine
        self._keyring = keyring
        self.vault = keyring.vault
        self.node_state = node_state
        # the verified trust list and the sections it was built from (see verified_trust_list)
        self._verified: tuple[tuple[tuple[str, int, bytes], ...], TrustList] | None = None

    def _session(self) -> Session:
        return Session(self._engine)

    def sealed_private_keys(self) -> list[tuple[str, bytes]]:
        """(key id, sealed private key) of every key this node holds the private half of, by key id."""
        with self._session() as session:
            rows = session.execute(
                select(TrustKeyRow.key_id, TrustKeyRow.sealed_private)
                .where(TrustKeyRow.sealed_private.is_not(None))
                .order_by(TrustKeyRow.key_id)
            ).all()
        return [(key_id, sealed) for key_id, sealed in rows if sealed is not None]

    def node_key(self, session: Session) -> SigningKey:
        return SqlLedger(session, self._keyring).signing_key(self.node_state, usage=KeyUsage.NODE)

    def office_key(self, office: str) -> SigningKey:
        with self._session() as session:
            return SqlLedger(session, self._keyring).signing_key(office)

    def trust_list(self, now: datetime) -> bytes:
        with self._session() as session:
            return self._publish(session, now)

    def _publish(self, session: Session, now: datetime) -> bytes:
        rows = session.scalars(select(TrustSectionRow).order_by(TrustSectionRow.state)).all()
        sections = [SignedSection(canonical=r.canonical, signature=r.signature) for r in rows]
        return publish(sections, node_key=self.node_key(session), node_state=self.node_state, issued_at=now)

    def verified_trust_list(self, now: datetime) -> TrustList:
        """This node's trust list, verified, as checks of seals and documents use it.

        Verifying every section and certificate costs milliseconds, so the result is kept until a stored section
        changes (a key made, rotated or revoked; a peer's new section): each call reads only the sections'
        sequences and signatures, which change with every new section. `issued_at` is when it was last built."""
        with self._session() as session:
            stamp = tuple(
                (state, sequence, signature)
                for state, sequence, signature in session.execute(
                    select(TrustSectionRow.state, TrustSectionRow.sequence, TrustSectionRow.signature).order_by(
                        TrustSectionRow.state
                    )
                )
            )
            cached = self._verified
            if cached is not None and cached[0] == stamp:
                return cached[1]
            trust = load_trust_list(self._publish(session, now))
        self._verified = (stamp, trust)
        return trust

    def revocation_list(self, now: datetime, revoked: Sequence[RevokedVisa]) -> RevocationList:
        """The revoked and annulled visas, signed with the node key as of `now`."""
        with self._session() as session:
            return sign_revocation_list(
                key=self.node_key(session), node_state=self.node_state, issued_at=now, revoked=revoked
            )

    def tree_head(self, now: datetime) -> TreeHead:
        with self._session() as session:
            size = self._size(session)
            nodes = _log_nodes(session, merkle.needed_for_root(size))
            return sign_tree_head(
                key=self.node_key(session),
                node_state=self.node_state,
                tree_size=size,
                root_hash=merkle.root_hash(size, nodes),
                timestamp=now,
            )

    def inclusion_proof(self, leaf_hash: bytes, tree_size: int) -> tuple[int, list[bytes]]:
        """The index of a leaf and its audit path in the tree of `tree_size` entries.

        On a leaf not in that tree, raises `NotFound`; on a size beyond the log, raises `InvalidInput`.
        """
        with self._session() as session:
            size = self._size(session)
            if not 0 < tree_size <= size:
                raise InvalidInput("tree_size is beyond the log", fields={"tree_size": f"must be between 1 and {size}"})
            index = session.scalar(select(LogLeafRow.index).where(LogLeafRow.leaf_hash == leaf_hash))
            if index is None or index >= tree_size:
                raise NotFound(f"no entry with this leaf hash in the first {tree_size} entries of the log")
            nodes = _log_nodes(session, merkle.needed_for_inclusion(index, tree_size))
            return index, merkle.inclusion_proof(index, tree_size, nodes)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The proof that the tree of `first` entries is a prefix of the tree of `second` entries.

        On sizes out of order or beyond the log, raises `InvalidInput`.
        """
        with self._session() as session:
            size = self._size(session)
            if not 0 < first <= second <= size:
                raise InvalidInput(
                    "no consistency proof between these sizes",
                    fields={"second": f"need 0 < first <= second <= {size}, the log's size"},
                )
            nodes = _log_nodes(session, merkle.needed_for_consistency(first, second))
            return merkle.consistency_proof(first, second, nodes)

    def entries(self, start: int, end: int) -> list[LogEntry]:
        """Log entries [start, end), at most `MAX_ENTRIES` of them. On a bad range, raises `InvalidInput`."""
        if not 0 <= start < end or end - start > self.MAX_ENTRIES:
            raise InvalidInput(
                "bad range of log entries",
                fields={"end": f"need 0 <= start < end and at most {self.MAX_ENTRIES} entries at a time"},
            )
        with self._session() as session:
            rows = session.execute(
                select(LogLeafRow.index, LogLeafRow.leaf_hash)
                .where(LogLeafRow.index >= start, LogLeafRow.index < end)
                .order_by(LogLeafRow.index)
            ).all()
        return [LogEntry(r[0], r[1]) for r in rows]

    @staticmethod
    def _size(session: Session) -> int:
        return int(session.scalar(select(LogStateRow.size).where(LogStateRow.id == 1)) or 0)


def _log_nodes(session: Session, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """The stored complete subtrees with these keys, in one query."""
    wanted = sorted(keys)
    if not wanted:
        return {}
    rows = session.execute(
        select(LogNodeRow.level, LogNodeRow.idx, LogNodeRow.hash).where(
            tuple_(LogNodeRow.level, LogNodeRow.idx).in_(wanted)
        )
    ).all()
    return {(r.level, r.idx): r.hash for r in rows}
