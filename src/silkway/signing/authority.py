"""A state's key authority: creating, certifying, rotating and revoking keys, and signing its trust list section.

It works through a `KeyStore` (implemented by storage) and a `KeyVault`; private keys pass through it only
sealed. Every change re-signs the state's section with its root, so the published trust list never lags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from silkway.signing.errors import KeyUnavailable
from silkway.signing.keys import KeyVault, SigningKey
from silkway.signing.trustlist import (
    Certificate,
    KeyEntry,
    KeyStatus,
    KeyUsage,
    RootKey,
    SignedSection,
    StateSection,
    certify,
)

ROOT_VALIDITY = timedelta(days=10 * 365)
KEY_VALIDITY = timedelta(days=3 * 365)
CLOCK_SKEW = timedelta(minutes=5)
"""New keys are valid from a little before they were made, as X.509 certificates are backdated, so a record
signed on a node whose clock runs slightly behind the certifying node's is not refused."""


@dataclass(frozen=True, slots=True)
class StoredKey:
    entry: KeyEntry
    sealed: bytes | None


class KeyStore(Protocol):
    """Where the keys of the trust list live (a node's database)."""

    def root(self, state: str) -> tuple[RootKey, bytes | None] | None: ...
    def add_root(self, root: RootKey, sealed: bytes, *, created_at: datetime) -> None: ...
    def keys(self, state: str) -> Sequence[StoredKey]: ...
    def key(self, key_id: str) -> StoredKey | None: ...
    def add_key(self, entry: KeyEntry, sealed: bytes | None, *, created_at: datetime) -> None: ...
    def set_status(
        self, key_id: str, status: KeyStatus, *, rotated_at: datetime | None, compromised_at: datetime | None
    ) -> None: ...
    def section_sequence(self, state: str) -> int: ...
    def save_section(self, state: str, sequence: int, section: SignedSection, *, updated_at: datetime) -> None: ...


class UnknownKey(LookupError):
    """No key with this id, or no active key for this office."""


class Authority:
    """The key operations of the states this node holds roots for."""

    def __init__(self, store: KeyStore, vault: KeyVault) -> None:
        self._store = store
        self._vault = vault

    def establish(self, offices_by_state: Mapping[str, Iterable[str]], *, now: datetime) -> int:
        """Give every state a root, every office an active key and a node key, where missing.

        Idempotent: returns how many keys it created (0 on a node that is already set up).
        """
        created = 0
        for state, offices in sorted(offices_by_state.items()):
            changed = False
            if self._store.root(state) is None:
                root = SigningKey.generate()
                self._store.add_root(
                    RootKey(
                        state=state,
                        public_key=root.public,
                        valid_from=now - CLOCK_SKEW,
                        valid_until=now + ROOT_VALIDITY,
                    ),
                    self._vault.seal(root),
                    created_at=now,
                )
                created += 1
                changed = True
            active = {
                (k.entry.certificate.usage, k.entry.certificate.office)
                for k in self._store.keys(state)
                if k.entry.status is KeyStatus.ACTIVE
            }
            # every state this node serves gets a node key: it signs that state's administrative records (the
            # audit trail) and, for the node's own state, its trust list and tree heads
            wanted: list[tuple[KeyUsage, str | None]] = [(KeyUsage.OFFICE, office) for office in sorted(offices)]
            wanted.append((KeyUsage.NODE, None))
            for usage, office in wanted:
                if (usage, office) not in active:
                    self._issue(state, usage, office, now)
                    created += 1
                    changed = True
            if changed:
                self._publish(state, now)
        return created

    def rotate(self, office: str, *, now: datetime) -> KeyEntry:
        """Replace the office's active key: the old one stays valid for what it signed before `now`."""
        current = self._active(office)
        self._store.set_status(current.key_id, KeyStatus.ROTATED, rotated_at=now, compromised_at=None)
        state = current.certificate.state
        entry = self._issue(state, current.certificate.usage, office, now)
        self._publish(state, now)
        return entry

    def revoke(self, key_id: str, *, compromised_at: datetime, now: datetime) -> KeyEntry | None:
        """Revoke a compromised key: what it signed from `compromised_at` on is invalid. If it was an office's
        active key, the office gets a new one, which is returned. On an unknown key, raises `UnknownKey`."""
        stored = self._store.key(key_id)
        if stored is None:
            raise UnknownKey(f"no key {key_id} on this node")
        entry = stored.entry
        cert = entry.certificate
        self._store.set_status(key_id, KeyStatus.REVOKED, rotated_at=entry.rotated_at, compromised_at=compromised_at)
        replacement = None
        if entry.status is KeyStatus.ACTIVE:
            replacement = self._issue(cert.state, cert.usage, cert.office, now)
        self._publish(cert.state, now)
        return replacement

    def _active(self, office: str) -> KeyEntry:
        for state_key in self._store.keys(office[:2]):
            entry = state_key.entry
            if entry.certificate.office == office and entry.status is KeyStatus.ACTIVE:
                return entry
        raise UnknownKey(f"office {office} has no active key on this node")

    def _root_key(self, state: str) -> SigningKey:
        found = self._store.root(state)
        sealed = None if found is None else found[1]
        if found is None or sealed is None:
            raise KeyUnavailable(f"this node does not hold the root key of {state}")
        return self._vault.open(sealed, found[0].key_id)

    def _issue(self, state: str, usage: KeyUsage, office: str | None, now: datetime) -> KeyEntry:
        root = self._root_key(state)
        key = SigningKey.generate()
        entry = certify(
            root,
            Certificate(
                public_key=key.public,
                state=state,
                usage=usage,
                office=office,
                valid_from=now - CLOCK_SKEW,
                valid_until=now + KEY_VALIDITY,
                issuer=root.key_id,
            ),
        )
        self._store.add_key(entry, self._vault.seal(key), created_at=now)
        return entry

    def _publish(self, state: str, now: datetime) -> None:
        found = self._store.root(state)
        if found is None:
            raise KeyUnavailable(f"no root for {state}")
        sequence = self._store.section_sequence(state) + 1
        section = StateSection(
            state=state,
            sequence=sequence,
            updated_at=now,
            root=found[0],
            keys=tuple(k.entry for k in self._store.keys(state)),
        )
        self._store.save_section(state, sequence, section.sign(self._root_key(state)), updated_at=now)
