"""The database going away in the middle of a request — its backend terminated on PostgreSQL, an I/O error on
SQLite — at every step of the request's transaction in turn, and down altogether: each time the caller gets a
clean 503 problem, not a row of the write survives (every table compared, row for row), the transparency log is
as it was, and the same request retried once the database is back is recorded once. Reads and pages while the
database is down must answer 503 too, never 500.

A node dying between its database and the bus is in test_outbox_faults.py; a full disk in test_disk_full.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence import Log, contents, genuine, signed_in, trust_of
from fastapi.testclient import TestClient
from httpx2 import Response
from outages import Outage
from sqlalchemy import create_engine
from visawalk import ISSUE, application

from silkway.services import Services
from silkway.shared.clock import FixedClock

sys.path.insert(0, str(Path(__file__).parents[1] / "federation"))
from journeys import declaration

PROBLEM = "application/problem+json"
MOST_STEPS = 40  # far more statements than any one write runs: a loop that never ends is a failure


def unavailable(response: Response) -> None:
    """A clean 503: problem+json saying nothing was recorded, with a time to retry after."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert (body["status"], body["code"]) == (503, "unavailable"), body
    assert "nothing was recorded" in body["detail"]


def cut_off_at_every_step(url: str, send: Callable[[], Response]) -> tuple[list[str], Response]:
    """Send the request again and again, the database going away one step further into its write each time
    (before each statement, then at COMMIT on PostgreSQL), each time checking that the caller was told and
    nothing was kept, until the request gets through. Returns where it was cut off, and the answer that got
    through."""
    engine = create_engine(url)
    cuts: list[str] = []
    try:
        with Outage(url) as outage:
            before = contents(engine)
            for step in range(1, MOST_STEPS):
                with outage.during_write(step) as trip:
                    response = send()
                if trip.statement is None:  # past the last step: the database stayed
                    assert outage.backend == "sqlite" or cuts[-1] == "COMMIT", cuts
                    return cuts, response
                cuts.append(trip.statement.split("(")[0].split(" WHERE ")[0].strip())
                unavailable(response)
                assert contents(engine) == before, f"something was kept when the database went at {cuts[-1]}"
    finally:
        engine.dispose()
    raise AssertionError(f"the request ran more than {MOST_STEPS} steps")


# --- writes ------------------------------------------------------------------------------------------------


def test_a_declaration_cut_off_at_any_step_answers_503_keeps_nothing_and_is_recorded_once(
    database_url: str, services: Services, client: TestClient
) -> None:
    carrier = signed_in(client, "carrier-kz")
    headers = {**carrier, "Idempotency-Key": "declare-once"}
    log = Log(client, trust_of(services))
    size = log.size()
    before = contents(database_url)

    # the database down altogether (on PostgreSQL: refusing connections, every open one terminated); sent
    # without the key, whose lookup is a read (see the reads below)
    with Outage(database_url).down():
        unavailable(client.post("/api/v1/transits", json=declaration(), headers=carrier))
    assert contents(database_url) == before

    # and gone at each step of the write: the claim, the MRN serial, the transit, its offices and version, the
    # log's leaves, nodes and size, the signed record, and COMMIT itself
    cuts, retried = cut_off_at_every_step(
        database_url, lambda: client.post("/api/v1/transits", json=declaration(), headers=headers)
    )
    assert {"INSERT INTO idempotency_keys", "INSERT INTO transits", "INSERT INTO transit_events"} <= set(cuts), cuts
    assert log.size() == size + 1  # one leaf, and the log still extends every head it had

    # the request that got through is the same request, with the same key: recorded once, then replayed
    assert retried.status_code == 201, retried.text
    replayed = client.post("/api/v1/transits", json=declaration(), headers=headers)
    assert (replayed.status_code, replayed.headers.get("Idempotent-Replayed")) == (201, "true")
    assert replayed.json() == retried.json()
    after = contents(database_url)
    assert len(after["transits"]) == len(before["transits"]) + 1
    assert len(after["idempotency_keys"]) == len(before["idempotency_keys"]) + 1
    mrn = retried.json()["mrn"]
    assert genuine(client, trust_of(services), f"/api/v1/transits/{mrn}", carrier, f"transit:{mrn}") == 1


APPLICATION: dict[str, Any] = application()
DECISION = ISSUE


def test_a_visa_decision_and_a_border_check_cut_off_at_any_step_keep_nothing(
    database_url: str, services: Services, client: TestClient, clock: FixedClock
) -> None:
    lodged = client.post("/api/v1/visa-applications", json=APPLICATION)
    assert lodged.status_code == 201, lodged.text
    path = f"/api/v1/visa-applications/{lodged.json()['id']}/decision"
    consul = {**signed_in(client, "consul-kz"), "Idempotency-Key": "decide-once"}
    log = Log(client, trust_of(services))
    size = log.size()

    # the visa's serial, the file's status, the log, the signed record, the visa itself
    cuts, decided = cut_off_at_every_step(database_url, lambda: client.post(path, json=DECISION, headers=consul))
    assert {"INSERT INTO log_leaves", "INSERT INTO visa_records", "INSERT INTO visas"} <= set(cuts), cuts
    assert decided.status_code == 200, decided.text
    number = decided.json()["visa_number"]
    assert number == "KZ0000001"  # no attempt that was cut off used up a number
    assert client.post(path, json=DECISION, headers=consul).json() == decided.json()
    assert log.size() == size + 1

    clock.advance(days=11)  # 2 December: the visa is valid
    check = {"office": "KZ-ZHIBEKZHOLY", "direction": "entry", "passport_number": "Z1234567", "visa_number": number}
    guard = {**signed_in(client, "border-kz"), "Idempotency-Key": "enter-once"}
    crossings = len(contents(database_url)["visa_crossings"])
    cuts, entered = cut_off_at_every_step(
        database_url, lambda: client.post("/api/v1/border/checks", json=check, headers=guard)
    )
    assert {"INSERT INTO visa_records", "INSERT INTO visa_crossings"} <= set(cuts), cuts
    assert (entered.json()["allowed"], entered.json()["recorded"]) == (True, True), entered.text
    assert client.post("/api/v1/border/checks", json=check, headers=guard).json() == entered.json()
    assert len(contents(database_url)["visa_crossings"]) == crossings + 1
    assert log.size() == size + 2


def test_the_database_lost_after_the_commit_before_the_answer_is_kept_answers_truly_and_never_twice(
    database_url: str, services: Services, client: TestClient
) -> None:
    headers = {**signed_in(client, "carrier-kz"), "Idempotency-Key": "declare-once"}
    before = contents(database_url)
    with Outage(database_url).before("UPDATE idempotency_keys") as trip:
        response = client.post("/api/v1/transits", json=declaration(), headers=headers)
    assert trip.statement is not None
    after = contents(database_url)
    assert len(after["transits"]) == len(before["transits"]) + 1
    # the transit was recorded, and the caller is told so: never "nothing was recorded"
    assert response.status_code == 201, response.text
    mrn = response.json()["mrn"]
    assert any(repr(mrn) in row for row in after["transits"])

    # a retry records nothing twice, and says plainly that the answer is gone and where to look
    retried = client.post("/api/v1/transits", json=declaration(), headers=headers)
    assert retried.status_code == 422, retried.text
    assert retried.headers["content-type"].startswith("application/problem+json")
    assert retried.json()["code"] == "idempotency_key_reused"
    assert "was already recorded; its answer was not kept" in retried.json()["detail"]
    assert len(contents(database_url)["transits"]) == len(after["transits"])


# --- reads and pages ---------------------------------------------------------------------------------------


def test_reads_and_pages_while_the_database_is_down_answer_503_and_work_when_it_is_back(
    database_url: str, client: TestClient
) -> None:
    carrier = signed_in(client, "carrier-kz")
    client.cookies.set("silkway_session", carrier["Authorization"].removeprefix("Bearer "))
    with Outage(database_url).down():
        read = client.get("/api/v1/transits", headers=carrier)
        page = client.get("/carrier/transits")
    assert client.get("/api/v1/transits", headers=carrier).status_code == 200
    assert client.get("/carrier/transits").status_code == 200
    assert page.status_code == 503, page.text  # a problem, or a page saying so: anything but 500
    unavailable(read)
