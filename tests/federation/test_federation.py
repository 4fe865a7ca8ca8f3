"""Three national nodes in one process, joined by the in-process bus: a transit and a visa across their
borders, data sovereignty, links cut and restored, redelivery, forgery and replay, and conflicting facts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from journeys import ROUTE, SEALS, declaration
from region import Node, Region, region

from loops import run
from silkway.exchange import wire
from silkway.shared.clock import FixedClock
from silkway.shared.exchange import IncomingEvent, Kind, Outcome
from silkway.signing.encoding import from_b64u, sha256_hex
from silkway.signing.errors import Problem
from silkway.signing.records import SignedRecord
from silkway.signing.trustlist import load_trust_list
from silkway.signing.verify import verify_records


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))


@pytest.fixture
def nodes(tmp_path: Path, clock: FixedClock) -> Any:
    with region(tmp_path, clock) as built:
        yield built


def verify(node: Node, events: list[dict[str, Any]], subject: str) -> list[Problem]:
    """The problems `node`'s own trust list finds with a subject's records as its API serves them."""
    trust = load_trust_list(node.services.notary.trust_list(node.services.clock.now()))
    records = [
        SignedRecord(canonical=e["record"]["canonical"].encode(), signature=from_b64u(e["record"]["signature"]))
        for e in events
    ]
    return verify_records(records, trust, subject=subject)


def declare_and_release(r: Region, itinerary: list[str] | None = None) -> str:
    kz = r["KZ"]
    mrn: str = kz.post("/transits", declaration(itinerary), "carrier-kz", expect=201)["mrn"]
    kz.post(
        f"/transits/{mrn}/release",
        {"office": ROUTE[0], "seals": SEALS, "control": {"kind": "physical", "result": "satisfactory"}},
        "customs-kz",
    )
    return mrn


def test_a_transit_crosses_three_nodes_inspected_once(nodes: Region, clock: FixedClock) -> None:
    kz, uz, tj = nodes["KZ"], nodes["UZ"], nodes["TJ"]
    mrn = declare_and_release(nodes)
    kz.post(f"/transits/{mrn}/presentations", {"office": "KZ-ZHIBEKZHOLY", "seals": SEALS}, "customs-kz")
    kz.post(f"/transits/{mrn}/passages", {"office": "KZ-ZHIBEKZHOLY"}, "customs-kz")
    assert nodes.pump() > 0

    # the Uzbek node holds the transit as Kazakhstan signed it, and recognises the Almaty inspection
    decision = uz.post(f"/transits/{mrn}/presentations", {"office": "UZ-GISHTKUPRIK", "seals": SEALS}, "customs-uz")
    assert decision["decision"] == "green", decision
    uz.post(f"/transits/{mrn}/passages", {"office": "UZ-GISHTKUPRIK"}, "customs-uz")
    uz.post(f"/transits/{mrn}/presentations", {"office": "UZ-OYBEK", "seals": SEALS}, "customs-uz")
    uz.post(f"/transits/{mrn}/passages", {"office": "UZ-OYBEK"}, "customs-uz")
    nodes.pump()
    tj.post(f"/transits/{mrn}/presentations", {"office": "TJ-FOTEHOBOD", "seals": SEALS}, "customs-tj")
    tj.post(f"/transits/{mrn}/passages", {"office": "TJ-FOTEHOBOD"}, "customs-tj")
    arrival = tj.post(f"/transits/{mrn}/arrival", {"office": "TJ-DUSHANBE-HQ", "seals": SEALS}, "customs-tj")
    assert arrival["decision"] == "green"
    tj.post(f"/transits/{mrn}/discharge", {"office": "TJ-DUSHANBE-HQ"}, "customs-tj")
    nodes.pump()

    # every node holds the same signed history, and each one verifies it against its own trust list
    histories = {}
    for node in (kz, uz, tj):
        who = "carrier-kz" if node is kz else f"customs-{node.state.lower()}"
        transit = node.get(f"/transits/{mrn}", who)
        assert transit["status"] == "discharged", (node.state, transit["status"])
        histories[node.state] = [e["record"]["hash"] for e in transit["events"]]
        assert verify(node, transit["events"], f"transit:{mrn}") == [], node.state
    assert histories["KZ"] == histories["UZ"] == histories["TJ"]
    assert len(histories["KZ"]) == 12
    for node in (kz, uz, tj):
        assert node.conflicts() == []


APPLICATION: dict[str, Any] = {
    "surname": "SHARMA",
    "given_names": "PRIYA",
    "native_name": "प्रिया शर्मा",
    "nationality": "IND",
    "date_of_birth": "1990-04-12",
    "sex": "F",
    "passport_number": "Z1234567",
    "passport_expiry": "2031-03-31",
    "states": ["KZ", "KG", "UZ"],
    "main_destination": "KZ",
    "from": "2026-12-01",
    "to": "2027-01-20",
    "entries": "multiple",
    "purpose": "tourism",
}
DECISION = {
    "decision": "issue",
    "valid_from": "2026-12-01",
    "valid_until": "2027-02-28",
    "duration_of_stay_days": 60,
    "entries": "multiple",
}


def issue_visa(r: Region, **terms: Any) -> tuple[str, str]:
    """A visa lodged with and issued by Kazakhstan's consular service; (application id, visa number)."""
    kz = r["KZ"]
    lodged = kz.client.post("/api/v1/visa-applications", json=APPLICATION)
    assert lodged.status_code == 201, lodged.text
    application_id = lodged.json()["id"]
    decided = kz.post(f"/visa-applications/{application_id}/decision", {**DECISION, **terms}, "consul-kz")
    return application_id, decided["visa_number"]


def border_check(node: Node, office: str, direction: str, number: str) -> dict[str, Any]:
    body = {"office": office, "direction": direction, "passport_number": "Z1234567", "visa_number": number}
    result: dict[str, Any] = node.post("/border/checks", body, f"border-{node.state.lower()}")
    return result


def test_a_visa_issued_on_one_node_is_checked_at_another_states_border(nodes: Region, clock: FixedClock) -> None:
    kz, uz, tj = nodes["KZ"], nodes["UZ"], nodes["TJ"]
    # a visa with limited territorial validity that excludes Tajikistan
    application_id, number = issue_visa(nodes, decision="issue_ltv", excluded_states=["TJ"])
    nodes.pump()
    clock.advance(days=11)  # 2 December, within the visa's validity

    entry = border_check(uz, "UZ-GISHTKUPRIK", "entry", number)
    assert (entry["allowed"], entry["recorded"]) == (True, True), entry
    # a seal read at the Uzbek border verifies against the Kazakh consular key that came over the bus
    seal = kz.client.get(f"/api/v1/visas/{number}/seal", params={"passport_number": "Z1234567"}).json()["payload"]
    by_seal = uz.post(
        "/border/checks",
        {"office": "UZ-GISHTKUPRIK", "direction": "exit", "passport_number": "Z1234567", "seal": seal, "record": False},
        "border-uz",
    )
    assert by_seal["allowed"] is True, by_seal
    nodes.pump()

    # the entry counts on the issuing state's node towards the stay rule
    stay = kz.client.get(f"/api/v1/visas/{number}/stay", params={"passport_number": "Z1234567"})
    assert stay.status_code == 200, stay.text
    assert [c["state"] for c in stay.json()["crossings"]] == ["UZ"], stay.json()
    # Tajikistan is neither consulted nor among the states the visa is valid in: its node holds nothing of it
    assert not tj.services.exchange.holds(f"visa-application:{application_id}")
    assert tj.client.get(f"/api/v1/visas/{number}/stay", params={"passport_number": "Z1234567"}).status_code == 404
    assert uz.services.exchange.holds(f"visa-application:{application_id}")


def test_a_node_stores_only_the_transits_that_touch_its_state(nodes: Region) -> None:
    mrn = declare_and_release(nodes, ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-TAS-CUSTOMS"])
    nodes.pump()
    assert nodes["UZ"].services.exchange.holds(f"transit:{mrn}")
    assert not nodes["TJ"].services.exchange.holds(f"transit:{mrn}")
    assert nodes["TJ"].client.get(f"/api/v1/transits/{mrn}", headers=nodes["TJ"].auth("customs-tj")).status_code == 404
    assert nodes["KZ"].status()["undelivered"] == {}


def test_a_uniform_visa_reaches_every_state_it_is_valid_in(nodes: Region, clock: FixedClock) -> None:
    _, number = issue_visa(nodes)
    nodes.pump()
    clock.advance(days=11)
    entry = border_check(nodes["TJ"], "TJ-FOTEHOBOD", "entry", number)
    assert (entry["allowed"], entry["recorded"]) == (True, True), entry


def history(node: Node, mrn: str) -> list[str]:
    who = "carrier-kz" if node.state == "KZ" else f"customs-{node.state.lower()}"
    return [e["record"]["hash"] for e in node.get(f"/transits/{mrn}", who)["events"]]


def test_a_node_cut_off_from_the_bus_keeps_serving_and_delivers_when_the_link_returns(nodes: Region) -> None:
    kz, uz, tj = nodes["KZ"], nodes["UZ"], nodes["TJ"]
    kz.bus.online = False
    mrn = declare_and_release(nodes)
    kz.post(f"/transits/{mrn}/presentations", {"office": "KZ-ZHIBEKZHOLY", "seals": SEALS}, "customs-kz")
    kz.post(f"/transits/{mrn}/passages", {"office": "KZ-ZHIBEKZHOLY"}, "customs-kz")
    nodes.pump()
    assert not uz.services.exchange.holds(f"transit:{mrn}")
    assert kz.status()["undelivered"] == {"TJ": 4, "UZ": 4}

    kz.bus.online = True
    assert nodes.pump() > 0
    assert history(uz, mrn) == history(tj, mrn) == history(kz, mrn)
    assert len(history(kz, mrn)) == 4
    assert kz.status()["undelivered"] == {}
    assert uz.status()["received"].get("duplicate", 0) == 0


def test_redelivery_after_a_crash_on_either_side_stores_nothing_twice(nodes: Region) -> None:
    kz, uz = nodes["KZ"], nodes["UZ"]
    mrn = declare_and_release(nodes)
    # the relay published, then died before it marked the rows published: it publishes them again
    pending = kz.services.exchange.pending(100)
    assert len(pending) == 4  # two records, to two states
    for event in pending:
        run(
            kz.bus.publish(
                f"silkway.{event.destination}.{event.kind}.KZ",
                wire.encode(event, sent_at=kz.services.clock.now()),
                msg_id=event.event_id,
            )
        )
    # the consumer received, stored, and died before acknowledging: the stream delivers again
    delivered = run(uz.bus.fetch(10, 0))
    for message in delivered:
        assert uz.services.receiver.receive(wire.decode(message.data)).outcome is Outcome.APPLIED
    run(uz.bus.close())
    nodes.pump()
    # two trust sections and the two records, each stored once: the second publish was de-duplicated by id
    assert nodes.server.streams["UZ"].stored == 4
    assert uz.status()["received"] == {"applied": 4}  # two trust sections, two records; redeliveries add nothing
    assert len(history(uz, mrn)) == 2
    assert history(uz, mrn) == history(kz, mrn)


def test_a_forged_or_replayed_event_is_rejected_and_stores_nothing(nodes: Region) -> None:
    kz, uz = nodes["KZ"], nodes["UZ"]
    mrn = declare_and_release(nodes)
    nodes.pump()
    genuine = kz.get(f"/transits/{mrn}", "carrier-kz")["events"][1]["record"]
    before = history(uz, mrn)

    # forged: the release's seals changed after signing
    forged_bytes = genuine["canonical"].replace("KZ1234567", "KZ7654321").encode()
    forged = IncomingEvent(
        event_id=sha256_hex(forged_bytes),
        origin="KZ",
        kind=Kind.TRANSIT,
        subject=f"transit:{mrn}",
        seq=2,
        record=forged_bytes,
        signature=from_b64u(genuine["signature"]),
    )
    receipt = uz.services.receiver.receive(forged)
    assert (receipt.outcome, receipt.reason.split(":")[0]) == (Outcome.REJECTED, "bad_signature")
    # replayed: the genuine release sent again under a fresh message id
    replayed = IncomingEvent(
        event_id=genuine["hash"],
        origin="KZ",
        kind=Kind.TRANSIT,
        subject=f"transit:{mrn}",
        seq=2,
        record=genuine["canonical"].encode(),
        signature=from_b64u(genuine["signature"]),
    )
    assert uz.services.receiver.receive(replayed).outcome is Outcome.DUPLICATE
    # an envelope whose id is not its record's hash
    assert uz.services.receiver.receive(dataclasses.replace(replayed, event_id="0" * 64)).outcome is Outcome.REJECTED
    # an older trust section of Kazakhstan, never delivered (a newer one superseded it), replayed later
    kz.services.rotate_key("KZ-ZHIBEKZHOLY")
    with kz.services.uow() as uow:
        _, sequence, section = next(s for s in uow.keys.sections() if s[0] == "KZ")
    kz.services.rotate_key("KZ-ZHIBEKZHOLY")
    nodes.pump()
    stale = IncomingEvent(
        event_id=sha256_hex(section.canonical),
        origin="KZ",
        kind=Kind.TRUST,
        subject="trust:KZ",
        seq=sequence,
        record=section.canonical,
        signature=section.signature,
    )
    receipt = uz.services.receiver.receive(stale)
    assert (receipt.outcome, receipt.reason.split(":")[0]) == (Outcome.REJECTED, "replayed"), receipt
    # a section of Kazakhstan altered after its root signed it
    altered = section.canonical.replace(b'"sequence":', b'"sequence": ')
    impostor = dataclasses.replace(stale, event_id=sha256_hex(altered), record=altered)
    assert uz.services.receiver.receive(impostor).outcome is Outcome.REJECTED

    assert history(uz, mrn) == before
    codes = [r["code"] for r in uz.get("/exchange/rejections", "admin-uz")]
    assert {"bad_signature", "event_id_mismatch", "replayed", "bad_section"} <= set(codes), codes


def test_a_passage_recorded_on_both_sides_out_of_order_is_shown_not_merged(nodes: Region) -> None:
    kz, uz, tj = nodes["KZ"], nodes["UZ"], nodes["TJ"]
    mrn = declare_and_release(nodes)
    nodes.pump()
    kz.bus.online = False  # the Kazakh exit is recorded while its node is cut off…
    kz.post(f"/transits/{mrn}/presentations", {"office": "KZ-ZHIBEKZHOLY", "seals": SEALS}, "customs-kz")
    # …and the truck is presented at the Uzbek entry before that record arrives
    uz.post(f"/transits/{mrn}/presentations", {"office": "UZ-GISHTKUPRIK", "seals": SEALS}, "customs-uz")
    nodes.pump()
    kz.bus.online = True
    nodes.pump()

    for node, other in ((uz, "KZ-ZHIBEKZHOLY"), (kz, "UZ-GISHTKUPRIK")):
        found = node.conflicts()
        assert [(c["code"], c["seq"], c["remote_office"], c["stored"]) for c in found] == [
            ("passage_out_of_order", 3, other, False)
        ], (node.state, found)
    # each side keeps its own record; neither is overwritten or merged
    assert history(kz, mrn)[:2] == history(uz, mrn)[:2]
    assert history(kz, mrn)[2] != history(uz, mrn)[2]
    assert len(tj.conflicts()) == 1
    assert len(history(tj, mrn)) == 3

    # the Uzbek officer sees it on the transit's page, in Russian
    token = uz.auth("customs-uz")["Authorization"].removeprefix("Bearer ")
    for name, value in {"silkway_session": token, "silkway_office": "UZ-GISHTKUPRIK", "silkway_lang": "ru"}.items():
        uz.client.cookies.set(name, value)
    page = uz.client.get(f"/customs/transits/{mrn}")
    assert page.status_code == 200, page.text
    assert "1 противоречащая запись пришла из другого государства" in page.text
    assert "не в том порядке, что записан здесь" in page.text


def test_two_exits_for_one_entry_are_shown_to_the_officers(nodes: Region, clock: FixedClock) -> None:
    kz, uz = nodes["KZ"], nodes["UZ"]
    _, number = issue_visa(nodes)
    nodes.pump()
    clock.advance(days=11)
    assert border_check(kz, "KZ-ZHIBEKZHOLY", "entry", number)["recorded"] is True
    nodes.pump()
    kz.bus.online = False
    uz.bus.online = False
    assert border_check(kz, "KZ-ZHIBEKZHOLY", "exit", number)["recorded"] is True
    assert border_check(uz, "UZ-GISHTKUPRIK", "exit", number)["recorded"] is True
    kz.bus.online = uz.bus.online = True
    nodes.pump()
    assert [c["code"] for c in kz.conflicts()] == ["two_exits"]
    assert [c["code"] for c in uz.conflicts()] == ["two_exits"]
    assert "two exits recorded for one entry" in kz.conflicts()[0]["description"]


def test_a_state_that_leaves_is_neither_sent_to_nor_believed(nodes: Region) -> None:
    kz, uz = nodes["KZ"], nodes["UZ"]
    uz.bus.online = False
    mrn = declare_and_release(nodes)
    assert kz.status()["undelivered"]["UZ"] == 2
    assert kz.services.unpin_peer("UZ") == 2  # its undelivered events are withdrawn
    kz.post(f"/transits/{mrn}/presentations", {"office": "KZ-ZHIBEKZHOLY", "seals": SEALS}, "customs-kz")
    assert "UZ" not in kz.status()["undelivered"]
    uz.bus.online = True
    nodes.pump()
    assert not uz.services.exchange.holds(f"transit:{mrn}")

    # and Uzbekistan, having unpinned Kazakhstan, stores nothing Kazakhstan signs: it cannot be judged
    uz.services.unpin_peer("KZ")
    record = kz.get(f"/transits/{mrn}", "carrier-kz")["events"][0]["record"]
    receipt = uz.services.receiver.receive(
        IncomingEvent(
            event_id=record["hash"],
            origin="KZ",
            kind=Kind.TRANSIT,
            subject=f"transit:{mrn}",
            seq=1,
            record=record["canonical"].encode(),
            signature=from_b64u(record["signature"]),
        )
    )
    assert receipt.outcome is Outcome.RETRY
    assert not uz.services.exchange.holds(f"transit:{mrn}")
