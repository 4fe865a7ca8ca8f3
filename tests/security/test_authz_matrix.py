"""The authorization matrix: every route of the app, and which principals it lets through.

A principal is an account of one of the six roles acting in the resource's *own* state, the same role in a
state with *no part* in the resource, or an anonymous caller. The resources belong to Kazakhstan: a transit
leaving from Almaty, a visa application lodged at the Kazakh consulate, a visa Kazakhstan issued, its risk
rules, accounts and guarantees. So "own" is the KZ account of the role (the holder, carrier-kz, for a
carrier) and "other" the Tajik one. The few rows where the resource's state is another are marked, and
their probe says which two states play the parts.

The policy is the one a mature system of the trade keeps (eTIR and NCTS for transit, the VIS and the Visa
Code for visas), not a transcript of the code: officials see and act on their own state's business only; a
carrier its own transits; a consul decides for its own state and may revoke any visa of the scheme (Visa
Code Art. 34); border guards of every state read a visa valid there; analysts read their own state's
figures; an administrator keeps its own state's accounts, rules and guarantees and the node, and, as the
service's supervisor, reads its state's transits and the scheme's visas and alerts (docs/visas.md; SECURITY.md
lists this among its known gaps). Where the code differs, the cell says what the policy is and the test fails:
that is a finding, to be fixed in src/, never here.

Every cell is checked against the real app (SQLite, migrated, demo accounts, a fixed clock):

- ALLOWED: the request got through and succeeded (2xx, or a redirect to anywhere but the sign-in page or the
  customs officer's choice of office); for a list scoped to the caller's state, the KZ resource is in it.
- DENIED: 401 for an anonymous API caller and a redirect to the sign-in page for an anonymous visitor of a
  page; 403 for a signed-in account; 404 on the routes of `HIDING`, which do not tell whether the resource
  exists; and, for a list scoped to the caller's state, an answer without the KZ resource in it.

Probes that change things get a fresh resource each, so no probe depends on another having run (the module
runs under xdist in any order); bodies are valid, so an allowed probe really succeeds. A route the app serves
without a row in the matrix fails the first test, and so does a row for a route the app does not serve.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx2 import Response
from starlette.routing import Mount

from silkway import bootstrap
from silkway.accounts.handlers import CreateAccount, create_account
from silkway.demo import DEMO_PASSWORD, load_demo
from silkway.documents import read_payloads
from silkway.services import Services
from silkway.settings import Rate, Settings
from silkway.shared.actors import SYSTEM, Actor, Role
from silkway.shared.clock import FixedClock
from silkway.shared.money import Money
from silkway.transit.commands import ControlReport, PutRiskRule, RegisterGuarantee, ReleaseForTransit, SubmitDeclaration
from silkway.transit.handlers import put_risk_rule, register_guarantee, release_for_transit, submit_declaration
from silkway.transit.model import (
    ControlKind,
    ControlOutcome,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
)
from silkway.web.app import create_app
from silkway.web.pages.base import CSRF_COOKIE, CSRF_FIELD, OFFICE_COOKIE, SESSION_COOKIE

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from apiwalk import SEALS, auth, declaration
from visawalk import application

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)

# --- who -----------------------------------------------------------------------------------------------------


class Side(StrEnum):
    """Whose business the resource is: the principal's own state's, or another state's."""

    OWN = "own"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Principal:
    """A role acting in the resource's own state or in another one; no role is the anonymous caller."""

    role: Role | None = None
    side: Side | None = None

    def __str__(self) -> str:
        return "anonymous" if self.role is None else f"{self.role.value}/{self.side}"


ANONYMOUS = Principal()
PRINCIPALS = (*(Principal(role, side) for role in Role for side in Side), ANONYMOUS)

Policy = frozenset[Principal]


def own(*roles: Role) -> Policy:
    """These roles, acting in the resource's own state only."""
    return frozenset(Principal(role, Side.OWN) for role in roles)


def every_state(*roles: Role) -> Policy:
    """These roles in any state: the route serves each state its own data, or data the scheme shares."""
    return frozenset(Principal(role, side) for role in roles for side in Side)


PUBLIC: Policy = frozenset(PRINCIPALS)
SIGNED_IN: Policy = every_state(*Role)
SECRET_ONLY: Policy = frozenset()
"""No account opens it: the traveller's secret does (status token, passport number); see `Probe.secret`."""

CARRIER, CUSTOMS, GUARD = Role.CARRIER, Role.CUSTOMS, Role.BORDER_GUARD
CONSUL, ANALYST, ADMIN = Role.CONSULAR, Role.ANALYST, Role.ADMIN

# --- the matrix ----------------------------------------------------------------------------------------------

Route = tuple[str, str]

MATRIX: dict[Route, Policy] = {
    # accounts and reference data
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("GET", "/api/v1/auth/me"): SIGNED_IN,
    ("GET", "/api/v1/states"): PUBLIC,
    ("GET", "/api/v1/offices"): PUBLIC,
    ("GET", "/api/v1/offices/{code}"): PUBLIC,
    ("GET", "/api/v1/crossings"): PUBLIC,
    ("GET", "/api/v1/hs"): PUBLIC,
    ("GET", "/api/v1/hs/{code}"): PUBLIC,
    # transits: the holder and the customs of the states on the route; acts at an office by its customs only
    ("POST", "/api/v1/transits"): every_state(CARRIER),
    # a state's admin supervises its customs service: it reads the transits that concern its state
    ("GET", "/api/v1/transits"): own(CARRIER, CUSTOMS, ADMIN),
    ("GET", "/api/v1/transits/{mrn}"): own(CARRIER, CUSTOMS, ADMIN),
    ("POST", "/api/v1/transits/{mrn}/release"): own(CUSTOMS),
    ("POST", "/api/v1/transits/{mrn}/refusal"): own(CUSTOMS),
    ("POST", "/api/v1/transits/{mrn}/cancellation"): own(CARRIER, CUSTOMS),
    ("POST", "/api/v1/transits/{mrn}/presentations"): own(CUSTOMS),
    ("POST", "/api/v1/transits/{mrn}/controls"): own(CUSTOMS),
    ("POST", "/api/v1/transits/{mrn}/passages"): own(CUSTOMS),
    ("POST", "/api/v1/transits/{mrn}/incidents"): own(CARRIER, CUSTOMS),
    ("POST", "/api/v1/transits/{mrn}/arrival"): own(CUSTOMS),  # own: KG, the state of destination
    ("POST", "/api/v1/transits/{mrn}/discharge"): own(CUSTOMS),  # own: KG, the state of destination
    ("GET", "/api/v1/transits/{mrn}/document"): own(CARRIER, CUSTOMS, ADMIN),
    # the trust core: keys and hashes, never the content of a record
    ("POST", "/api/v1/verify"): PUBLIC,
    ("GET", "/api/v1/trust-list"): PUBLIC,
    ("GET", "/api/v1/log/tree-head"): PUBLIC,
    ("GET", "/api/v1/log/proofs/inclusion"): PUBLIC,
    ("GET", "/api/v1/log/proofs/consistency"): PUBLIC,
    ("GET", "/api/v1/log/entries"): PUBLIC,
    # visas: the competent (or a consulted) state examines; any consul revokes; guards of any state read a visa
    ("POST", "/api/v1/visa-applications"): PUBLIC,
    ("GET", "/api/v1/visa-applications/{application_id}"): own(CONSUL),
    ("GET", "/api/v1/visa-applications/{application_id}/data"): SECRET_ONLY,
    ("GET", "/api/v1/visa-applications"): own(CONSUL),
    ("GET", "/api/v1/visa-consultations"): own(CONSUL),  # own: TJ, a consulted state; other: KG
    ("POST", "/api/v1/visa-applications/{application_id}/consultation"): own(CONSUL),  # own: TJ; other: KG
    ("POST", "/api/v1/visa-applications/{application_id}/decision"): own(CONSUL),
    ("GET", "/api/v1/visa-notifications"): own(CONSUL),
    # the scheme shares visas and alerts with every participating state's consuls, guards and admins (docs/visas.md)
    ("POST", "/api/v1/alerts"): every_state(CONSUL, ADMIN),
    ("GET", "/api/v1/alerts"): every_state(CONSUL, GUARD, ADMIN),
    ("GET", "/api/v1/visas/{number}"): every_state(CONSUL, GUARD, ADMIN),
    ("GET", "/api/v1/visas/{number}/seal"): every_state(CONSUL, GUARD, ADMIN),
    ("GET", "/api/v1/visas/{number}/document"): every_state(CONSUL, GUARD, ADMIN),
    ("POST", "/api/v1/visas/{number}/revocation"): every_state(CONSUL),
    ("GET", "/api/v1/visas/{number}/stay"): SECRET_ONLY,
    ("GET", "/api/v1/visa-revocations"): PUBLIC,
    ("GET", "/api/v1/visa-scheme"): PUBLIC,
    ("POST", "/api/v1/border/checks"): own(GUARD),
    ("GET", "/api/v1/overstayers"): every_state(ANALYST, GUARD, ADMIN),  # each state its own overstayers
    # a state's administration: each admin its own state's rules, accounts and guarantees
    ("GET", "/api/v1/risk-rules"): own(CUSTOMS, ADMIN),
    ("PUT", "/api/v1/risk-rules/{rule_id}"): every_state(ADMIN),
    ("DELETE", "/api/v1/risk-rules/{rule_id}"): every_state(ADMIN),
    ("GET", "/api/v1/accounts"): own(ADMIN),
    ("POST", "/api/v1/accounts"): every_state(ADMIN),
    ("POST", "/api/v1/accounts/{username}/unlock"): own(ADMIN),
    # a carrier its own guarantees; customs of any state on a route checks the guarantee (as under eTIR)
    ("GET", "/api/v1/guarantees"): own(CARRIER) | every_state(CUSTOMS, ADMIN),
    ("POST", "/api/v1/guarantees"): every_state(CUSTOMS, ADMIN),
    ("GET", "/api/v1/statistics"): own(ANALYST, ADMIN),
    ("GET", "/api/v1/audit-trail"): own(ADMIN),
    # the node's exchange with its peers
    ("GET", "/api/v1/exchange/status"): every_state(ADMIN),
    ("GET", "/api/v1/exchange/conflicts"): every_state(CUSTOMS, GUARD, CONSUL, ADMIN),
    ("GET", "/api/v1/exchange/rejections"): every_state(ADMIN),
    # pages: signing in
    ("GET", "/"): PUBLIC,
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,
    ("POST", "/signout"): PUBLIC,
    # pages: the carrier
    ("GET", "/carrier/transits"): own(CARRIER),
    ("GET", "/carrier/transits/new"): every_state(CARRIER),
    ("POST", "/carrier/transits/new"): every_state(CARRIER),
    ("GET", "/carrier/transits/{mrn}"): own(CARRIER),
    ("POST", "/carrier/transits/{mrn}/cancel"): own(CARRIER),
    ("GET", "/carrier/transits/{mrn}/document.pdf"): own(CARRIER),
    # pages: customs, at an office of its own state
    ("GET", "/customs"): every_state(CUSTOMS),
    ("POST", "/customs"): own(CUSTOMS),
    ("GET", "/customs/arrivals"): own(CUSTOMS),
    ("GET", "/customs/lookup"): own(CUSTOMS),
    ("POST", "/customs/lookup"): own(CUSTOMS),
    ("GET", "/customs/transits/{mrn}"): own(CUSTOMS),
    ("POST", "/customs/transits/{mrn}/release"): own(CUSTOMS),
    ("POST", "/customs/transits/{mrn}/refuse"): own(CUSTOMS),
    ("POST", "/customs/transits/{mrn}/present"): own(CUSTOMS),
    ("POST", "/customs/transits/{mrn}/control"): own(CUSTOMS),
    ("POST", "/customs/transits/{mrn}/passage"): own(CUSTOMS),
    ("POST", "/customs/transits/{mrn}/incident"): own(CUSTOMS),
    ("POST", "/customs/transits/{mrn}/discharge"): own(CUSTOMS),  # own: KG, the state of destination
    # pages: the consul
    ("GET", "/consul/applications"): own(CONSUL),
    ("GET", "/consul/applications/{application_id}"): own(CONSUL),
    ("POST", "/consul/applications/{application_id}/decision"): own(CONSUL),
    ("GET", "/consul/consultations"): own(CONSUL),  # own: TJ, a consulted state; other: KG
    ("POST", "/consul/applications/{application_id}/consultation"): own(CONSUL),  # own: TJ; other: KG
    ("GET", "/consul/visas"): every_state(CONSUL),
    ("GET", "/consul/visas/{number}"): every_state(CONSUL),
    ("POST", "/consul/visas/{number}/revocation"): every_state(CONSUL),
    ("GET", "/consul/notifications"): own(CONSUL),
    # pages: the traveller, who has no account
    ("GET", "/visa/apply"): PUBLIC,
    ("POST", "/visa/apply"): PUBLIC,
    ("GET", "/visa/apply/mrz-name"): PUBLIC,
    ("GET", "/visa/status/{application_id}/lodged"): SECRET_ONLY,
    ("GET", "/visa/status/{application_id}"): SECRET_ONLY,
    ("GET", "/visa/status/{application_id}/evisa.pdf"): SECRET_ONLY,
    ("GET", "/visa/status/{application_id}/data"): SECRET_ONLY,
    # pages: the border guard, at a post of its own state
    ("GET", "/border"): every_state(GUARD),
    ("POST", "/border"): own(GUARD),
    ("POST", "/border/decode"): every_state(GUARD),
    # pages: figures and administration
    ("GET", "/analyst"): every_state(ANALYST, ADMIN),
    ("GET", "/admin/offices"): every_state(ADMIN),
    ("GET", "/admin/accounts"): own(ADMIN),
    ("POST", "/admin/accounts"): every_state(ADMIN),
    ("POST", "/admin/accounts/{username}/unlock"): own(ADMIN),
    ("GET", "/admin/audit-trail.jsonl"): own(ADMIN),
    ("GET", "/admin/risk-rules"): own(ADMIN),
    ("POST", "/admin/risk-rules"): every_state(ADMIN),
    ("POST", "/admin/risk-rules/delete"): every_state(ADMIN),
    # the framework's own
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
}

HIDING: frozenset[Route] = frozenset(
    {
        # another state's account is "not found" to an admin: its username tells nothing
        ("POST", "/api/v1/accounts/{username}/unlock"),
        ("POST", "/admin/accounts/{username}/unlock"),
        # another holder's or another state's transit is "not found", so its MRN tells nothing
        ("GET", "/api/v1/transits/{mrn}"),
        ("GET", "/api/v1/transits/{mrn}/document"),
        ("POST", "/api/v1/transits/{mrn}/cancellation"),
        ("POST", "/api/v1/transits/{mrn}/incidents"),
        ("GET", "/carrier/transits/{mrn}"),
        ("POST", "/carrier/transits/{mrn}/cancel"),
        ("GET", "/carrier/transits/{mrn}/document.pdf"),
        ("GET", "/customs/lookup"),
        ("POST", "/customs/lookup"),
        ("GET", "/customs/transits/{mrn}"),
        ("POST", "/customs/transits/{mrn}/release"),
        ("POST", "/customs/transits/{mrn}/refuse"),
        ("POST", "/customs/transits/{mrn}/present"),
        ("POST", "/customs/transits/{mrn}/control"),
        ("POST", "/customs/transits/{mrn}/passage"),
        ("POST", "/customs/transits/{mrn}/incident"),
        ("POST", "/customs/transits/{mrn}/discharge"),
        # an application or a visa is "not found" without its secret, as if it did not exist
        ("GET", "/api/v1/visa-applications/{application_id}"),
        ("GET", "/api/v1/visa-applications/{application_id}/data"),
        ("GET", "/api/v1/visas/{number}"),
        ("GET", "/api/v1/visas/{number}/seal"),
        ("GET", "/api/v1/visas/{number}/document"),
        ("GET", "/api/v1/visas/{number}/stay"),
        ("GET", "/visa/status/{application_id}/lodged"),
        ("GET", "/visa/status/{application_id}"),
        ("GET", "/visa/status/{application_id}/evisa.pdf"),
        ("GET", "/visa/status/{application_id}/data"),
    }
)
"""Routes that may also deny with 404, as if the resource did not exist. Elsewhere a 404 is neither an allowance
nor a refusal: every probe's resource exists."""

UNPROBED: dict[Route, str] = {
    ("MOUNT", "/static"): "the style sheets, scripts and images of the pages: the same files for everyone",
}
"""Served, but outside the matrix, each with the reason."""

# --- the world the probes act in ----------------------------------------------------------------------------

FRESH_ROUTE = ("KZ-ALA-ZHETYSU", "KZ-KORDAY", "KG-AKJOL", "KG-BISHKEK-CENTRAL")
"""The route of the transits the probes change: Almaty → Korday / Ak-Jol → Bishkek (no part in Tajikistan)."""
SHARED_ROUTE = ("KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-TAS-CUSTOMS")
"""The route of the one transit the probes only read: Almaty → Zhibek Zholy / Gishtkuprik → Tashkent."""
HOME_DESK = {"KZ": "KZ-ALA-ZHETYSU", "TJ": "TJ-DUSHANBE-HQ", "KG": "KG-BISHKEK-CENTRAL"}
"""Where each state's customs officer works, unless a probe names the own state's desk."""
GUARANTEE = {"carrier-kz": "GRN-KZ-0001", "carrier-tj": "GRN-TJ-0001"}
CSRF = "probe-csrf-token"
ISSUE = {
    "decision": "issue",
    "valid_from": "2026-12-01",
    "valid_until": "2027-02-28",
    "duration_of_stay_days": 60,
    "entries": "multiple",
}
REVOKE = {"grounds": ["threat"], "reason": "new facts came to light"}
RULE = {"description": "Arms and ammunition (HS 93): physical inspection", "hs_prefix": "93"}
"""A risk rule the probes' goods (laptops, HS 84) never meet, so no vehicle is sent to an inspection by it."""
USERNAME_PREFIX = {
    CARRIER: "carrier",
    CUSTOMS: "customs",
    GUARD: "border",
    CONSUL: "consul",
    ANALYST: "analyst",
    ADMIN: "admin",
}
"""How the demo names its accounts: ``customs-kz``, ``border-tj``, ``consul-kg``."""


def username(role: Role, state: str) -> str:
    return f"{USERNAME_PREFIX[role]}-{state.lower()}"


def actor(role: Role, state: str) -> Actor:
    return Actor(username=username(role, state), role=role, country=state)


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    role: Role
    state: str


Who = Account | None
"""The account a probe is sent as; None for the anonymous caller."""


def routes_of(app: FastAPI) -> set[Route]:
    """(method, path) of every route of `app`, a mount as ("MOUNT", path). HEAD beside GET is left out:
    Starlette answers it for every GET, with the GET's rights."""
    found: set[Route] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found.add(("MOUNT", str(route.path)))
            continue
        methods = set(route.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")
        found |= {(method, str(route.path)) for method in methods}
    return found


def transit_body(who: Who) -> dict[str, Any]:
    """A declaration over the fresh route, on the declaring carrier's own guarantee."""
    reference = GUARANTEE.get("" if who is None else who.username, GUARANTEE["carrier-kz"])
    guarantee = {"reference": reference, "amount": "100.00", "currency": "USD"}
    return declaration(itinerary=list(FRESH_ROUTE), guarantee=guarantee)


@dataclass(slots=True)
class World:
    """The app over one migrated database for the module: the demo accounts, the KZ resources the probes only
    read (set by `build`), and a maker of a fresh resource for each probe that changes one."""

    services: Services
    app: FastAPI
    client: TestClient
    served: set[Route] = field(default_factory=set)
    tokens: dict[str, str] = field(default_factory=dict)
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    rule: str = "kz-arms"
    """A risk rule of Kazakhstan's."""
    transit: str = ""
    """Held by carrier-kz, released at Almaty for Tashkent: neither Tajikistan nor Kyrgyzstan has a part in it."""
    transit_document: bytes = b""
    """Its accompanying document (PDF), whose QR code a customs officer photographs."""
    transit_seal: str = ""
    refused_application: str = ""
    """Lodged with Kazakhstan and refused: the only refused one in the consuls' queues."""
    refused_token: str = ""
    consulted_application: str = ""
    """Lodged with Kazakhstan; Tajikistan is consulted on it, Kyrgyzstan is not."""
    visa: str = ""
    """Issued by Kazakhstan on `visa_application`, a uniform visa: valid in Tajikistan too."""
    visa_application: str = ""
    visa_token: str = ""
    visa_passport: str = ""
    visa_seal_png: bytes = b""
    revoked_visa: str = ""
    """Issued by Kazakhstan, revoked by Uzbekistan: Kazakhstan's consuls are notified."""
    leaf_hash: str = ""
    tree_size: int = 0

    def build(self) -> None:
        self.served = routes_of(self.app)
        services = self.services
        for state in ("TJ", "KG"):  # the demo has a carrier in Kazakhstan only
            create_account(
                CreateAccount(
                    actor=SYSTEM, username=username(CARRIER, state), password=DEMO_PASSWORD, role=CARRIER, country=state
                ),
                uow=services.uow(),
                clock=services.clock,
                hasher=services.hasher,
            )
        register_guarantee(
            RegisterGuarantee(
                actor=actor(ADMIN, "TJ"),
                reference=GUARANTEE["carrier-tj"],
                holder="carrier-tj",
                cover=Money.of("500000.00", "USD"),
                valid_until=NOW + timedelta(days=3 * 365),
            ),
            uow=services.uow(),
            clock=services.clock,
            places=services.places,
        )
        put_risk_rule(
            PutRiskRule(actor=actor(ADMIN, "KZ"), id=self.rule, **RULE),
            uow=services.uow(),
            clock=services.clock,
            places=services.places,
        )
        self.transit = self._shared_transit()
        document = self.client.get(
            f"/api/v1/transits/{self.transit}/document", params={"lang": "en"}, headers=self.bearer("carrier-kz")
        )
        assert document.status_code == 200, document.text
        self.transit_document = document.content
        self.transit_seal = read_payloads(self.transit_document)[0]
        self.refused_application, self.refused_token = self.lodged_with_token()
        refusal = {"decision": "refuse", "grounds": ["threat"]}
        self.act(f"/api/v1/visa-applications/{self.refused_application}/decision", "consul-kz", refusal)
        self.consulted_application = self.for_consultation()
        self.visa_passport = self.passport()
        self.visa_application, self.visa_token = self.lodged_with_token(self.visa_passport)
        decided = self.act(f"/api/v1/visa-applications/{self.visa_application}/decision", "consul-kz", ISSUE)
        self.visa = decided["visa_number"]
        png = self.client.get(
            f"/api/v1/visas/{self.visa}/seal", params={"format": "png", "passport_number": self.visa_passport}
        )
        assert png.status_code == 200, png.text
        self.visa_seal_png = png.content
        self.revoked_visa = self.issued()
        self.act(f"/api/v1/visas/{self.revoked_visa}/revocation", "consul-uz", REVOKE)  # Kazakhstan is notified
        self.tree_size = self.client.get("/api/v1/log/tree-head").json()["tree_size"]
        entries = self.client.get("/api/v1/log/entries", params={"start": 0, "end": 1}).json()["entries"]
        self.leaf_hash = entries[0]["leaf_hash"]

    # signing in, once per account

    def token(self, name: str) -> str:
        if name not in self.tokens:
            self.tokens[name] = auth(self.client, name)["Authorization"].removeprefix("Bearer ")
        return self.tokens[name]

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}

    def act(self, path: str, name: str | None, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        """A step of setting up, through the API as `name` (None: no account), that must succeed."""
        response = self.client.post(path, json=body, headers=self.bearer(name) if name else {})
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    # transits

    def _shared_transit(self) -> str:
        """The transit the reading probes look at, released at Almaty. It is dated an hour after all the probes
        make, so it heads every newest-first list however many transits they add."""
        services = self.services
        later = FixedClock(services.clock.now() + timedelta(hours=1))
        laptops = GoodsItem(
            hs_code="847130",
            description="Laptops",
            packages=40,
            gross_mass_kg=Decimal("800.0"),
            value=Money.of("60000.00", "USD"),
        )
        number = submit_declaration(
            SubmitDeclaration(
                actor=actor(CARRIER, "KZ"),
                declaration=Declaration(
                    holder="carrier-kz",
                    vehicle=Vehicle(plate="777KZA02", country="KZ"),
                    containers=(),
                    itinerary=Itinerary(offices=SHARED_ROUTE),
                    goods=(laptops,),
                    guarantee=GuaranteeCommitment(reference=GUARANTEE["carrier-kz"], amount=Money.of("100.00", "USD")),
                ),
            ),
            uow=services.uow(),
            clock=later,
            places=services.places,
        )
        release_for_transit(
            ReleaseForTransit(
                actor=actor(CUSTOMS, "KZ"),
                mrn=number,
                office=SHARED_ROUTE[0],
                seals=tuple(SEALS),
                control=ControlReport(kind=ControlKind.PHYSICAL, outcome=ControlOutcome.SATISFACTORY),
            ),
            uow=services.uow(),
            clock=later,
            places=services.places,
        )
        return str(number)

    def submitted(self) -> str:
        return str(self.act("/api/v1/transits", "carrier-kz", transit_body(None), expect=201)["mrn"])

    def released(self) -> str:
        number = self.submitted()
        control = {"kind": "physical", "result": "satisfactory"}
        body = {"office": FRESH_ROUTE[0], "seals": SEALS, "control": control}
        self.act(f"/api/v1/transits/{number}/release", "customs-kz", body)
        return number

    def presented(self) -> str:
        """Released, and presented at Korday (green: the control at Almaty is recognised)."""
        number = self.released()
        self.act(f"/api/v1/transits/{number}/presentations", "customs-kz", {"office": FRESH_ROUTE[1], "seals": SEALS})
        return number

    def at_destination(self) -> str:
        """Out of Kazakhstan at Korday and into Kyrgyzstan at Ak-Jol: on its way to Bishkek."""
        number = self.presented()
        self.act(f"/api/v1/transits/{number}/passages", "customs-kz", {"office": FRESH_ROUTE[1]})
        self.act(f"/api/v1/transits/{number}/presentations", "customs-kg", {"office": FRESH_ROUTE[2], "seals": SEALS})
        self.act(f"/api/v1/transits/{number}/passages", "customs-kg", {"office": FRESH_ROUTE[2]})
        return number

    def arrived(self) -> str:
        number = self.at_destination()
        self.act(f"/api/v1/transits/{number}/arrival", "customs-kg", {"office": FRESH_ROUTE[3], "seals": SEALS})
        return number

    # visas

    def passport(self) -> str:
        return f"P{next(self.serial):07d}"

    def lodged_with_token(self, passport: str | None = None, **changes: Any) -> tuple[str, str]:
        body = application(passport_number=passport or self.passport(), **changes)
        lodged = self.act("/api/v1/visa-applications", None, body, expect=201)
        return str(lodged["id"]), str(lodged["status_token"])

    def lodged(self) -> str:
        """An application lodged with Kazakhstan, on which no state is consulted."""
        return self.lodged_with_token()[0]

    def for_consultation(self) -> str:
        """An Afghan's application lodged with Kazakhstan: Tajikistan (with Uzbekistan, Turkmenistan and Russia) is
        consulted on it, Kyrgyzstan is not."""
        afghan = {"nationality": "AFG", "surname": "KARIMI", "given_names": "AHMAD", "native_name": None, "sex": "M"}
        return self.lodged_with_token(**afghan)[0]

    def issued(self) -> str:
        decided = self.act(f"/api/v1/visa-applications/{self.lodged()}/decision", "consul-kz", ISSUE)
        return str(decided["visa_number"])

    # risk rules

    def rule_of(self, state: str) -> str:
        """A new risk rule of `state`, by its admin; its id."""
        rule = f"probe-{next(self.serial)}"
        put_risk_rule(
            PutRiskRule(actor=actor(ADMIN, state), id=rule, **RULE),
            uow=self.services.uow(),
            clock=self.services.clock,
            places=self.services.places,
        )
        return rule


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = f"sqlite:///{tmp_path_factory.mktemp('authz') / 'silkway.db'}"
    bootstrap.migrate(url)
    # the probes lodge over a hundred visa applications from the test client's one address, more than an address
    # may in an hour: that limit is tested elsewhere, and is not what the matrix is about
    settings = Settings(env="test", database_url=url, visa_applications_per_address=Rate(count=10_000, seconds=3600))
    services = bootstrap.build(settings, clock=FixedClock(NOW))
    services.establish_trust()
    load_demo(services)
    app = create_app(services)
    with TestClient(app) as client:
        built = World(services=services, app=app, client=client)
        built.build()
        yield built
    services.close()


# --- the probes ----------------------------------------------------------------------------------------------

Fill = Callable[[World, Who], dict[str, Any]]
"""Path parameters, a query or a body, made for one probe from the world and the account sending it."""


def nothing(w: World, who: Who) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """How to call a route: its path parameters, query, JSON body (API) or form (page, the CSRF field added),
    uploads, and which two states play "own" and "other"."""

    params: Fill = nothing
    query: Fill = nothing
    body: Fill | None = None
    files: Fill | None = None
    desk: str | None = None
    """The office the own state's customs officer works at (the page's office cookie); else `HOME_DESK`."""
    states: tuple[str, str] = ("KZ", "TJ")
    shows: Callable[[World], str] | None = None
    """What only the allowed find in a list that answers everyone, each with its own state's part."""
    secret: Fill | None = None
    """The query that opens the route to its traveller, who has no account (see the last test)."""


def given(**values: Any) -> Fill:
    """The same values for every probe."""
    return lambda w, who: values


def shared(**attributes: str) -> Fill:
    """Values of the resources every probe reads: ``shared(mrn="transit")`` is the world's `transit`."""
    return lambda w, who: {name: getattr(w, attribute) for name, attribute in attributes.items()}


def fresh(**makers: Callable[[World], str]) -> Fill:
    """A resource made for this probe alone: ``fresh(mrn=World.submitted)``."""
    return lambda w, who: {name: make(w) for name, make in makers.items()}


def declared(w: World, who: Who) -> dict[str, Any]:
    return transit_body(who)


def declaration_form(w: World, who: Who) -> dict[str, Any]:
    body = transit_body(who)
    goods = body["goods"][0]
    return {
        "vehicle.plate": body["vehicle"]["plate"],
        "vehicle.country": body["vehicle"]["country"],
        "departure": FRESH_ROUTE[0],
        "crossing[0].exit": FRESH_ROUTE[1],
        "crossing[0].entry": FRESH_ROUTE[2],
        "destination": FRESH_ROUTE[3],
        "goods[0].hs_code": goods["hs_code"],
        "goods[0].description": goods["description"],
        "goods[0].packages": str(goods["packages"]),
        "goods[0].gross_mass_kg": goods["gross_mass_kg"],
        "goods[0].value.amount": goods["value"]["amount"],
        "goods[0].value.currency": goods["value"]["currency"],
        "guarantee.reference": body["guarantee"]["reference"],
        "guarantee.amount": body["guarantee"]["amount"],
        "guarantee.currency": body["guarantee"]["currency"],
    }


def applied(w: World, who: Who) -> dict[str, Any]:
    return application(passport_number=w.passport())


def application_form(w: World, who: Who) -> dict[str, Any]:
    body = application(passport_number=w.passport())
    return {**body, **{f"states[{i}]": state for i, state in enumerate(body.pop("states"))}}


def own_rule(w: World, who: Who) -> dict[str, Any]:
    """A rule of the prober's own state, made for this probe: each admin deletes its own state's rules."""
    return {"rule_id": w.rule_of("KZ" if who is None else who.state)}


def new_account(prefix: str) -> Fill:
    def body(w: World, who: Who) -> dict[str, Any]:
        name = f"{prefix}-{'anonymous' if who is None else who.username}"
        return {"username": name, "password": "probe-password", "role": "analyst"}

    return body


def new_guarantee(w: World, who: Who) -> dict[str, Any]:
    return {
        "reference": f"GRN-PROBE-{next(w.serial)}",
        "holder": "carrier-kz",
        "cover": {"amount": "1000.00", "currency": "USD"},
        "valid_until": "2029-11-21T00:00:00Z",
    }


def border_check(w: World, who: Who) -> dict[str, Any]:
    return {"office": "KZ-KORDAY", "direction": "entry", "visa_number": w.visa, "passport_number": w.visa_passport}


def transit_document(w: World, who: Who) -> dict[str, Any]:
    return {"photo": ("document.pdf", w.transit_document, "application/pdf")}


def seal_photo(w: World, who: Who) -> dict[str, Any]:
    return {"frame": ("frame.png", w.visa_seal_png, "image/png")}


SEALED = " ".join(SEALS)

PROBES: dict[Route, Probe] = {
    ("POST", "/api/v1/auth/token"): Probe(body=given(username="carrier-kz", password=DEMO_PASSWORD)),
    ("GET", "/api/v1/auth/me"): Probe(),
    ("GET", "/api/v1/states"): Probe(),
    ("GET", "/api/v1/offices"): Probe(query=given(country="KZ", kind="border")),
    ("GET", "/api/v1/offices/{code}"): Probe(params=given(code="KZ-KORDAY")),
    ("GET", "/api/v1/crossings"): Probe(),
    ("GET", "/api/v1/hs"): Probe(query=given(q="laptop")),
    ("GET", "/api/v1/hs/{code}"): Probe(params=given(code="847130")),
    ("POST", "/api/v1/transits"): Probe(body=declared),
    ("GET", "/api/v1/transits"): Probe(shows=lambda w: w.transit),
    ("GET", "/api/v1/transits/{mrn}"): Probe(params=shared(mrn="transit")),
    ("POST", "/api/v1/transits/{mrn}/release"): Probe(
        params=fresh(mrn=World.submitted),
        body=given(office=FRESH_ROUTE[0], seals=SEALS, control={"kind": "physical", "result": "satisfactory"}),
    ),
    ("POST", "/api/v1/transits/{mrn}/refusal"): Probe(
        params=fresh(mrn=World.submitted), body=given(office=FRESH_ROUTE[0], reason="incomplete documents")
    ),
    ("POST", "/api/v1/transits/{mrn}/cancellation"): Probe(
        params=fresh(mrn=World.submitted), body=given(reason="the contract fell through")
    ),
    ("POST", "/api/v1/transits/{mrn}/presentations"): Probe(
        params=fresh(mrn=World.released), body=given(office=FRESH_ROUTE[1], seals=SEALS)
    ),
    ("POST", "/api/v1/transits/{mrn}/controls"): Probe(
        params=fresh(mrn=World.presented),
        body=given(office=FRESH_ROUTE[1], kind="scan", result="satisfactory", seals=SEALS),
    ),
    ("POST", "/api/v1/transits/{mrn}/passages"): Probe(
        params=fresh(mrn=World.presented), body=given(office=FRESH_ROUTE[1])
    ),
    ("POST", "/api/v1/transits/{mrn}/incidents"): Probe(
        params=fresh(mrn=World.released),
        body=given(office=FRESH_ROUTE[1], kind="accident", description="a tyre burst", seals=SEALS),
    ),
    ("POST", "/api/v1/transits/{mrn}/arrival"): Probe(
        params=fresh(mrn=World.at_destination), body=given(office=FRESH_ROUTE[3], seals=SEALS), states=("KG", "TJ")
    ),
    ("POST", "/api/v1/transits/{mrn}/discharge"): Probe(
        params=fresh(mrn=World.arrived), body=given(office=FRESH_ROUTE[3]), states=("KG", "TJ")
    ),
    ("GET", "/api/v1/transits/{mrn}/document"): Probe(params=shared(mrn="transit"), query=given(lang="en")),
    ("POST", "/api/v1/verify"): Probe(body=shared(payload="transit_seal")),
    ("GET", "/api/v1/trust-list"): Probe(),
    ("GET", "/api/v1/log/tree-head"): Probe(),
    ("GET", "/api/v1/log/proofs/inclusion"): Probe(query=shared(leaf_hash="leaf_hash", tree_size="tree_size")),
    ("GET", "/api/v1/log/proofs/consistency"): Probe(query=lambda w, who: {"first": 1, "second": w.tree_size}),
    ("GET", "/api/v1/log/entries"): Probe(query=given(start=0, end=2)),
    ("POST", "/api/v1/visa-applications"): Probe(body=applied),
    ("GET", "/api/v1/visa-applications/{application_id}"): Probe(
        params=shared(application_id="refused_application"), secret=shared(token="refused_token")
    ),
    ("GET", "/api/v1/visa-applications/{application_id}/data"): Probe(
        params=shared(application_id="visa_application"),
        query=given(token="not-the-status-token"),
        secret=shared(token="visa_token"),
    ),
    ("GET", "/api/v1/visa-applications"): Probe(
        query=given(status="refused", limit=200), shows=lambda w: w.refused_application
    ),
    ("GET", "/api/v1/visa-consultations"): Probe(states=("TJ", "KG"), shows=lambda w: w.consulted_application),
    ("POST", "/api/v1/visa-applications/{application_id}/consultation"): Probe(
        params=fresh(application_id=World.for_consultation), body=given(objection=False), states=("TJ", "KG")
    ),
    ("POST", "/api/v1/visa-applications/{application_id}/decision"): Probe(
        params=fresh(application_id=World.lodged), body=given(**ISSUE)
    ),
    ("GET", "/api/v1/visa-notifications"): Probe(shows=lambda w: w.revoked_visa),
    ("POST", "/api/v1/alerts"): Probe(body=given(name="Probe Alertperson", reason="an authorization probe")),
    ("GET", "/api/v1/alerts"): Probe(),
    ("GET", "/api/v1/visas/{number}"): Probe(
        params=shared(number="visa"), secret=shared(passport_number="visa_passport")
    ),
    ("GET", "/api/v1/visas/{number}/seal"): Probe(
        params=shared(number="visa"), secret=shared(passport_number="visa_passport")
    ),
    ("GET", "/api/v1/visas/{number}/document"): Probe(
        params=shared(number="visa"), query=given(lang="en"), secret=shared(passport_number="visa_passport")
    ),
    ("POST", "/api/v1/visas/{number}/revocation"): Probe(params=fresh(number=World.issued), body=given(**REVOKE)),
    ("GET", "/api/v1/visas/{number}/stay"): Probe(
        params=shared(number="visa"),
        query=given(passport_number="X0000000"),
        secret=shared(passport_number="visa_passport"),
    ),
    ("GET", "/api/v1/visa-revocations"): Probe(),
    ("GET", "/api/v1/visa-scheme"): Probe(),
    ("POST", "/api/v1/border/checks"): Probe(body=lambda w, who: {**border_check(w, who), "record": False}),
    ("GET", "/api/v1/overstayers"): Probe(),
    ("GET", "/api/v1/risk-rules"): Probe(shows=lambda w: w.rule),
    ("PUT", "/api/v1/risk-rules/{rule_id}"): Probe(params=given(rule_id="probe-put"), body=given(**RULE)),
    ("DELETE", "/api/v1/risk-rules/{rule_id}"): Probe(params=own_rule),
    ("GET", "/api/v1/accounts"): Probe(shows=lambda w: '"customs-kz"'),
    ("POST", "/api/v1/accounts"): Probe(body=new_account("api")),
    ("POST", "/api/v1/accounts/{username}/unlock"): Probe(params=given(username="customs-kz")),
    ("GET", "/api/v1/guarantees"): Probe(shows=lambda w: GUARANTEE["carrier-kz"]),
    ("POST", "/api/v1/guarantees"): Probe(body=new_guarantee),
    ("GET", "/api/v1/statistics"): Probe(shows=lambda w: '"country":"KZ"'),
    ("GET", "/api/v1/audit-trail"): Probe(shows=lambda w: "customs-kz"),
    ("GET", "/api/v1/exchange/status"): Probe(),
    ("GET", "/api/v1/exchange/conflicts"): Probe(),
    ("GET", "/api/v1/exchange/rejections"): Probe(),
    ("GET", "/"): Probe(),
    ("GET", "/signin"): Probe(),
    ("POST", "/signin"): Probe(body=given(username="carrier-kz", password=DEMO_PASSWORD)),
    ("POST", "/signout"): Probe(body=given()),
    ("GET", "/carrier/transits"): Probe(shows=lambda w: w.transit),
    ("GET", "/carrier/transits/new"): Probe(),
    ("POST", "/carrier/transits/new"): Probe(body=declaration_form),
    ("GET", "/carrier/transits/{mrn}"): Probe(params=shared(mrn="transit")),
    ("POST", "/carrier/transits/{mrn}/cancel"): Probe(
        params=fresh(mrn=World.submitted), body=given(reason="the contract fell through")
    ),
    ("GET", "/carrier/transits/{mrn}/document.pdf"): Probe(params=shared(mrn="transit"), query=given(lang="en")),
    ("GET", "/customs"): Probe(),
    ("POST", "/customs"): Probe(body=given(office="KZ-KORDAY")),
    ("GET", "/customs/arrivals"): Probe(desk=SHARED_ROUTE[1], shows=lambda w: w.transit),
    ("GET", "/customs/lookup"): Probe(query=shared(mrn="transit")),
    ("POST", "/customs/lookup"): Probe(body=given(), files=transit_document),
    ("GET", "/customs/transits/{mrn}"): Probe(params=shared(mrn="transit")),
    ("POST", "/customs/transits/{mrn}/release"): Probe(
        params=fresh(mrn=World.submitted),
        body=given(
            **{"release.seals": SEALED, "release.control.kind": "physical", "release.control.result": "satisfactory"}
        ),
        desk=FRESH_ROUTE[0],
    ),
    ("POST", "/customs/transits/{mrn}/refuse"): Probe(
        params=fresh(mrn=World.submitted),
        body=given(**{"refusal.reason": "incomplete documents"}),
        desk=FRESH_ROUTE[0],
    ),
    ("POST", "/customs/transits/{mrn}/present"): Probe(
        params=fresh(mrn=World.released), body=given(**{"presentation.seals": SEALED}), desk=FRESH_ROUTE[1]
    ),
    ("POST", "/customs/transits/{mrn}/control"): Probe(
        params=fresh(mrn=World.presented),
        body=given(**{"control.kind": "scan", "control.result": "satisfactory", "control.seals": SEALED}),
        desk=FRESH_ROUTE[1],
    ),
    ("POST", "/customs/transits/{mrn}/passage"): Probe(
        params=fresh(mrn=World.presented), body=given(), desk=FRESH_ROUTE[1]
    ),
    ("POST", "/customs/transits/{mrn}/incident"): Probe(
        params=fresh(mrn=World.released),
        body=given(**{"incident.kind": "accident", "incident.description": "a tyre burst"}),
        desk=FRESH_ROUTE[1],
    ),
    ("POST", "/customs/transits/{mrn}/discharge"): Probe(
        params=fresh(mrn=World.arrived), body=given(), desk=FRESH_ROUTE[3], states=("KG", "TJ")
    ),
    ("GET", "/consul/applications"): Probe(query=given(status="refused"), shows=lambda w: w.refused_application),
    ("GET", "/consul/applications/{application_id}"): Probe(params=shared(application_id="refused_application")),
    ("POST", "/consul/applications/{application_id}/decision"): Probe(
        params=fresh(application_id=World.lodged), body=given(**ISSUE)
    ),
    ("GET", "/consul/consultations"): Probe(states=("TJ", "KG"), shows=lambda w: w.consulted_application),
    ("POST", "/consul/applications/{application_id}/consultation"): Probe(
        params=fresh(application_id=World.for_consultation), body=given(objection="no"), states=("TJ", "KG")
    ),
    ("GET", "/consul/visas"): Probe(query=shared(number="visa")),
    ("GET", "/consul/visas/{number}"): Probe(params=shared(number="visa")),
    ("POST", "/consul/visas/{number}/revocation"): Probe(
        params=fresh(number=World.issued), body=given(action="revoke", **REVOKE)
    ),
    ("GET", "/consul/notifications"): Probe(shows=lambda w: w.revoked_visa),
    ("GET", "/visa/apply"): Probe(),
    ("POST", "/visa/apply"): Probe(body=application_form),
    ("GET", "/visa/apply/mrz-name"): Probe(query=given(surname="Sharma", given_names="Priya")),
    ("GET", "/visa/status/{application_id}/lodged"): Probe(
        params=shared(application_id="visa_application"), secret=shared(token="visa_token")
    ),
    ("GET", "/visa/status/{application_id}"): Probe(
        params=shared(application_id="visa_application"), secret=shared(token="visa_token")
    ),
    ("GET", "/visa/status/{application_id}/evisa.pdf"): Probe(
        params=shared(application_id="visa_application"), secret=shared(token="visa_token")
    ),
    ("GET", "/visa/status/{application_id}/data"): Probe(
        params=shared(application_id="visa_application"), secret=shared(token="visa_token")
    ),
    ("GET", "/border"): Probe(),
    ("POST", "/border"): Probe(body=border_check),
    ("POST", "/border/decode"): Probe(body=given(), files=seal_photo),
    ("GET", "/analyst"): Probe(),
    ("GET", "/admin/offices"): Probe(),
    ("GET", "/admin/accounts"): Probe(shows=lambda w: "customs-kz"),
    ("POST", "/admin/accounts/{username}/unlock"): Probe(params=given(username="customs-kz"), body=given()),
    ("GET", "/admin/audit-trail.jsonl"): Probe(shows=lambda w: "customs-kz"),
    ("POST", "/admin/accounts"): Probe(
        body=lambda w, who: {
            **new_account("page")(w, who),
            "display_name": "A probe",
            "password_again": "probe-password",
        }
    ),
    ("GET", "/admin/risk-rules"): Probe(shows=lambda w: w.rule),
    ("POST", "/admin/risk-rules"): Probe(body=given(id="probe-page", required_control="physical", active="on", **RULE)),
    ("POST", "/admin/risk-rules/delete"): Probe(body=lambda w, who: {"id": own_rule(w, who)["rule_id"]}),
    ("GET", "/healthz"): Probe(),
    ("GET", "/openapi.json"): Probe(),
    ("GET", "/docs"): Probe(),
    ("GET", "/docs/oauth2-redirect"): Probe(),
}


# --- calling a route as a principal -------------------------------------------------------------------------


def is_page(path: str) -> bool:
    return not path.startswith(("/api/", "/openapi.json", "/docs", "/healthz"))


def account(principal: Principal, states: tuple[str, str]) -> Who:
    if principal.role is None:
        return None
    state = states[0] if principal.side is Side.OWN else states[1]
    return Account(username=username(principal.role, state), role=principal.role, state=state)


def call(w: World, route: Route, principal: Principal, *, secret: bool = False) -> tuple[Who, Response]:
    """Send `route`'s probe as `principal`: to the API with a bearer token; to a page with the session cookie,
    the CSRF double-submit token (cookie and field) and, for customs, the office it works at."""
    method, template = route
    probe = PROBES[route]
    who = account(principal, probe.states)
    path = template.format(**probe.params(w, who))
    query = {**probe.query(w, who), **(probe.secret(w, who) if secret and probe.secret else {})}
    body = None if probe.body is None else probe.body(w, who)
    headers: dict[str, str] = {}
    sent: dict[str, Any] = {}
    if is_page(template):
        cookies = {CSRF_COOKIE: CSRF}
        if who is not None:
            cookies[SESSION_COOKIE] = w.token(who.username)
        if who is not None and who.role is CUSTOMS:
            own_desk = probe.desk if who.state == probe.states[0] else None
            cookies[OFFICE_COOKIE] = own_desk or HOME_DESK[who.state]
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        if body is not None:
            sent["data"] = {**body, CSRF_FIELD: CSRF}
    else:
        if who is not None:
            headers.update(w.bearer(who.username))
        if body is not None:  # OAuth2's token endpoint takes a form, the rest JSON
            sent["data" if template == "/api/v1/auth/token" else "json"] = body
    if probe.files is not None:
        sent["files"] = probe.files(w, who)
    w.client.cookies.clear()  # each probe is a browser of its own: nothing is carried over from the one before
    return who, w.client.request(method, path, params=query, headers=headers, follow_redirects=False, **sent)


ALLOWED, DENIED, NEITHER = "ALLOWED", "DENIED", "neither allowed nor denied"
HELD_BACK = ("/signin", "/customs?next=")
"""Redirects that do not let the request through: to sign in, or to choose an office first."""


def verdict(response: Response, route: Route, principal: Principal, shows: str | None) -> str:
    """ALLOWED, DENIED, or neither (an error, a refusal in a form this route must not use, or held back)."""
    status = response.status_code
    location = response.headers.get("location", "")
    succeeded = 200 <= status < 300 or (response.is_redirect and not location.startswith(HELD_BACK))
    if succeeded:
        if shows is None or shows in response.text:
            return ALLOWED
        return DENIED if 200 <= status < 300 else NEITHER
    if route in HIDING and status == 404:
        return DENIED
    if principal is ANONYMOUS and is_page(route[1]):
        return DENIED if response.is_redirect and location.startswith("/signin") else NEITHER
    return DENIED if status == (401 if principal is ANONYMOUS else 403) else NEITHER


def answer(response: Response) -> str:
    if response.is_redirect:
        return f"{response.status_code} → {response.headers['location']}"
    text = response.text if "json" in response.headers.get("content-type", "") else ""
    return f"{response.status_code} {text[:300]!r}"


# --- the tests ----------------------------------------------------------------------------------------------


def test_the_matrix_has_a_row_for_every_route_of_the_app(world: World) -> None:
    listed = MATRIX.keys() | UNPROBED.keys()

    missing = sorted(world.served - listed)
    stale = sorted(listed - world.served)

    assert not missing, f"routes the app serves without a row in MATRIX (add one, with its probe): {missing}"
    assert not stale, f"rows for routes the app does not serve (remove them, or add the route): {stale}"


def test_every_row_has_a_probe_and_every_hiding_route_a_row() -> None:
    assert PROBES.keys() == MATRIX.keys(), sorted(PROBES.keys() ^ MATRIX.keys())
    assert not HIDING - MATRIX.keys(), sorted(HIDING - MATRIX.keys())


@pytest.mark.parametrize(
    ("route", "principal"),
    [
        pytest.param(route, principal, id=f"{route[0]} {route[1]} {principal}")
        for route in MATRIX
        for principal in PRINCIPALS
    ],
)
def test_each_principal_is_let_through_exactly_as_the_matrix_says(
    world: World, route: Route, principal: Principal
) -> None:
    if route not in world.served:
        pytest.skip(f"the app does not serve {route[0]} {route[1]}: see test_the_matrix_has_a_row_for_every_route")
    shows = PROBES[route].shows
    expected = ALLOWED if principal in MATRIX[route] else DENIED

    who, response = call(world, route, principal)

    got = verdict(response, route, principal, None if shows is None else shows(world))
    sender = "no account" if who is None else who.username
    assert got == expected, (
        f"{principal} ({sender}): {route[0]} {response.request.url.path} answered {answer(response)}: "
        f"{got}, where the matrix says {expected}"
    )


@pytest.mark.parametrize(
    "route", [pytest.param(route, id=f"{route[0]} {route[1]}") for route, probe in PROBES.items() if probe.secret]
)
def test_the_travellers_secret_opens_what_no_account_does(world: World, route: Route) -> None:
    """The refusals of these routes are the secret's doing, not a broken probe's: with the secret, they open."""
    _, response = call(world, route, ANONYMOUS, secret=True)

    assert 200 <= response.status_code < 300, answer(response)
