"""Every reader of untrusted bytes or text, fuzzed: the transit document's seal and the visa's visible digital seal,
their QR codes in images, the trust list, signed records, tree heads and the exchange's envelopes.

Each is fed random bytes and text, and truncations and one-byte changes of a genuine input that the real code
made. Whatever it is fed, it returns or raises its documented error, nothing else; and a changed input never
passes for genuine unless it still says exactly what was signed (a change to what no signature covers, such as
the padding of a compressed stream, may leave the content as it was).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from io import BytesIO
from typing import Any

import base45  # type: ignore[import-untyped]
import cbor2
import pytest
from builders import ALMATY, SEAL, a_declaration
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from PIL import Image
from strategies import any_text
from test_signing import T0, Node

from silkway.documents import qr_png
from silkway.documents.reading import UnreadableDocument, UnreadableReason, read_payloads
from silkway.documents.transit import check_seal, issue_seal, summary_of
from silkway.documents.visa_seal import TrustedSealReader, check_visa_seal, issue_for
from silkway.exchange import wire
from silkway.shared.exchange import Kind, OutgoingEvent
from silkway.shared.mrn import Mrn
from silkway.signing import seal as seals
from silkway.signing.errors import MalformedRecord, VerificationError
from silkway.signing.keys import SigningKey
from silkway.signing.records import ENVELOPE, SignedRecord, parse_record, sign_record
from silkway.signing.treehead import TreeHead, sign_tree_head, verify_tree_head
from silkway.signing.trustlist import TrustList, load_trust_list
from silkway.transit.lifecycle import Transit
from silkway.transit.model import ControlKind, ControlOutcome, ControlResult
from silkway.visas.model import Entries, Visa, VisaTerms
from silkway.visas.mrz import MrvA
from silkway.visas.scheme import consular_office

FUZZ = settings(max_examples=150, deadline=None)
AT = T0 + timedelta(hours=1)
CONSULAR = consular_office("KZ")
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
EDGE_INSTANTS = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-13-01T00:00:00Z", "Z")
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([2**53 + 1, 10**30, -1, 0]),
        st.floats(),  # NaN and the infinities too: Python's json reads and writes them
        st.text(max_size=20),
        st.sampled_from(EDGE_INSTANTS),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
"""Any value JSON (as Python reads it) can hold, the edges of numbers and of the calendar included."""

random_bytes = st.one_of(
    st.binary(max_size=600), any_text.map(str.encode), json_values.map(lambda v: json.dumps(v).encode())
)


@dataclass(frozen=True, slots=True)
class Edit:
    """A truncation, or one byte replaced, inserted or deleted; `at` is taken modulo the length of what is edited."""

    kind: str
    at: int
    byte: int

    def __call__(self, data: bytes) -> bytes:
        i = self.at % (len(data) + 1)
        new = bytes([self.byte])
        return {
            "truncate": data[: self.at % max(len(data), 1)],
            "replace": data[:i] + new + data[i + 1 :],
            "insert": data[:i] + new + data[i:],
            "delete": data[:i] + data[i + 1 :],
        }[self.kind]


edits = st.builds(
    Edit,
    kind=st.sampled_from(["truncate", "replace", "insert", "delete"]),
    at=st.integers(min_value=0, max_value=100_000),
    byte=st.integers(min_value=0, max_value=255),
)


@dataclass(frozen=True, slots=True)
class Path:
    """Where a value sits in a JSON document: keys and indexes, taken modulo what is there at each step."""

    steps: tuple[int, ...]

    def replace(self, document: Any, value: Any) -> Any:
        """A copy of `document` with the value found by following the steps replaced by `value`."""
        if not self.steps or not isinstance(document, dict | list) or not document:
            return value
        keys = list(document) if isinstance(document, dict) else list(range(len(document)))
        key = keys[self.steps[0] % len(keys)]
        copied = dict(document) if isinstance(document, dict) else list(document)
        copied[key] = Path(self.steps[1:]).replace(document[key], value)
        return copied


paths = st.builds(Path, st.lists(st.integers(min_value=0, max_value=50), max_size=8).map(tuple))


def image_file(image: Image.Image, format: str) -> bytes:
    out = BytesIO()
    image.save(out, format=format)
    return out.getvalue()


@dataclass(frozen=True, slots=True, repr=False)
class Genuine:
    """Genuine inputs of every reader, made by the real code, the key that signed them and their trust list."""

    trust: TrustList
    trust_bytes: bytes
    office_key: SigningKey
    transit_seal: str
    seal_images: dict[str, bytes]
    """The QR code of `transit_seal` in each of `FORMATS`."""
    visa_seal: str
    record: SignedRecord
    tree_head: TreeHead
    event: OutgoingEvent

    def __repr__(self) -> str:  # what a failing example prints: the inputs themselves would fill pages
        return "Genuine(...)"


@pytest.fixture(scope="module")
def genuine() -> Genuine:
    node = Node()
    node.authority.establish({"KZ": [CONSULAR]}, now=T0)
    office_key = node.key("KZ-ALMATY")
    record = sign_record(
        key=office_key,
        type="released",
        subject="transit:26KZ0000000000001A",
        seq=1,
        prev=None,
        at=AT,
        office="KZ-ALMATY",
        actor="customs-kz",
        body={"seals": [SEAL]},
    )
    transit_seal = issue_seal(summary_of(_released(), record, issuer="KZ-ALMATY", at=AT), office_key)
    code = Image.open(BytesIO(qr_png(transit_seal, scale=2))).convert("L")
    return Genuine(
        trust=node.trust(),
        trust_bytes=node.trust_bytes(),
        office_key=office_key,
        transit_seal=transit_seal,
        seal_images={format: image_file(code, format) for format in FORMATS},
        visa_seal=issue_for(_visa(), "Z1234567", node.key(CONSULAR)),
        record=record,
        tree_head=sign_tree_head(key=node.node_key(), node_state="KZ", tree_size=7, root_hash=bytes(32), timestamp=AT),
        event=OutgoingEvent(
            outbox_id=1,
            event_id=record.hash,
            destination="UZ",
            origin="KZ",
            kind=Kind.TRANSIT,
            subject="transit:26KZ0000000000001A",
            seq=1,
            record=record.canonical,
            signature=record.signature,
        ),
    )


def _released() -> Transit:
    transit = Transit.submit(mrn=Mrn("26KZ0000000000001A"), declaration=a_declaration(), at=T0, actor="carrier-kz")
    control = ControlResult(
        office=ALMATY, kind=ControlKind.PHYSICAL, outcome=ControlOutcome.SATISFACTORY, seals=(SEAL,)
    )
    transit.release(office=ALMATY, seals=(SEAL,), control=control, time_limit=AT + timedelta(days=7), at=AT, actor="kz")
    return transit


def _visa() -> Visa:
    zone = MrvA(
        issuing_state="KAZ",
        surname="SHARMA",
        given_names="PRIYA",
        visa_number="KZ0012345",
        nationality="IND",
        date_of_birth=date(1990, 4, 12),
        sex="F",
        valid_until=date(2027, 1, 20),
    )
    terms = VisaTerms(
        valid_from=date(2026, 12, 1),
        valid_until=date(2027, 1, 20),
        duration_of_stay_days=30,
        entries=Entries.MULTIPLE,
        states=("KZ", "KG"),
        excluded_states=(),
    )
    return Visa(
        number="KZ0012345", issuing_state="KZ", issuing_office=CONSULAR, issued_at=AT, terms=terms, mrz=zone.lines()
    )


def sendable(data: dict[str, Any]) -> dict[str, Any]:
    """`data`, checked to be what an API can answer with: JSON without NaN, bytes or anything else `json` refuses."""
    json.dumps(data, allow_nan=False)
    return data


# --- the transit document's seal -----------------------------------------------------------------------------


@FUZZ
@given(text=st.one_of(any_text, st.text(alphabet=BASE45, max_size=300).map(lambda t: "SW1:" + t)))
def test_text_is_never_a_genuine_transit_seal(genuine: Genuine, text: str) -> None:
    verdict = check_seal(text, genuine.trust)

    assert not sendable(verdict.to_json())["genuine"]


@FUZZ
@given(edit=edits, layer=st.sampled_from(["text", "compressed", "cose"]))
def test_a_changed_transit_seal_is_genuine_only_if_it_still_says_what_was_signed(
    genuine: Genuine, edit: Edit, layer: str
) -> None:
    compressed = base45.b45decode(genuine.transit_seal[len(seals.PREFIX) :])
    changed = {
        "text": lambda: edit(genuine.transit_seal.encode()).decode("latin-1"),
        "compressed": lambda: seals.PREFIX + base45.b45encode(edit(compressed)).decode(),
        "cose": lambda: seals.PREFIX + base45.b45encode(zlib.compress(edit(zlib.decompress(compressed)))).decode(),
    }[layer]()
    original = check_seal(genuine.transit_seal, genuine.trust)

    verdict = check_seal(changed, genuine.trust)

    assert original.genuine
    assert not verdict.genuine or (verdict.summary, verdict.key_id) == (original.summary, original.key_id)
    sendable(verdict.to_json())


cbor_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([10**20, -(10**15), 2**64]),
        st.floats(),
        st.text(max_size=8),
        st.binary(max_size=8),
        st.datetimes(timezones=st.just(UTC)),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=4,
)
summaries = st.fixed_dictionaries(
    {
        "v": st.one_of(st.just(1), cbor_values),
        "iss": st.one_of(st.just("KZ-ALMATY"), cbor_values),
        "iat": st.one_of(st.just(int(AT.timestamp())), cbor_values),
    },
    optional=dict.fromkeys(("mrn", "st", "veh", "ctr", "sl", "sln", "it", "lc", "sq", "hd"), cbor_values),
)
"""Summaries as an office's key would sign them: each member right or any CBOR value."""


@FUZZ
@given(summary=summaries)
def test_a_summary_signed_with_any_values_gives_a_verdict_an_api_can_send(
    genuine: Genuine, summary: dict[str, Any]
) -> None:
    assume(len(cbor2.dumps(summary)) < 600)  # what fits in a seal

    verdict = check_seal(seals.seal(summary, genuine.office_key), genuine.trust)

    sendable(verdict.to_json())


@pytest.mark.parametrize(
    "summary",
    [
        {"iat": 10**20},  # past the year 9999: the check raised OverflowError
        {"iat": -(10**15)},  # before the year 1: ValueError
        {"sl": 5},  # a count where the list of seals belongs: TypeError
        {"lc": {"o": "KZ-ALMATY", "t": 10**20}},  # the last control's time past 9999: OverflowError
        {"mrn": b"\xff", "hd": b"\x00"},  # bytes, which no API answer can hold
        {"st": float("nan"), "sq": float("inf")},  # which JSON cannot write
    ],
)
def test_a_seal_whose_summary_is_out_of_range_or_mistyped_is_judged_not_raised(
    genuine: Genuine, summary: dict[str, Any]
) -> None:
    text = seals.seal({"v": 1, "iss": "KZ-ALMATY", "iat": int(AT.timestamp()), **summary}, genuine.office_key)

    data = sendable(check_seal(text, genuine.trust).to_json())

    assert data["issued_at"] is None or data["issued_at"].startswith("2026-11-21")


def test_a_seal_longer_than_any_seal_is_malformed_before_it_is_inflated(genuine: Genuine) -> None:
    bomb = zlib.compress(b"\x00" * 50_000_000, 9)  # 50 MB of zeros, about 50 kB compressed
    text = seals.PREFIX + base45.b45encode(bomb).decode()

    with pytest.raises(MalformedRecord, match="a seal at most 1000"):
        seals.open_seal(text)
    assert check_seal(text, genuine.trust).problems[0].code == "seal_malformed"


# --- the visa's visible digital seal -------------------------------------------------------------------------


@FUZZ
@given(text=st.one_of(any_text, st.text(alphabet=BASE45, max_size=300).map(lambda t: "SWV1:" + t)))
def test_text_is_never_a_genuine_visa_seal(genuine: Genuine, text: str) -> None:
    verdict = check_visa_seal(text, genuine.trust)
    check = TrustedSealReader(lambda: genuine.trust).check(text, issued_at=None)

    assert not sendable(verdict.to_json())["genuine"]
    assert check.problems


@FUZZ
@given(edit=edits)
def test_a_changed_visa_seal_is_never_genuine(genuine: Genuine, edit: Edit) -> None:
    changed = edit(genuine.visa_seal.encode()).decode("latin-1")

    verdict = check_visa_seal(changed, genuine.trust)

    assert check_visa_seal(genuine.visa_seal, genuine.trust).genuine
    assert verdict.genuine == (changed.strip() == genuine.visa_seal)
    sendable(verdict.to_json())


# --- QR codes in images --------------------------------------------------------------------------------------


@FUZZ
@given(
    size=st.tuples(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=40)),
    mode=st.sampled_from(["L", "RGB"]),
    format=st.sampled_from(FORMATS),
    pixels=st.binary(min_size=40 * 40 * 3, max_size=40 * 40 * 3),
)
def test_an_image_of_random_pixels_is_unreadable(size: tuple[int, int], mode: str, format: str, pixels: bytes) -> None:
    image = Image.frombytes("RGB", size, pixels).convert(mode)

    with pytest.raises(UnreadableDocument):
        read_payloads(image_file(image, format))


@settings(FUZZ, max_examples=100)
@given(format=st.sampled_from(FORMATS), edit=edits)
def test_a_damaged_image_of_a_seal_gives_the_seal_itself_or_is_unreadable(
    genuine: Genuine, format: str, edit: Edit
) -> None:
    try:
        payloads = read_payloads(edit(genuine.seal_images[format]))
    except UnreadableDocument as unreadable:
        event(f"unreadable: {unreadable.reason}")
        payloads = []

    genuinely = [p for p in payloads if check_seal(p, genuine.trust).genuine]
    assert genuinely in ([], [genuine.transit_seal])


def test_a_tiff_whose_damage_shows_only_when_its_frames_are_read_is_unreadable() -> None:
    tiff = image_file(Image.new("L", (8, 8), "white"), "TIFF")
    damaged = tiff[:8] + b"\x06" + tiff[9:]  # read, then the frame's dimensions are gone: TypeError escaped

    with pytest.raises(UnreadableDocument) as caught:
        read_payloads(damaged)

    assert caught.value.reason is UnreadableReason.CORRUPT


# --- the trust list ------------------------------------------------------------------------------------------


@FUZZ
@given(data=random_bytes)
def test_bytes_are_a_trust_list_or_refused(genuine: Genuine, data: bytes) -> None:
    with pytest.raises((MalformedRecord, VerificationError)):
        load_trust_list(data)


@FUZZ
@given(edit=edits)
def test_a_changed_trust_list_loads_as_the_genuine_one_or_not_at_all(genuine: Genuine, edit: Edit) -> None:
    changed = edit(genuine.trust_bytes)

    try:
        loaded = load_trust_list(changed)
    except (MalformedRecord, VerificationError):
        return
    assert loaded == genuine.trust


@settings(FUZZ, max_examples=300)
@given(path=paths, value=json_values)
def test_a_trust_list_with_any_value_replaced_loads_as_the_genuine_one_or_not_at_all(
    genuine: Genuine, path: Path, value: Any
) -> None:
    changed = json.dumps(path.replace(json.loads(genuine.trust_bytes), value)).encode()

    try:
        loaded = load_trust_list(changed)
    except (MalformedRecord, VerificationError):
        return
    assert loaded == genuine.trust


def _certificate(document: dict[str, Any]) -> dict[str, Any]:
    certificate: dict[str, Any] = document["sections"][0]["section"]["keys"][0]["certificate"]
    return certificate


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("sections", 0, "section", "keys", 0, "certificate"), "a certificate that is text"),  # AttributeError
        (("sections", 0, "section", "sequence"), float("inf")),  # OverflowError
        (("issued_at",), "0001-01-01T00:00:00+01:00"),  # before the year 1 in UTC: OverflowError
        (("sections", 0, "section", "updated_at"), "9999-12-31T23:59:59-01:00"),  # after 9999 in UTC: OverflowError
        (("node_state",), 10**30),  # an integer JCS cannot write, outside the document's signature check: ValueError
    ],
)
def test_a_trust_list_with_a_value_out_of_range_or_mistyped_is_malformed(
    genuine: Genuine, where: tuple[str | int, ...], value: Any
) -> None:
    document = json.loads(genuine.trust_bytes)
    parent = document
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = value

    with pytest.raises(MalformedRecord):
        load_trust_list(json.dumps(document).encode())


def test_a_trust_list_nested_past_the_parser_is_malformed() -> None:
    with pytest.raises(MalformedRecord):
        load_trust_list(b'{"format": "silkway-trust-list/1", "sections": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")


# --- signed records, tree heads and the exchange's envelopes -------------------------------------------------


@FUZZ
@given(data=random_bytes)
def test_bytes_parse_as_a_record_with_its_envelope_or_are_malformed(data: bytes) -> None:
    try:
        fields = parse_record(data)
    except MalformedRecord:
        return
    assert set(ENVELOPE) <= set(fields)


@FUZZ
@given(edit=edits)
def test_a_changed_record_parses_or_is_malformed_and_its_signature_never_holds(genuine: Genuine, edit: Edit) -> None:
    changed = edit(genuine.record.canonical)

    try:
        fields = parse_record(changed)
    except MalformedRecord:
        fields = dict.fromkeys(ENVELOPE)
    assert set(ENVELOPE) <= set(fields)
    assert genuine.office_key.public.verify(genuine.record.signature, changed) == (changed == genuine.record.canonical)


def test_a_record_nested_past_the_parser_is_malformed() -> None:
    with pytest.raises(MalformedRecord):
        parse_record(b"[" * 100_000)


@FUZZ
@given(value=json_values)
def test_any_json_is_a_tree_head_or_malformed(value: Any) -> None:
    try:
        head = TreeHead.from_json(value)
    except MalformedRecord:
        return
    assert head.tree_size >= 0
    assert len(head.root_hash) == 32


@settings(FUZZ, max_examples=300)
@given(path=paths, value=json_values)
def test_a_tree_head_with_any_value_replaced_is_malformed_or_verifies_only_as_the_genuine_one(
    genuine: Genuine, path: Path, value: Any
) -> None:
    try:
        head = TreeHead.from_json(path.replace(genuine.tree_head.to_json(), value))
    except MalformedRecord:
        return
    assert (verify_tree_head(head, genuine.trust) == []) == (head == genuine.tree_head)


@pytest.mark.parametrize(
    "head",
    [
        [],  # not an object: AttributeError
        {"format": "silkway-tree-head/1", "tree_size": float("inf")},  # OverflowError
        {"format": "silkway-tree-head/1", "timestamp": "0001-01-01T00:00:00+01:00"},  # OverflowError
        {"format": "silkway-tree-head/1", "tree_size": 2**53},  # read, then its check raised ValueError (JCS)
    ],
)
def test_a_tree_head_out_of_range_or_mistyped_is_malformed(genuine: Genuine, head: Any) -> None:
    value = head if isinstance(head, list) else {**genuine.tree_head.to_json(), **head}

    with pytest.raises(MalformedRecord):
        TreeHead.from_json(value)


@FUZZ
@given(data=st.one_of(random_bytes, edits))
def test_bytes_are_an_exchange_event_or_a_wire_error(genuine: Genuine, data: bytes | Edit) -> None:
    message = data(wire.encode(genuine.event, sent_at=AT)) if isinstance(data, Edit) else data

    try:
        event = wire.decode(message)
    except wire.WireError:
        return
    assert event.kind in Kind


def test_an_exchange_event_reads_back_as_sent(genuine: Genuine) -> None:
    sent = genuine.event

    event = wire.decode(wire.encode(sent, sent_at=AT))

    assert (event.event_id, event.origin, event.kind, event.subject, event.seq) == (
        sent.event_id,
        sent.origin,
        sent.kind,
        sent.subject,
        sent.seq,
    )
    assert (event.record, event.signature) == (sent.record, sent.signature)
