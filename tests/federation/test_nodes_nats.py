"""Three national nodes as real processes (`silkway node`), each on its own PostgreSQL database, exchanging over
the machine's NATS JetStream: a transit and a visa across their borders, a node killed mid-journey, a node cut
off from the bus while it keeps serving, and a forged and a replayed event published straight to a stream.

The in-process federation tests (test_federation.py) check the rules; these check that the same journeys hold
with the real bus, real databases and real process deaths in between. Every wait polls with a deadline.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from journeys import ROUTE, SEALS, declaration
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nodes import Federation, NodeProcess, federation, jetstream

pytestmark = pytest.mark.postgres

JOURNEY_EVENTS = 12
"""Declaration, release and the passages of ROUTE to discharge, as the in-process test counts them."""


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """KZ, UZ and TJ serving, pinned to one another, shared by the tests of this module (each its own transit)."""
    with federation(("KZ", "UZ", "TJ"), tmp_path_factory.mktemp("nodes")) as built:
        yield built


@pytest.fixture(autouse=True)
def healed(fed: Federation) -> None:
    """Every link up and every node serving at the start of each test, whatever an earlier failure left."""
    fed.heal()


# --- the journey's steps ---------------------------------------------------------------------------------


def declare_and_release(kz: NodeProcess, itinerary: list[str] = ROUTE) -> str:
    mrn: str = kz.post("/transits", declaration(itinerary), "carrier-kz", expect=201)["mrn"]
    body = {"office": itinerary[0], "seals": SEALS, "control": {"kind": "physical", "result": "satisfactory"}}
    kz.post(f"/transits/{mrn}/release", body, "customs-kz")
    return mrn


def present(node: NodeProcess, mrn: str, office: str) -> dict[str, Any]:
    body = {"office": office, "seals": SEALS}
    result: dict[str, Any] = node.post(f"/transits/{mrn}/presentations", body, node.customs)
    return result


def pass_through(node: NodeProcess, mrn: str, office: str) -> None:
    node.post(f"/transits/{mrn}/passages", {"office": office}, node.customs)


def arrive_and_discharge(tj: NodeProcess, mrn: str) -> None:
    arrival = tj.post(f"/transits/{mrn}/arrival", {"office": "TJ-DUSHANBE-HQ", "seals": SEALS}, "customs-tj")
    assert arrival["decision"] == "green", arrival
    tj.post(f"/transits/{mrn}/discharge", {"office": "TJ-DUSHANBE-HQ"}, "customs-tj")


def holds(node: NodeProcess, mrn: str, history: list[str]) -> bool:
    return node.hashes(mrn) == history


def caught_up(fed: Federation, mrn: str, source: NodeProcess, *targets: NodeProcess) -> list[str]:
    """Wait until each of `targets` holds exactly the history `source` holds; that history's hashes."""
    expected = source.hashes(mrn)
    assert expected, f"{source.state} does not hold {mrn}"
    for target in targets:
        fed.wait(partial(holds, target, mrn, expected), f"{target.state} to hold {source.state}'s {mrn}")
    return expected


def settled(fed: Federation, mrn: str, events: int = JOURNEY_EVENTS) -> list[str]:
    """Wait until every node holds the same history of `events` records and has nothing left to send; assert
    that no record is there twice and that no node set anything aside as a conflict."""
    kz, uz, tj = fed["KZ"], fed["UZ"], fed["TJ"]
    fed.wait(lambda: len(kz.hashes(mrn)) == events, f"KZ to hold the {events} events of {mrn}")
    history = caught_up(fed, mrn, kz, uz, tj)
    assert len(set(history)) == len(history) == events, history
    for node in (kz, uz, tj):
        fed.wait(node.outbox_empty, f"{node.state}'s outbox to empty")
        status = node.status()
        assert status["conflicts"] == 0, (node.state, status)
        assert "conflict" not in status["received"], (node.state, status)
        assert node.conflicts() == [], node.state
        transit = node.transit(mrn)
        assert transit is not None
        signed_seqs = [json.loads(e["record"]["canonical"])["seq"] for e in transit["events"]]
        assert signed_seqs == list(range(1, events + 1)), node.state
    return history


def journey_through_uzbekistan(fed: Federation, mrn: str) -> None:
    """From the Kazakh exit to discharge in Dushanbe, each state recording at its own offices."""
    kz, uz, tj = fed["KZ"], fed["UZ"], fed["TJ"]
    caught_up(fed, mrn, kz, uz)
    decision = present(uz, mrn, "UZ-GISHTKUPRIK")
    assert decision["decision"] == "green", decision  # the Almaty inspection is recognised across the border
    pass_through(uz, mrn, "UZ-GISHTKUPRIK")
    present(uz, mrn, "UZ-OYBEK")
    pass_through(uz, mrn, "UZ-OYBEK")
    caught_up(fed, mrn, uz, tj)
    present(tj, mrn, "TJ-FOTEHOBOD")
    pass_through(tj, mrn, "TJ-FOTEHOBOD")
    arrive_and_discharge(tj, mrn)


# --- the bus, as seen from outside the nodes ----------------------------------------------------------


def envelope(record: dict[str, Any], canonical: bytes, *, mrn: str) -> bytes:
    """An exchange event as wire.py defines it (schema 1), built here from the record's bytes and signature."""
    fields = json.loads(canonical)
    signature = urlsafe_b64decode(record["signature"] + "=" * (-len(record["signature"]) % 4))
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": hashlib.sha256(canonical).hexdigest(),
            "origin": "KZ",
            "kind": "transit",
            "subject": f"transit:{mrn}",
            "seq": fields["seq"],
            "record": urlsafe_b64encode(canonical).rstrip(b"=").decode(),
            "signature": urlsafe_b64encode(signature).rstrip(b"=").decode(),
            "sent_at": "2026-11-21T08:30:00+00:00",
        }
    ).encode()


def publish(fed: Federation, subject: str, payload: bytes, msg_id: str) -> PubAck:
    async def send(js: JetStreamContext) -> PubAck:
        return await js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id})

    return jetstream(fed.nats_url, send)


def stored_in_stream(fed: Federation, state: str) -> int:
    """The sequence number of the last message `state`'s inbound stream has stored (0 when none)."""

    async def last(js: JetStreamContext) -> int:
        return int((await js.stream_info(f"{fed.prefix.upper()}_{state}")).state.last_seq)

    return jetstream(fed.nats_url, last)


def acknowledged(fed: Federation, state: str, sequence: int) -> bool:
    """Whether `state`'s node has acknowledged every message of its stream up to `sequence` (it acknowledges
    a message only once its receiver has committed what it made of it)."""

    async def floor(js: JetStreamContext) -> int:
        info = await js.consumer_info(f"{fed.prefix.upper()}_{state}", f"node-{state}")
        return int(info.ack_floor.stream_seq if info.ack_floor and info.ack_floor.stream_seq else 0)

    return jetstream(fed.nats_url, floor) >= sequence


# --- the tests -------------------------------------------------------------------------------------------


def test_a_transit_crosses_three_nodes_end_to_end(fed: Federation) -> None:
    """Declared and released in Almaty, it is discharged in Dushanbe, and all three nodes hold one history."""
    kz = fed["KZ"]
    mrn = declare_and_release(kz)
    present(kz, mrn, "KZ-ZHIBEKZHOLY")
    pass_through(kz, mrn, "KZ-ZHIBEKZHOLY")
    journey_through_uzbekistan(fed, mrn)

    settled(fed, mrn)
    for node in fed.nodes.values():
        transit = node.transit(mrn)
        assert transit is not None, node.state
        assert transit["status"] == "discharged", (node.state, transit["status"])


def test_a_visa_issued_in_kazakhstan_is_checked_at_the_uzbek_border(fed: Federation) -> None:
    """The Kazakh consul issues a visa valid in Uzbekistan; the Uzbek guard's check finds it on the UZ node and
    records the entry, which reaches the issuing state's node. The visa's territorial validity excludes
    Tajikistan (a uniform visa would be valid there too), which is not consulted either: its node never
    receives the file."""
    kz, uz, tj = fed["KZ"], fed["UZ"], fed["TJ"]
    tj_stream = stored_in_stream(fed, "TJ")
    passport = "Z7654321"
    # the nodes' clock starts on 21 November 2026 and runs at real pace: a trip from that very day
    application = {
        "surname": "SHARMA",
        "given_names": "PRIYA",
        "nationality": "IND",
        "date_of_birth": "1990-04-12",
        "sex": "F",
        "passport_number": passport,
        "passport_expiry": "2031-03-31",
        "states": ["KZ", "KG", "UZ"],
        "main_destination": "KZ",
        "from": "2026-11-21",
        "to": "2027-01-10",
        "entries": "multiple",
        "purpose": "tourism",
    }
    lodged = kz.post("/visa-applications", application, expect=201)
    decision = {
        "decision": "issue_ltv",
        "excluded_states": ["TJ"],
        "valid_from": "2026-11-21",
        "valid_until": "2027-02-28",
        "duration_of_stay_days": 60,
        "entries": "multiple",
    }
    number = kz.post(f"/visa-applications/{lodged['id']}/decision", decision, "consul-kz")["visa_number"]
    assert number

    def stay(node: NodeProcess) -> Any:
        return node.call("GET", f"/visas/{number}/stay", params={"passport_number": passport})

    fed.wait(lambda: stay(uz).status_code == 200, "UZ to hold the visa issued on KZ")
    check = {"office": "UZ-GISHTKUPRIK", "direction": "entry", "passport_number": passport, "visa_number": number}
    entry = uz.post("/border/checks", check, "border-uz")
    assert (entry["allowed"], entry["recorded"]) == (True, True), entry

    # the entry counts on the issuing state's node towards the stay rule
    fed.wait(lambda: [c["state"] for c in stay(kz).json()["crossings"]] == ["UZ"], "the UZ entry to reach KZ")
    assert [c["direction"] for c in stay(kz).json()["crossings"]] == ["entry"]
    for node in (kz, uz):
        fed.wait(node.outbox_empty, f"{node.state}'s outbox to empty")
    # by now everything KZ and UZ had to send is on the streams, and none of it on Tajikistan's
    assert stored_in_stream(fed, "TJ") == tj_stream
    assert stay(tj).status_code == 404, stay(tj).text
    status = tj.call("GET", f"/visa-applications/{lodged['id']}", params={"token": lodged["status_token"]})
    assert status.status_code == 404, status.text
    for node in (kz, uz, tj):
        assert node.conflicts() == [], node.state


def test_a_node_killed_mid_journey_loses_and_repeats_nothing(fed: Federation) -> None:
    """SIGKILL the UZ node twice: once right after it recorded a presentation it could not relay yet (its link
    cut, so the event is only in its outbox), once right after a passage while it may be relaying. Restarted
    on the same database with the same peers, it delivers what it owed, and the journey ends with one
    history of 12 events on every node."""
    kz, uz, tj = fed["KZ"], fed["UZ"], fed["TJ"]
    mrn = declare_and_release(kz)
    present(kz, mrn, "KZ-ZHIBEKZHOLY")
    pass_through(kz, mrn, "KZ-ZHIBEKZHOLY")
    before = caught_up(fed, mrn, kz, uz, tj)
    fed.wait(uz.outbox_empty, "UZ's outbox to empty")

    fed.proxies["UZ"].cut()
    assert present(uz, mrn, "UZ-GISHTKUPRIK")["decision"] == "green"
    owed = uz.status()["undelivered"]  # recorded, and owed to both peers (with the history, the first time)
    assert sorted(owed) == ["KZ", "TJ"], owed
    assert min(owed.values()) >= 1, owed
    uz.kill()
    fed.proxies["UZ"].restore()
    assert kz.hashes(mrn) == before  # nothing left the killed node
    fed.restart("UZ")
    assert len(uz.hashes(mrn)) == len(before) + 1  # the presentation survived the kill
    caught_up(fed, mrn, uz, kz, tj)

    pass_through(uz, mrn, "UZ-GISHTKUPRIK")
    uz.kill()  # relayed or not, marked published or not: the restart must make it right
    fed.restart("UZ")
    caught_up(fed, mrn, uz, kz, tj)

    present(uz, mrn, "UZ-OYBEK")
    pass_through(uz, mrn, "UZ-OYBEK")
    caught_up(fed, mrn, uz, tj)
    present(tj, mrn, "TJ-FOTEHOBOD")
    pass_through(tj, mrn, "TJ-FOTEHOBOD")
    arrive_and_discharge(tj, mrn)
    settled(fed, mrn)


def test_a_node_cut_off_the_bus_keeps_serving_and_delivers_on_return(fed: Federation) -> None:
    """With KZ's link to NATS cut (the server itself stays up for the others), the Kazakh officers release and
    record the exit as usual; the events wait in KZ's outbox, unseen by UZ and TJ, and all arrive once the
    link is restored."""
    kz, uz, tj = fed["KZ"], fed["UZ"], fed["TJ"]
    fed.wait(kz.outbox_empty, "KZ's outbox to empty")

    link = fed.proxies["KZ"]
    link.cut()
    mrn = declare_and_release(kz)
    present(kz, mrn, "KZ-ZHIBEKZHOLY")
    pass_through(kz, mrn, "KZ-ZHIBEKZHOLY")
    recorded = len(kz.hashes(mrn))
    fed.wait(lambda: link.refused > 0, "KZ to try to get its link back")  # it knows the link is down
    assert kz.status()["undelivered"] == {"UZ": recorded, "TJ": recorded}
    assert uz.transit(mrn) is None
    assert tj.transit(mrn) is None

    link.restore()
    history = caught_up(fed, mrn, kz, uz, tj)
    assert len(set(history)) == len(history) == recorded
    fed.wait(kz.outbox_empty, "KZ's outbox to empty after the link is back")

    journey_through_uzbekistan(fed, mrn)  # and the journey goes on as if nothing had happened
    settled(fed, mrn)


def test_a_forged_and_a_replayed_event_change_nothing(fed: Federation) -> None:
    """Published straight to UZ's stream as if from KZ: a genuine Kazakh record with its goods changed (its
    event id recomputed, so only the signature gives it away) is rejected as bad_signature; the genuine record
    again under a new message id (so the stream's de-duplication lets it through) is known to the receiver's
    inbox and changes nothing either."""
    kz, uz = fed["KZ"], fed["UZ"]
    mrn = declare_and_release(kz, ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-TAS-CUSTOMS"])
    held = caught_up(fed, mrn, kz, uz)
    transit = kz.transit(mrn)
    assert transit is not None
    record = transit["events"][0]["record"]
    genuine = record["canonical"].encode()
    subject = f"{fed.prefix}.UZ.transit.KZ"

    forged = genuine.replace(b'"Laptops"', b'"Bricks"')
    assert forged != genuine
    forged_id = hashlib.sha256(forged).hexdigest()
    publish(fed, subject, envelope(record, forged, mrn=mrn), forged_id)

    def rejected() -> list[str]:
        return [r["code"] for r in uz.rejections() if r["event_id"] == forged_id]

    fed.wait(lambda: rejected() != [], "UZ to reject the forged event")
    assert rejected() == ["bad_signature"]
    assert uz.hashes(mrn) == held

    genuine_id = hashlib.sha256(genuine).hexdigest()
    # under its own id the stream itself drops it: KZ's relay published it under that id already
    assert publish(fed, subject, envelope(record, genuine, mrn=mrn), genuine_id).duplicate
    status = uz.status()
    rejections = uz.rejections()
    replay = publish(fed, subject, envelope(record, genuine, mrn=mrn), f"replay-{uuid.uuid4().hex}")
    assert not replay.duplicate  # through to the node: from here on it is the receiver's inbox that decides
    fed.wait(lambda: acknowledged(fed, "UZ", replay.seq), "UZ to settle the replayed event")
    assert uz.hashes(mrn) == held
    assert uz.rejections() == rejections
    assert uz.status() == status  # nothing stored, held, set aside or rejected
    assert uz.conflicts() == []
