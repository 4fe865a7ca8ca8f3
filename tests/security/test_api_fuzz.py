"""The published API under schemathesis: every operation of /openapi.json, called anonymously and signed in, with
data that fits the document and data that breaks it. Whatever is sent, no answer is a server error, every error
is RFC 9457 problem+json whose `status` is the HTTP status, and what the document promises holds.

The app runs in process over a migrated SQLite database with the demo accounts and a few days of simulated
traffic, on a fixed clock. Half of the well-formed calls name a transit, visa, application, office or risk rule
that exists, so that they get past the lookups into the handlers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis import APIOperation, BaseSchema, Case, CheckContext, GenerationMode, Response
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from silkway import bootstrap
from silkway.demo import DEMO_PASSWORD, load_history
from silkway.settings import Settings
from silkway.shared.clock import FixedClock
from silkway.signing.keys import SigningKey
from silkway.signing.seal import seal
from silkway.visas.scheme import SCHEME_STATES
from silkway.web.app import create_app

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"
TAGS = ("accounts", "reference data", "transits", "documents", "trust", "visas", "administration", "exchange")
ROLES = ("customs-kz", "carrier-kz", "consul-kz", "border-kz", "analyst-kz", "admin-kz")

# The budget: each of the 57 operations is called this many times by an anonymous caller and as many by a
# signed-in one, some 1,400 requests: about 15 s of one core with their generation, plus 5 s to build the database
# on each worker that runs them, so the module stays well under a minute on `make test`'s two workers (raise it
# locally to hunt: at 150 the run takes some ten minutes). Derandomized and without an example database, every run
# sends the same requests: what fails in CI fails on a laptop.
BUDGET = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    # schemathesis' strategies filter (the negative ones most): a slow or picky draw is expected here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@dataclass(frozen=True, slots=True)
class Api:
    """The app, its schema, a bearer token per demo role, and values of path parameters that name something."""

    app: FastAPI
    schema: BaseSchema
    tokens: dict[str, str]
    known: dict[str, tuple[str, ...]]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'silkway.db'}"
    bootstrap.migrate(url)
    services = bootstrap.build(Settings(env="test", database_url=url), clock=FixedClock(NOW))
    history = load_history(services, days=6, transits=8, travellers=8)
    assert history is not None
    app = create_app(services)
    with TestClient(app) as client:
        tokens = {username: _sign_in(client, username) for username in ROLES}
        applications = [
            item
            for state in SCHEME_STATES
            for item in client.get(
                "/api/v1/visa-applications", headers=_bearer(_sign_in(client, f"consul-{state.lower()}"))
            ).json()["items"]
        ]
    known = {
        "mrn": history.transits.mrns,
        "application_id": tuple(a["id"] for a in applications),
        "number": tuple(a["visa_number"] for a in applications if a["visa_number"]),
        "code": ("KZ-ALA-ZHETYSU", "UZ-GISHTKUPRIK", "847130", "8471", "84"),
        "rule_id": ("tobacco", "electronics-high-value", "vehicles-spot-check"),
    }
    assert all(known.values()), known
    yield Api(app=app, schema=schemathesis.openapi.from_asgi("/openapi.json", app), tokens=tokens, known=known)
    services.close()


def _sign_in(client: TestClient, username: str) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the checks ----------------------------------------------------------------------------------------------


def errors_are_problems(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An error answer is RFC 9457 problem+json with `type`, `title`, `status` and `detail`, and `status` is the
    answer's own."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM), f"a {response.status_code} answered as {content_type!r}"
    body = response.json()
    missing = [member for member in ("type", "title", "status", "detail") if member not in body]
    assert not missing, f"the problem lacks {missing}: {body}"
    assert body["status"] == response.status_code, f"the problem says {body['status']}: {body}"
    return None


def successes_are_documented(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A success answer has a status and a content type the document lists for the operation. (Error answers are
    problems, checked above and by `test_the_document_lists_the_problems_of_every_operation`.)"""
    if response.status_code >= 400:
        return None
    status_code_conformance(ctx, response, case)
    return content_type_conformance(ctx, response, case)


CHECKS: list[CheckFunction] = [
    not_a_server_error,
    errors_are_problems,
    successes_are_documented,
    response_schema_conformance,  # the body of any documented answer validates against its schema
    negative_data_rejection,  # data that breaks the document is refused with a 4xx
]


# --- the runs ------------------------------------------------------------------------------------------------


def test_every_operation_is_fuzzed(api: Api) -> None:
    tagged = {operation.tags[0] if operation.tags else "" for operation in _operations(api.schema)}

    assert tagged == set(TAGS)


@pytest.mark.parametrize("tag", TAGS)
def test_anonymous_callers_never_meet_a_server_error(api: Api, tag: str) -> None:
    for operation in _operations(api.schema, tag):
        _fuzz(api, operation, roles=())


@pytest.mark.parametrize("tag", TAGS)
def test_signed_in_callers_never_meet_a_server_error(api: Api, tag: str) -> None:
    for operation in _operations(api.schema, tag):
        _fuzz(api, operation, roles=ROLES)


def _operations(schema: BaseSchema, tag: str | None = None) -> list[APIOperation]:
    operations = [result.ok() for result in schema.get_all_operations()]
    return [o for o in operations if tag is None or tag in (o.tags or ())]


def _fuzz(api: Api, operation: APIOperation, *, roles: tuple[str, ...]) -> None:
    """Call `operation` with cases that fit the document and cases that break it, as one of `roles` (or none)."""
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    callers = st.sampled_from(roles) if roles else st.none()

    @BUDGET
    @given(case=cases, role=callers, data=st.data())
    def call(case: Case, role: str | None, data: st.DataObject) -> None:
        if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
            for name in case.path_parameters or {}:
                if name in api.known and data.draw(st.booleans(), label=f"an existing {name}"):
                    case.path_parameters[name] = data.draw(st.sampled_from(api.known[name]), label=name)
        headers = None if role is None else _bearer(api.tokens[role])
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()


# --- what the fuzzing found ----------------------------------------------------------------------------------


def test_the_document_lists_the_binary_answers_and_the_body_of_verify(api: Api) -> None:
    paths = api.schema.raw_schema["paths"]

    assert set(paths["/api/v1/visas/{number}/seal"]["get"]["responses"]["200"]["content"]) == {
        "application/json",
        "image/png",
    }
    assert set(paths["/api/v1/visas/{number}/document"]["get"]["responses"]["200"]["content"]) == {"application/pdf"}
    assert set(paths["/api/v1/verify"]["post"]["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", b"[" * 100_000],  # each answered 500: JSONDecodeError, again, RecursionError
    ids=["not JSON", "not UTF-8", "nested past the parser"],
)
def test_a_verify_body_that_is_no_json_payload_is_a_problem(api: Api, body: bytes) -> None:
    with TestClient(api.app) as client:
        response = client.post("/api/v1/verify", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [{"field": "payload", "message": "a seal string is required"}]


def test_an_upload_whose_damage_shows_only_when_its_frames_are_read_is_a_problem(api: Api) -> None:
    tiff = BytesIO()
    Image.new("L", (8, 8), "white").save(tiff, format="TIFF")
    damaged = tiff.getvalue()[:8] + b"\x06" + tiff.getvalue()[9:]  # Pillow raised TypeError on reading its frame

    with TestClient(api.app) as client:
        response = client.post("/api/v1/verify", files={"file": ("scan.tiff", damaged, "image/tiff")})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


def test_a_page_of_the_visa_queue_past_what_a_database_integer_holds_is_a_problem(api: Api) -> None:
    with TestClient(api.app) as client:
        response = client.get(
            "/api/v1/visa-applications", params={"offset": 2**63}, headers=_bearer(api.tokens["consul-kz"])
        )

    assert response.status_code == 422, response.text  # answered 500: SQLite holds no integer this large
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "summary",
    [
        {"iat": 10**20},  # past the year 9999
        {"sl": 5, "lc": {"t": -(10**15)}},  # a count for the list of seals; a time before the year 1
        {"mrn": b"\xff", "st": float("nan")},  # what JSON cannot hold
    ],
)
def test_a_forged_seal_of_any_content_is_answered_not_genuine(api: Api, summary: dict[str, object]) -> None:
    forged = seal({"v": 1, "iss": "KZ-ALA-ZHETYSU", "iat": int(NOW.timestamp()), **summary}, SigningKey.generate())

    with TestClient(api.app) as client:
        response = client.post("/api/v1/verify", json={"payload": forged})

    assert response.status_code == 200, response.text
    assert response.json()["genuine"] is False


def test_an_idempotent_post_whose_body_is_nested_past_the_parser_is_a_problem(api: Api) -> None:
    headers = {**_bearer(api.tokens["carrier-kz"]), "Content-Type": "text/plain", "Idempotency-Key": "deep"}

    with TestClient(api.app) as client:
        response = client.post("/api/v1/transits", content=b"[" * 100_000, headers=headers)

    assert response.status_code < 500, response.text


def test_the_document_lists_the_problems_of_every_operation(api: Api) -> None:
    for operation in _operations(api.schema):
        responses = operation.definition.raw["responses"]
        errors = {status: answer for status, answer in responses.items() if status[0] in "45" or status == "default"}
        assert errors, operation.label
        assert all(set(answer.get("content", {})) == {PROBLEM} for answer in errors.values()), operation.label
