"""The visible digital seal of a visa (ICAO Doc 9303 Part 13): C40 and the header against the worked examples
published for the standard, the byte layout, round trips, and every way of breaking a seal.

Expected bytes marked "BSI TR-03137" come from BSI TR-03137 Part 1 v2.5 (2021), "Optically Verifiable
Cryptographic Protection of non-electronic Documents (Digital Seal)", whose encoding is that of Doc 9303-13:
Annex B (C40, tables 6 and 7), § 3.2.3 (dates and C40 of a feature) and the worked examples of Annexes C, D and F
(the last one a version 4 visa seal, feature reference 0x5D, category 0x01).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_signing import T0, Node

from silkway.signing.errors import MalformedRecord
from silkway.signing.keys import SigningKey
from silkway.signing.vds import (
    PREFIX,
    OpenedVisaSeal,
    VdsHeader,
    VisaSealContent,
    decode_c40,
    encode_c40,
    encode_visa_seal,
    issue_visa_seal,
    open_visa_seal,
    read_vds,
    verify_visa_seal,
)

OFFICE = "KZ-ALMATY"
AT = T0 + timedelta(hours=1)
LINE_1 = "V<KAZSMIRNOVA<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<<"
LINE_2 = "KZ00123458RUS9003152F2705206<<<<<<<<<<<<<<<<"
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
HEADER, MESSAGE = slice(0, 38), slice(38, 104)

# BSI TR-03137 Annex F: a version 4 visa seal (MRV-B zone, duration of stay, passport number, brainpoolP224r1).
ANNEX_F = bytes.fromhex(
    "dc036abc6d32c8a72cb10f7134b798155d01"
    "022cdd52134a74da1347c6fed95cb89f9fce133c133c133c133c203833734aaf47f0c32f1a1e20eb2625393afe31"
    "0403a00000"
    "050633be1fed20c6"
    "ff38d5573247608c9b64cae022c1c5249660e51ae316d600f974aac2129c3f093c3595531402630470"
    "5cd24c1b8100711bd4411f068e8d93e8b7"
)


@pytest.fixture(scope="module")
def node() -> Node:
    return Node()


def a_visa(key_id: str, /, **changes: object) -> VisaSealContent:
    content = VisaSealContent(
        issuing_country="KAZ",
        signer="KZC1",
        key_id=key_id,
        issued_on=date(2026, 11, 21),
        signed_on=date(2026, 11, 21),
        mrz=(LINE_1, LINE_2),
        entries=2,
        duration_of_stay=(30, 0, 0),
        passport_number="753912468",
    )
    return replace(content, **changes)  # type: ignore[arg-type]


def outcome(seal: str | bytes, node: Node, *, office: str = OFFICE, at: datetime = AT) -> list[str]:
    """The problem codes of a seal, or ["malformed"]."""
    try:
        opened = open_visa_seal(seal)
    except MalformedRecord:
        return ["malformed"]
    return [p.code for p in verify_visa_seal(opened, node.trust(), office=office, at=at)]


# --- C40 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hex_"),
    [
        ("XK<CD", "eb0466a9"),  # BSI TR-03137 table 6: '<' written as space, last two completed with Shift 1
        ("XKCD", "eb11fe45"),  # table 7: the last single character unlatched, 'D' (68) + 1
        ("BSI01", "62d719c9"),  # § 3.2.3
        ("D<<", "6abc"),  # Annexes C-F: issuing country Germany
        ("DETS0232", "6d32c8a72cb1"),  # Annex F: signer DETS, reference length 02, reference 32
        ("47110815P", "33be1fed20c6"),  # Annex F: passport number
        ("160113000085", "20d5201019a51aea"),  # Annex C: AZR number
        ("65170839J003", "3fee456d2de019a8"),  # Annex D: social insurance number
        (  # Annex C: the 72 characters of a TD2 zone, the length of the sealed part of an MRV-A zone
            "MED<<MUSTERMANN<<ERIK<<<<<<<<<<<<<<<M0000000<4ALB0308212M1604128<<<<<<<2",
            "a5621353d9a275735bd4134bc549133c133c133c133c133ca32519a519a4344a5e681ae7204b20d532cf4b7c133c133f",
        ),
        (  # Annex F: MRV-B line 1 and the first 28 characters of line 2
            "VCD<<DENT<<ARTHUR<PHILIP<<<<<<<<<<<<1234567XY7GBR5203116M2005250",
            "dd52134a74da1347c6fed95cb89f9fce133c133c133c133c203833734aaf47f0c32f1a1e20eb2625393afe31",
        ),
        ("UTO", "d9c5"),  # no published vector: 1600·34 (U) + 40·33 (T) + 28 (O) + 1 = 55749 = 0xd9c5
    ],
)
def test_c40_matches_the_worked_examples(text: str, hex_: str) -> None:
    data = bytes.fromhex(hex_)
    assert encode_c40(text) == data
    assert decode_c40(data) == text


@pytest.mark.parametrize("text", ["kaz", "A-B", "É", "A\n"])
def test_c40_refuses_characters_it_cannot_write(text: str) -> None:
    with pytest.raises(ValueError, match="C40"):
        encode_c40(text)


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("eb"),  # odd length
        encode_c40("AB") + encode_c40("XKC"),  # Shift 1 padding before the end
        bytes.fromhex("fe45") + encode_c40("XKC"),  # unlatch before the end
        bytes.fromhex("fe00"),  # unlatched NUL
        bytes.fromhex("fe62"),  # unlatched 'a'
        bytes.fromhex("fa01"),  # 64001, beyond the 64000 values of a triple
        bytes.fromhex("0001"),  # three Shift 1
        (1600 * 1 + 40 * 14 + 14 + 1).to_bytes(2, "big"),  # Shift 2 then AA
        (1600 * 14 + 40 * 0 + 14 + 1).to_bytes(2, "big"),  # A, Shift 1, A
        (1600 * 14 + 40 * 0 + 0 + 1).to_bytes(2, "big"),  # A and two Shift 1: one character is unlatched instead
    ],
)
def test_c40_decoding_accepts_only_what_the_encoder_writes(data: bytes) -> None:
    with pytest.raises(MalformedRecord):
        decode_c40(data)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", max_size=90))
def test_c40_round_trips_in_two_bytes_per_three_characters(text: str) -> None:
    data = encode_c40(text)
    assert decode_c40(data) == text
    assert len(data) == 2 * -(-len(text) // 3)


# --- the header and the generic layout --------------------------------------------------------------------------


def test_the_annex_f_visa_seal_splits_into_the_published_fields() -> None:
    vds = read_vds(ANNEX_F)
    assert vds.header == VdsHeader(
        issuing_country="D<<",
        signer="DETS",
        certificate_reference="32",
        issued_on=date(2020, 1, 1),  # 0f 71 34
        signed_on=date(2021, 12, 3),  # b7 98 15
        feature_reference=0x5D,
        type_category=0x01,
    )
    assert vds.header.encode() == ANNEX_F[:18]
    assert [tag for tag, _ in vds.features] == [0x02, 0x04, 0x05]
    assert vds.features[1][1] == bytes([160, 0, 0])  # a duration of stay of 160 days
    assert decode_c40(vds.features[2][1]) == "47110815P"
    assert len(vds.signature) == 0x38
    assert vds.signed == ANNEX_F[: ANNEX_F.index(b"\xff\x38")]


def test_a_header_date_is_the_integer_mmddyyyy_in_three_bytes() -> None:
    # BSI TR-03137 § 3.2.3: 25 March 1957 → 03251957 → 0x319ef5
    header = VdsHeader(
        issuing_country="UTO",
        signer="UTS1",
        certificate_reference="7",
        issued_on=date(1957, 3, 25),
        signed_on=date(2026, 12, 31),
        feature_reference=0x5D,
        type_category=0x01,
    )
    encoded = header.encode()
    assert decode_c40(encoded[4:10]) == "UTS1017"  # 7 characters: two triples and an unlatched one
    assert encoded[10:13] == bytes.fromhex("319ef5")
    assert encoded[13:16] == (12312026).to_bytes(3, "big")


def test_a_seal_from_a_foreign_profile_is_read_but_not_opened_as_a_silkway_visa() -> None:
    with pytest.raises(MalformedRecord, match="MRV-B"):
        open_visa_seal(ANNEX_F)


# --- the visa seal --------------------------------------------------------------------------------------------


def test_a_genuine_visa_seal_round_trips_and_verifies(node: Node) -> None:
    key = node.key(OFFICE)
    content = a_visa(key.key_id)
    text = issue_visa_seal(content, key)
    raw = encode_visa_seal(content, key)

    assert text.startswith(PREFIX)
    assert set(text[len(PREFIX) :]) <= QR_ALPHANUMERIC
    for opened in (open_visa_seal(text), open_visa_seal(raw), open_visa_seal(f"  {text}\r\n")):
        assert opened.content == content
        assert opened.raw == raw
        assert opened.text == text
        assert verify_visa_seal(opened, node.trust(), office=OFFICE, at=AT) == []
    assert encode_visa_seal(open_visa_seal(raw).content, key) == raw  # one encoding per content


def test_the_seal_has_the_layout_of_part_13(node: Node) -> None:
    key = node.key(OFFICE)
    raw = encode_visa_seal(a_visa(key.key_id), key)
    assert len(raw) == 170
    assert raw[:2] == bytes([0xDC, 0x03])
    assert decode_c40(raw[2:4]) == "KAZ"
    assert decode_c40(raw[4:30]) == "KZC120" + key.key_id.upper()
    assert raw[30:33] == (11212026).to_bytes(3, "big")
    assert raw[36:38] == bytes([0x5D, 0x01])
    assert raw[38:40] == bytes([0x01, 0x30])
    assert decode_c40(raw[40:88]) == LINE_1 + LINE_2[:28]
    assert raw[88:96] == bytes([0x03, 0x01, 0x02, 0x04, 0x03, 30, 0, 0])
    assert raw[96:98] == bytes([0x05, 0x06])
    assert decode_c40(raw[98:104]) == "753912468"
    assert raw[104:106] == bytes([0xFF, 0x40])
    assert key.public.verify(raw[106:], raw[:104])


def test_a_typical_visa_seal_fits_a_qr_code_in_260_characters(node: Node) -> None:
    key = node.key(OFFICE)
    multiple = a_visa(key.key_id, entries=0, duration_of_stay=(0, 6, 1), passport_number="N1")
    assert len(issue_visa_seal(a_visa(key.key_id), key)) == 260
    assert len(issue_visa_seal(multiple, key)) == 260  # every field has a fixed length
    assert open_visa_seal(issue_visa_seal(multiple, key)).content == multiple


def test_only_the_72_characters_icao_seals_are_protected(node: Node) -> None:
    key = node.key(OFFICE)
    # ICAO Doc 9303 Part 7's MRV-A specimen: line 2 carries optional data after position 28
    specimen = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<")
    content = a_visa(key.key_id, mrz=specimen)
    other_optional_data = a_visa(key.key_id, mrz=(specimen[0], specimen[1][:28] + "<" * 16))

    opened = open_visa_seal(issue_visa_seal(content, key))
    assert opened.content.mrz == (specimen[0], "L8988901C4XXX4009078F9612109" + "<" * 16)
    assert opened.content.sealed_mrz == content.sealed_mrz == specimen[0] + specimen[1][:28]
    assert encode_visa_seal(content, key) == encode_visa_seal(other_optional_data, key)


def test_a_seal_cannot_name_another_key_than_the_one_signing(node: Node) -> None:
    content = a_visa(node.key("KZ-BORDER").key_id)
    with pytest.raises(ValueError, match="signed with key"):
        issue_visa_seal(content, node.key(OFFICE))


@pytest.mark.parametrize(
    "changes",
    [
        {"issuing_country": "kaz"},
        {"issuing_country": "KZ"},
        {"signer": "K1C1"},
        {"signer": "KZC12"},
        {"key_id": "AB" * 16},
        {"key_id": "ab" * 8},
        {"issued_on": datetime(2026, 11, 21, tzinfo=UTC)},
        {"mrz": (LINE_1, LINE_2[:43])},
        {"mrz": (LINE_1,)},
        {"mrz": ("P" + LINE_1[1:], LINE_2)},
        {"mrz": (LINE_1, LINE_2.replace("<", " "))},
        {"entries": 256},
        {"entries": -1},
        {"duration_of_stay": (255, 0, 0)},
        {"duration_of_stay": (30, 0)},
        {"duration_of_stay": (256, 0, 0)},
        {"passport_number": ""},
        {"passport_number": "1234567890"},
        {"passport_number": "AB<12"},
        {"passport_number": "ab12"},
    ],
)
def test_content_that_a_visa_seal_cannot_state_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message; any ValueError is the refusal
        a_visa("ab" * 16, **changes)


def test_reserved_durations_of_stay_are_sealed_whole(node: Node) -> None:
    key = node.key(OFFICE)
    for stay in [(255, 255, 255), (254, 254, 254), (0, 0, 0)]:
        content = a_visa(key.key_id, duration_of_stay=stay)
        assert open_visa_seal(issue_visa_seal(content, key)).content == content


# --- tampering and garbage ------------------------------------------------------------------------------------


def test_every_flipped_bit_is_caught(node: Node) -> None:
    key = node.key(OFFICE)
    raw = encode_visa_seal(a_visa(key.key_id), key)
    seen: set[str] = set()
    for i in range(len(raw)):
        for mask in (0x01, 0x10, 0x80):
            flipped = raw[:i] + bytes([raw[i] ^ mask]) + raw[i + 1 :]
            codes = outcome(flipped, node)
            # a changed certificate reference may name another key, unknown to the trust list
            allowed = {"malformed", "seal_signature", "seal_unknown_key"} if i < 106 else {"seal_signature"}
            assert len(codes) == 1, (i, mask, codes)
            assert codes[0] in allowed, (i, mask, codes)
            seen.add(codes[0])
    assert seen == {"malformed", "seal_signature", "seal_unknown_key"}


def test_truncated_or_extended_seals_are_malformed(node: Node) -> None:
    key = node.key(OFFICE)
    raw = encode_visa_seal(a_visa(key.key_id), key)
    text = issue_visa_seal(a_visa(key.key_id), key)
    for length in range(len(raw)):
        with pytest.raises(MalformedRecord):
            open_visa_seal(raw[:length])
    for junk in (b"\x00", b"\xff", raw):
        with pytest.raises(MalformedRecord, match="follow the seal's signature"):
            open_visa_seal(raw + junk)
    for broken in (text[:-1], text[:-3], text[:-2], text + "00", text.lower(), "SW1:" + text[len(PREFIX) :]):
        with pytest.raises(MalformedRecord):
            open_visa_seal(broken)


# A seal of a fixed key, for what the reader refuses before any key is looked up
FIXED_KEY = SigningKey.from_seed(bytes(range(32)))
RAW = encode_visa_seal(a_visa(FIXED_KEY.key_id), FIXED_KEY)
MRZ, ENTRIES, STAY, PASSPORT = RAW[38:88], RAW[88:91], RAW[91:96], RAW[96:104]
FIXED_HEADER = read_vds(RAW).header


def _rebuild(*, header: VdsHeader | None = None, message: bytes | None = None, signature: bytes | None = None) -> bytes:
    return (
        (RAW[HEADER] if header is None else header.encode())
        + (RAW[MESSAGE] if message is None else message)
        + (RAW[104:] if signature is None else signature)
    )


NOT_OPENED = {
    "magic": bytes([0xDD]) + RAW[1:],
    "version 3": bytes([0xDC, 0x02]) + RAW[2:],
    "feature reference": _rebuild(header=replace(FIXED_HEADER, feature_reference=0x5E)),
    "type category": _rebuild(header=replace(FIXED_HEADER, type_category=0x03)),
    "short reference": _rebuild(header=replace(FIXED_HEADER, certificate_reference="ABC")),
    "reference not hex": _rebuild(header=replace(FIXED_HEADER, certificate_reference="G" * 32)),
    "no date": RAW[:30] + bytes(3) + RAW[33:],
    "13th month": RAW[:30] + (13012026).to_bytes(3, "big") + RAW[33:],
    "no feature": _rebuild(message=b""),
    "reordered": _rebuild(message=MRZ + STAY + ENTRIES + PASSPORT),
    "repeated": _rebuild(message=MRZ + ENTRIES + ENTRIES + STAY + PASSPORT),
    "missing": _rebuild(message=MRZ + ENTRIES + PASSPORT),
    "visa type": _rebuild(message=RAW[MESSAGE] + bytes([0x06, 0x01, 0x07])),
    "MRV-B": _rebuild(message=bytes([0x02, 0x2C]) + encode_c40("V" * 64) + ENTRIES + STAY + PASSPORT),
    "long length": _rebuild(message=bytes([0x01, 0x81, 0x30]) + MRZ[2:] + ENTRIES + STAY + PASSPORT),
    "short MRZ": _rebuild(message=bytes([0x01, 0x2E]) + MRZ[2:48] + ENTRIES + STAY + PASSPORT),
    "P zone": _rebuild(
        message=bytes([0x01, 0x30]) + encode_c40("P" + (LINE_1 + LINE_2)[1:72]) + ENTRIES + STAY + PASSPORT
    ),
    "entries of 2 bytes": _rebuild(message=MRZ + bytes([0x03, 0x02, 0, 2]) + STAY + PASSPORT),
    "lone 255": _rebuild(message=MRZ + ENTRIES + bytes([0x04, 0x03, 255, 0, 0]) + PASSPORT),
    "filler inside": _rebuild(message=MRZ + ENTRIES + STAY + bytes([5, 6]) + encode_c40("AB<CD<<<<")),
    "only fillers": _rebuild(message=MRZ + ENTRIES + STAY + bytes([5, 6]) + encode_c40("<" * 9)),
    "passport of 8": _rebuild(message=MRZ + ENTRIES + STAY + bytes([5, 6]) + encode_c40("12345678")),
    "short signature": _rebuild(signature=bytes([0xFF, 0x3F]) + RAW[106:169]),
    "no signature": _rebuild(signature=bytes([0xFF, 0x00])),
    "indefinite length": _rebuild(signature=bytes([0xFF, 0x80]) + RAW[106:]),
}


def test_the_fixed_seal_opens_so_each_case_below_breaks_one_thing() -> None:
    assert open_visa_seal(_rebuild()).content == a_visa(FIXED_KEY.key_id)


@pytest.mark.parametrize("case", list(NOT_OPENED))
def test_the_reader_refuses_every_other_layout(case: str) -> None:
    with pytest.raises(MalformedRecord):
        open_visa_seal(NOT_OPENED[case])


def test_text_that_is_no_visa_seal_is_malformed() -> None:
    for text in ["", "SWV1:", "SWV1:A", "SWV1:$$$", "SW1:6BFOXN", "HC1:" + "A" * 60, "swv1:" + "A" * 255]:
        with pytest.raises(MalformedRecord):
            open_visa_seal(text)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_raise_nothing_but_malformed_record(data: bytes) -> None:
    for candidate in (data, bytes([0xDC, 0x03]) + data):
        try:
            opened = open_visa_seal(candidate)
        except MalformedRecord:
            continue
        assert isinstance(opened, OpenedVisaSeal)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=[*sorted(QR_ALPHANUMERIC), "a", "\n"], max_size=400))
def test_random_text_raises_nothing_but_malformed_record(text: str) -> None:
    with pytest.raises(MalformedRecord):
        open_visa_seal(PREFIX + text)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 170), end=st.integers(0, 170), junk=st.binary(max_size=60))
def test_spliced_seals_raise_nothing_but_malformed_record(start: int, end: int, junk: bytes) -> None:
    spliced = RAW[:start] + junk + RAW[end:]
    try:
        opened = open_visa_seal(spliced)
    except MalformedRecord:
        return
    assert opened.raw == spliced
    genuine = opened.signed == RAW[:104] and opened.signature == RAW[106:]
    assert FIXED_KEY.public.verify(opened.signature, opened.signed) == genuine


# --- trust ----------------------------------------------------------------------------------------------------


def test_a_seal_signed_by_a_key_unknown_to_the_trust_list_is_caught(node: Node) -> None:
    stranger = SigningKey.generate()
    assert outcome(issue_visa_seal(a_visa(stranger.key_id), stranger), node) == ["seal_unknown_key"]


def test_a_seal_claiming_another_issuing_office_is_caught(node: Node) -> None:
    key = node.key(OFFICE)
    text = issue_visa_seal(a_visa(key.key_id), key)
    assert outcome(text, node, office="KZ-BORDER") == ["wrong_office"]
    assert outcome(text, node, office="UZ-BORDER") == ["wrong_state"]


def test_a_seal_signed_with_a_revoked_key_after_its_compromise_is_caught() -> None:
    node = Node()
    stolen = node.key(OFFICE)
    text = issue_visa_seal(a_visa(stolen.key_id), stolen)
    node.authority.revoke(stolen.key_id, compromised_at=T0 + timedelta(hours=2), now=T0 + timedelta(days=1))
    assert outcome(text, node, at=T0 + timedelta(hours=1)) == []
    assert outcome(text, node, at=T0 + timedelta(hours=3)) == ["key_revoked"]


def test_a_seal_whose_content_was_swapped_under_its_signature_is_caught(node: Node) -> None:
    key = node.key(OFFICE)
    genuine = open_visa_seal(issue_visa_seal(a_visa(key.key_id), key))
    forged_content = a_visa(key.key_id, duration_of_stay=(0, 0, 5))
    forged = OpenedVisaSeal(
        content=forged_content,
        signed=encode_visa_seal(forged_content, key)[:104],
        signature=genuine.signature,
        raw=genuine.raw,
    )
    problems = verify_visa_seal(forged, node.trust(), office=OFFICE, at=AT)
    assert [p.code for p in problems] == ["seal_signature"]
    assert re.search("altered", problems[0].message)
