"""The wired application that entrypoints (web, CLI) receive from `bootstrap`: what handlers need,
the read-only queries, and the edge's own helpers. Entrypoints never build any of this themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pycountry

from silkway.auth.passwords import Argon2Hasher
from silkway.auth.tokens import TokenIssuer
from silkway.documents.visa import EVisa, render_visa_document
from silkway.documents.visa_seal import issue_for
from silkway.places.reference import ReferenceData
from silkway.settings import Settings
from silkway.shared.clock import Clock
from silkway.shared.errors import InvalidInput, NotFound
from silkway.shared.idempotency import StoredResponse
from silkway.signing.authority import Authority, UnknownKey
from silkway.signing.revocations import RevocationList
from silkway.signing.trustlist import KeyEntry
from silkway.storage.audit import AuditTrailQueries
from silkway.storage.dashboard import Dashboard
from silkway.storage.exchange import SqlExchange
from silkway.storage.limits import SqlLimits
from silkway.storage.queries import Queries
from silkway.storage.receiving import SqlReceiver
from silkway.storage.trust import SqlNotary
from silkway.storage.uow import SqlUnitOfWork
from silkway.storage.visa_queries import VisaQueries
from silkway.transit.ports import Places
from silkway.visas.application import VisaApplication
from silkway.visas.errors import VisaNotFound
from silkway.visas.ports import Countries, SealChecker
from silkway.visas.scheme import Scheme


@dataclass(slots=True, kw_only=True)
class Services:
    settings: Settings
    clock: Clock
    reference: ReferenceData
    places: Places
    uow: Callable[[], SqlUnitOfWork]
    notary: SqlNotary
    queries: Queries
    hasher: Argon2Hasher
    tokens: TokenIssuer
    close: Callable[[], None]
    scheme: Scheme
    countries: Countries
    visa_queries: VisaQueries
    seal_reader: SealChecker
    dashboard: Dashboard
    """The analyst's figures: crossing times, inspections, volumes and visas (read-only)."""
    exchange: SqlExchange
    """The node's exchange with its peer states: the relay's outbox, its status, conflicts (read side)."""
    receiver: SqlReceiver
    """Verifies and stores what peer states send."""
    limits: SqlLimits
    """What clients did lately, for the rate limits (`silkway.web.limits`) and the lock-out of unknown usernames."""
    audit_trail: AuditTrailQueries
    """Each state's audit trail: every record signed with one of its keys, in log order (read-only)."""

    @property
    def served_states(self) -> tuple[str, ...]:
        """The states this node holds keys for and serves: its own in a federation; every state of both schemes
        on the embedded node."""
        if self.settings.federated:
            return (self.settings.node_state,)
        return tuple(dict.fromkeys([*self.reference.member_states, *self.scheme.states]))

    def offices_by_state(self) -> dict[str, list[str]]:
        """The offices that sign, per served state: customs and border offices, airports and the consular
        service, for the cargo scheme's members and every state of the visa scheme."""
        states = self.served_states
        return {
            state: sorted(
                {office.code for office in self.reference.offices_of(state)}
                | {code for code, airport in self.scheme.airports.items() if airport.state == state}
                | ({self.scheme.states[state].consular_office} if state in self.scheme.states else set())
            )
            for state in states
        }

    def country_name(self, code: str) -> str:
        """The English short name of a country (ISO 3166), or the code itself when unknown."""
        country = pycountry.countries.get(alpha_2=code)
        return code if country is None else str(country.name)

    def visa_seal(self, number: str) -> str:
        """The visible digital seal of a visa, signed by its issuing consular service's current key."""
        file = self.visa_queries.visa(number)
        if file is None or file.visa is None:
            raise VisaNotFound(f"no visa {number}")
        key = self.notary.office_key(file.visa.issuing_office)
        return issue_for(file.visa, file.applicant.passport_number, key)

    def evisa_pdf(self, file: VisaApplication, lang: str) -> bytes:
        """The e-visa of `file`'s visa as a one-page PDF in `lang`, its seal signed by the issuing consular
        service's current key. Raises `VisaNotFound` when no visa was issued on the application."""
        visa = file.visa
        if visa is None:
            raise VisaNotFound(f"no visa was issued on application {file.id}")
        a = file.applicant
        document = EVisa(
            number=visa.number,
            issuing_state=visa.issuing_state,
            issuing_office=visa.issuing_office,
            issuing_office_name=f"Consular service of {self.country_name(visa.issuing_state)}",
            surname=a.surname,
            given_names=a.given_names,
            native_name=a.native_name,
            nationality=a.nationality,
            date_of_birth=a.date_of_birth,
            sex=a.sex.value,
            passport_number=a.passport_number,
            valid_from=visa.terms.valid_from,
            valid_until=visa.terms.valid_until,
            duration_of_stay_days=visa.terms.duration_of_stay_days,
            entries=visa.terms.entries.value,
            states=visa.terms.states,
            excluded_states=visa.terms.excluded_states,
            mrz=visa.mrz,
            seal=issue_for(visa, a.passport_number, self.notary.office_key(visa.issuing_office)),
            issued_at=visa.issued_at,
        )
        return render_visa_document(document, lang)

    def revocation_list(self) -> RevocationList:
        return self.notary.revocation_list(self.clock.now(), self.visa_queries.revoked())

    def purge(self) -> tuple[int, int]:
        """Erase personal data past its retention period; returns (visa files, alerts) purged."""
        now = self.clock.now()
        with self.uow() as uow:
            purged = uow.visas.purge(now.date(), now)
            uow.commit()
        return purged

    def establish_trust(self) -> int:
        """Keys for every member state, office and this node, where missing (idempotent); how many were made."""
        with self.uow() as uow:
            created = Authority(uow.keys, self.notary.vault).establish(self.offices_by_state(), now=self.clock.now())
            self._share_sections(uow)
            uow.commit()
        return created

    def _share_sections(self, uow: SqlUnitOfWork) -> None:
        for state in self.served_states:
            uow.outbox.share_section(state, at=self.clock.now())

    def own_root(self) -> str:
        """The key id of this node's state root: what its peers pin at the key ceremony."""
        with self.uow() as uow:
            found = uow.keys.root(self.settings.node_state)
        if found is None:
            raise NotFound(f"no root key for {self.settings.node_state} yet; run `silkway trust init`")
        return found[0].key_id

    def pin_peer(self, state: str, root_key_id: str) -> bool:
        """Trust `state`'s section by its root key id (read out at the key ceremony) and start sharing with it:
        this node's own section goes to it first. Returns whether anything changed."""
        state = state.strip().upper()
        if state == self.settings.node_state:
            raise InvalidInput("a node does not pin its own state", fields={"state": "this node's own state"})
        if state not in dict.fromkeys([*self.reference.member_states, *self.scheme.states]):
            raise InvalidInput(f"{state} is in neither scheme", fields={"state": "not a member state"})
        if len(root_key_id) != 32 or any(c not in "0123456789abcdef" for c in root_key_id):
            raise InvalidInput("a root key id is 32 lower-case hex digits", fields={"root_key_id": "malformed"})
        with self.uow() as uow:
            changed = uow.pins.pin(state, root_key_id, at=self.clock.now())
            uow.outbox.share_section(self.settings.node_state, at=self.clock.now(), only=[state])
            uow.commit()
        return changed

    def unpin_peer(self, state: str) -> int:
        """`state` leaves the scheme, as seen from this node: nothing more is shared with it or accepted from it.
        Returns how many undelivered events to it were withdrawn; what it signed before stays verifiable."""
        with self.uow() as uow:
            if uow.pins.get(state.upper()) is None:
                raise NotFound(f"{state.upper()} is not a peer of this node")
            withdrawn = uow.pins.unpin(state.upper())
            uow.commit()
        return withdrawn

    def rotate_key(self, office: str) -> KeyEntry:
        """A new key for `office`; the old one stays valid for what it signed before now."""
        with self.uow() as uow:
            try:
                entry = Authority(uow.keys, self.notary.vault).rotate(office, now=self.clock.now())
            except UnknownKey as exc:
                raise NotFound(str(exc)) from exc
            self._share_sections(uow)
            uow.commit()
        return entry

    def revoke_key(self, key_id: str, compromised_at: datetime) -> KeyEntry | None:
        """Revoke a compromised key from `compromised_at` on; returns the office's new key if it had one."""
        with self.uow() as uow:
            try:
                entry = Authority(uow.keys, self.notary.vault).revoke(
                    key_id, compromised_at=compromised_at, now=self.clock.now()
                )
            except UnknownKey as exc:
                raise NotFound(str(exc)) from exc
            self._share_sections(uow)
            uow.commit()
        return entry

    def stored_response(self, owner: str, key: str) -> tuple[str, StoredResponse | None] | None:
        """The fingerprint and first answer of an Idempotency-Key, if it was used."""
        return self.queries.stored_response(owner, key)

    def remember_response(self, owner: str, key: str, response: StoredResponse) -> None:
        """Keep the answer given for a claimed Idempotency-Key, to replay it on a retry."""
        with self.uow() as uow:
            uow.idempotency.answer(owner, key, response)
            uow.commit()
