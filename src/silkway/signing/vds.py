"""The visible digital seal of a visa, as ICAO Doc 9303 Part 13 lays it out, signed with an office's Ed25519 key.

A seal is `header ‖ message zone ‖ signature zone` (Part 13, version 4 header; the visa features of Part 7):

    header (38 bytes)
      0xDC                      magic constant
      0x03                      version 4
      2 bytes                   issuing state, alpha-3 in C40 (`KAZ`)
      26 bytes                  C40 of signer (4: state alpha-2 + 2 alphanumerics) ‖ length of the certificate
                                reference (2 hex digits: `20`) ‖ certificate reference (the 32 hex digits of the
                                office's key id, upper case in C40, lower case everywhere else in Silkway)
      3 bytes + 3 bytes         document issue date, signature creation date: the integer MMDDYYYY, big-endian
      0x5D, 0x01                document feature definition reference and document type category of a visa
    message zone (66 bytes), document features as tag ‖ DER length ‖ value, in this order:
      0x01 0x30 + 48 bytes      MRZ of an MRV-A: line 1 and the first 28 characters of line 2 (72 characters, C40)
      0x03 0x01 + 1 byte        number of entries (0: multiple)
      0x04 0x03 + 3 bytes       duration of stay: days, months, years
      0x05 0x06 + 6 bytes       number of the passport the visa is affixed to (9 characters, C40, `<`-padded)
    signature zone (66 bytes)
      0xFF 0x40 + 64 bytes      the signature over header ‖ message zone

C40 is that of Part 13 (after ISO/IEC 16022): three characters make the 16-bit value 1600·c1 + 40·c2 + c3 + 1,
written big-endian; two characters left over are completed with Shift 1 (0); one left over is written as 0xFE and
its DataMatrix ASCII value (its code + 1). The MRZ filler `<` is written as a space and read back as `<`.

Deviation from ICAO, the only one in the layout: Part 13 prescribes ECDSA and an X.509 signer certificate chained
to a CSCA. Silkway's trust core signs with Ed25519 (RFC 8032), so the signature zone holds the 64-byte Ed25519
signature over the bytes of header ‖ message zone, and the certificate reference names the key on Silkway's
trust list, which stands in for the signer certificate. A reader of stock ICAO seals will parse every field of
these seals but cannot verify them.

Two choices ICAO leaves open or does not make:
- The text form, for QR codes and APIs, is `SWV1:` followed by the Base45 (RFC 9285) of the raw bytes, so the
  QR code stays in alphanumeric mode. Every field has a fixed length, so every seal is 170 bytes and its text
  260 characters. The raw bytes suit a DataMatrix, the symbology ICAO names.
- The reader is strict: it reads version 4 visa seals with an MRV-A zone and the four features above, in
  that order, with minimal lengths and canonical C40, and nothing after the signature. An MRV-B zone, the
  optional visa type (0x06) and additional features (0x07) of Part 7 are refused rather than skipped. So every
  seal it accepts has one encoding, and the content it returns encodes back to the very bytes that were signed.

Only the 72 characters of the MRZ that ICAO seals are protected: positions 29–44 of line 2 (optional data)
are not. `open_visa_seal` returns line 2 completed with 16 fillers; compare `VisaSealContent.sealed_mrz` with
the printed zone, never the whole second line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import base45  # type: ignore[import-untyped]

from silkway.signing.encoding import instant
from silkway.signing.errors import MalformedRecord, Problem
from silkway.signing.keys import SigningKey
from silkway.signing.trustlist import KeyUsage, TrustList

PREFIX = "SWV1:"
MAGIC = 0xDC
VERSION_4 = 0x03  # Part 13 writes version n as n - 1
VISA_FEATURE_REFERENCE = 0x5D
VISA_TYPE_CATEGORY = 0x01
SIGNATURE_MARKER = 0xFF

TAG_MRZ_MRV_A = 0x01
TAG_MRZ_MRV_B = 0x02
TAG_ENTRIES = 0x03
TAG_DURATION_OF_STAY = 0x04
TAG_PASSPORT_NUMBER = 0x05

MULTIPLE_ENTRIES = 0
MRZ_LINE_LENGTH = 44
SEALED_LINE_2 = 28  # line 2 up to the check digit of the expiry date; the optional data after it is not sealed
PASSPORT_NUMBER_LENGTH = 9
KEY_ID_LENGTH = 32
SIGNATURE_LENGTH = 64

_C40_CHARSET = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # C40 values 3..39; 0..2 are the shifts
_C40_VALUE = {char: value for value, char in enumerate(_C40_CHARSET, start=3)}
_UNLATCH = 0xFE

_COUNTRY = re.compile(r"[A-Z][A-Z<]{2}")
_SIGNER = re.compile(r"[A-Z]{2}[A-Z0-9]{2}")
_REFERENCE = re.compile(r"[A-Z0-9]{1,255}")
_KEY_ID = re.compile(r"[0-9a-f]{32}")
_MRZ_LINE = re.compile(r"[A-Z0-9<]{44}")
_PASSPORT_NUMBER = re.compile(r"[A-Z0-9]{1,9}")


# --- C40 -----------------------------------------------------------------------------------------------------


def encode_c40(text: str) -> bytes:
    """C40 bytes of `text` (upper-case letters, digits, space and `<`, which is written as a space).

    Three characters take two bytes; so do the two or the one left at the end. On any other character, raises
    `ValueError`.
    """
    values = []
    for char in text.replace("<", " "):
        if char not in _C40_VALUE:
            raise ValueError(f"{char!r} cannot be written in C40: only A-Z, 0-9, space and < can")
        values.append(_C40_VALUE[char])
    out = bytearray()
    whole = len(values) - len(values) % 3
    for i in range(0, whole, 3):
        out += _c40_pair(values[i], values[i + 1], values[i + 2])
    rest = values[whole:]
    if len(rest) == 2:
        out += _c40_pair(rest[0], rest[1], 0)  # completed with Shift 1
    elif len(rest) == 1:
        out += bytes([_UNLATCH, ord(_C40_CHARSET[rest[0] - 3]) + 1])  # unlatch, then DataMatrix ASCII
    return bytes(out)


def decode_c40(data: bytes) -> str:
    """The text of C40 bytes, with spaces read as the MRZ filler `<`.

    Accepts only what `encode_c40` writes: pairs of bytes, Shift 1 only to complete the last pair, an unlatch
    only as the last pair. On anything else, raises `MalformedRecord`.
    """
    if len(data) % 2:
        raise MalformedRecord("C40 text has an odd number of bytes")
    chars: list[str] = []
    for i in range(0, len(data), 2):
        last = i + 2 == len(data)
        first, second = data[i], data[i + 1]
        if first == _UNLATCH:
            char = chr(second - 1) if second else ""
            if not last or char not in _C40_VALUE:
                raise MalformedRecord("C40 text has a misplaced or invalid unlatched character")
            chars.append(char)
            continue
        number = first * 256 + second - 1
        if not 0 <= number < 64000:
            raise MalformedRecord(f"C40 pair {first:02x}{second:02x} is out of range")
        c1, c2, c3 = number // 1600, number // 40 % 40, number % 40
        if c1 < 3 or c2 < 3 or (c3 < 3 and not (last and c3 == 0)):
            raise MalformedRecord(f"C40 pair {first:02x}{second:02x} holds a shift where a character belongs")
        chars += [_C40_CHARSET[c - 3] for c in (c1, c2, c3) if c]
    return "".join(chars).replace(" ", "<")


def _c40_pair(c1: int, c2: int, c3: int) -> bytes:
    return (1600 * c1 + 40 * c2 + c3 + 1).to_bytes(2, "big")


def _c40_length(chars: int) -> int:
    return 2 * -(-chars // 3)


# --- the generic layout: header, features, signature -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class VdsHeader:
    """A version 4 header of Part 13.

    `issuing_country` is an ICAO alpha-3 code (`KAZ`, `D<<`); `signer` the state's alpha-2 code and two letters
    or digits; `certificate_reference` 1 to 255 upper-case letters or digits; the two references are bytes. On
    anything else, raises `ValueError`.
    """

    issuing_country: str
    signer: str
    certificate_reference: str
    issued_on: date
    signed_on: date
    feature_reference: int
    type_category: int

    def __post_init__(self) -> None:
        if not _COUNTRY.fullmatch(self.issuing_country):
            raise ValueError(f"issuing country {self.issuing_country!r} is not an ICAO alpha-3 code")
        if not _SIGNER.fullmatch(self.signer):
            raise ValueError(f"signer {self.signer!r} is not a state's alpha-2 code and two letters or digits")
        if not _REFERENCE.fullmatch(self.certificate_reference):
            raise ValueError("a certificate reference has 1 to 255 upper-case letters or digits")
        for day in (self.issued_on, self.signed_on):
            if type(day) is not date:
                raise ValueError(f"{day!r} is not a date (a datetime is not one either)")
        if not (0 <= self.feature_reference <= 255 and 0 <= self.type_category <= 255):
            raise ValueError("the feature definition reference and the document type category are bytes")

    def encode(self) -> bytes:
        reference = self.certificate_reference
        signer = f"{self.signer}{len(reference):02X}{reference}"
        return (
            bytes([MAGIC, VERSION_4])
            + encode_c40(self.issuing_country)
            + encode_c40(signer)
            + _date_bytes(self.issued_on)
            + _date_bytes(self.signed_on)
            + bytes([self.feature_reference, self.type_category])
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VisibleDigitalSeal:
    """A seal split into its zones, its features not yet interpreted. `signed` is header ‖ message zone."""

    header: VdsHeader
    features: tuple[tuple[int, bytes], ...]
    signature: bytes
    signed: bytes
    raw: bytes


def read_vds(raw: bytes) -> VisibleDigitalSeal:
    """Split a version 4 seal into header, features and signature, whatever its document type.

    On a wrong magic constant or version, a truncated zone, a non-minimal length, invalid C40 or a date that does
    not exist, no feature, or bytes after the signature zone, raises `MalformedRecord`.
    """
    reader = _Reader(raw)
    if reader.byte() != MAGIC:
        raise MalformedRecord("not a visible digital seal: it does not start with 0xDC")
    version = reader.byte()
    if version != VERSION_4:
        raise MalformedRecord(f"seal version byte {version:#04x} is not read here: only version 4 (0x03) is")
    country = decode_c40(reader.take(2))
    signer_and_length = decode_c40(reader.take(4))
    if len(signer_and_length) != 6 or not re.fullmatch(r"[0-9A-F]{2}", signer_and_length[4:]):
        raise MalformedRecord("the seal's signer and certificate reference length are malformed")
    length = int(signer_and_length[4:], 16)
    reference = decode_c40(reader.take(_c40_length(length)))
    if len(reference) != length:
        raise MalformedRecord("the seal's certificate reference does not have the length it announces")
    try:
        header = VdsHeader(
            issuing_country=country,
            signer=signer_and_length[:4],
            certificate_reference=reference,
            issued_on=_date_of(reader.take(3)),
            signed_on=_date_of(reader.take(3)),
            feature_reference=reader.byte(),
            type_category=reader.byte(),
        )
    except MalformedRecord:
        raise
    except ValueError as exc:
        raise MalformedRecord(f"the seal's header is malformed: {exc}") from exc
    features: list[tuple[int, bytes]] = []
    while (tag := reader.byte()) != SIGNATURE_MARKER:
        features.append((tag, reader.take(reader.length())))
    if not features:
        raise MalformedRecord("the seal's message zone holds no document feature")
    signed = raw[: reader.position - 1]
    signature = reader.take(reader.length())
    if reader.position != len(raw):
        raise MalformedRecord(f"{len(raw) - reader.position} bytes follow the seal's signature")
    return VisibleDigitalSeal(header=header, features=tuple(features), signature=signature, signed=signed, raw=raw)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def take(self, count: int) -> bytes:
        if self.position + count > len(self.data):
            raise MalformedRecord("the seal is truncated")
        chunk = self.data[self.position : self.position + count]
        self.position += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def length(self) -> int:
        """A DER definite length in its shortest form (short form below 128, then 0x81 nn or 0x82 nn nn)."""
        first = self.byte()
        if first < 0x80:
            return first
        if first not in (0x81, 0x82):
            raise MalformedRecord(f"length byte {first:#04x} is not a DER length of at most two bytes")
        value = int.from_bytes(self.take(first - 0x80), "big")
        if value < (0x80 if first == 0x81 else 0x100):
            raise MalformedRecord("a length is not in its shortest DER form")
        return value


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length <= 0xFF:
        return bytes([0x81, length])
    return bytes([0x82]) + length.to_bytes(2, "big")


def _feature(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(value)) + value


def _date_bytes(day: date) -> bytes:
    return int(f"{day.month:02d}{day.day:02d}{day.year:04d}").to_bytes(3, "big")


def _date_of(data: bytes) -> date:
    digits = f"{int.from_bytes(data, 'big'):08d}"
    try:
        return date(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
    except ValueError as exc:
        raise MalformedRecord(f"{data.hex()} is not a date written MMDDYYYY") from exc


# --- the visa ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaSealContent:
    """What the seal of a visa states. Every field is sealed except line 2 of the MRZ after position 28.

    - `issuing_country`: ICAO alpha-3 code of the issuing state (`KAZ`);
    - `signer`: the state's alpha-2 code and two letters or digits naming the issuing signer (`KZC1`);
    - `key_id`: the 32 lower-case hex digits of the office key that signs (the certificate reference);
    - `issued_on`, `signed_on`: the visa's issue date and the date of the signature;
    - `mrz`: the two 44-character lines of the MRV-A zone; line 1 starts with `V`;
    - `entries`: 0 to 255, `MULTIPLE_ENTRIES` (0) for a multiple-entry visa;
    - `duration_of_stay`: (days, months, years), each 0 to 255; 255 only as (255, 255, 255), the value that
      implementations of Germany's visa profile (BSI TR-03137) reserve;
    - `passport_number`: 1 to 9 letters or digits, without fillers.

    The MRZ check digits are not checked here: that is `silkway.visas`'s concern. On anything else, raises
    `ValueError`.
    """

    issuing_country: str
    signer: str
    key_id: str
    issued_on: date
    signed_on: date
    mrz: tuple[str, str]
    entries: int
    duration_of_stay: tuple[int, int, int]
    passport_number: str

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError(f"key id {self.key_id!r} is not {KEY_ID_LENGTH} lower-case hex digits")
        if len(self.mrz) != 2 or not all(_MRZ_LINE.fullmatch(line) for line in self.mrz):
            raise ValueError("an MRV-A zone is two lines of 44 characters A-Z, 0-9 and <")
        if not self.mrz[0].startswith("V"):
            raise ValueError("the MRZ of a visa starts with V")
        if not 0 <= self.entries <= 255:
            raise ValueError("the number of entries is 0 (multiple) to 255")
        stay = self.duration_of_stay
        if len(stay) != 3 or not all(0 <= n <= 255 for n in stay) or (255 in stay and stay != (255, 255, 255)):
            raise ValueError("the duration of stay is (days, months, years), each 0 to 254, or (255, 255, 255)")
        if not _PASSPORT_NUMBER.fullmatch(self.passport_number):
            raise ValueError("a passport number is 1 to 9 letters or digits")
        self._header()  # checks the header's fields

    @property
    def sealed_mrz(self) -> str:
        """The 72 characters of the MRZ the seal protects: line 1 and the first 28 of line 2."""
        return self.mrz[0] + self.mrz[1][:SEALED_LINE_2]

    def _header(self) -> VdsHeader:
        return VdsHeader(
            issuing_country=self.issuing_country,
            signer=self.signer,
            certificate_reference=self.key_id.upper(),
            issued_on=self.issued_on,
            signed_on=self.signed_on,
            feature_reference=VISA_FEATURE_REFERENCE,
            type_category=VISA_TYPE_CATEGORY,
        )

    def _message_zone(self) -> bytes:
        return (
            _feature(TAG_MRZ_MRV_A, encode_c40(self.sealed_mrz))
            + _feature(TAG_ENTRIES, bytes([self.entries]))
            + _feature(TAG_DURATION_OF_STAY, bytes(self.duration_of_stay))
            + _feature(TAG_PASSPORT_NUMBER, encode_c40(self.passport_number.ljust(PASSPORT_NUMBER_LENGTH, "<")))
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedVisaSeal:
    """A decoded visa seal, not yet judged: its content, the signed bytes, the signature and the whole seal."""

    content: VisaSealContent
    signed: bytes
    signature: bytes
    raw: bytes

    @property
    def text(self) -> str:
        return _text(self.raw)


def encode_visa_seal(content: VisaSealContent, key: SigningKey) -> bytes:
    """The seal's raw bytes (170), for a DataMatrix. If `key` is not the key `content` names, raises `ValueError`."""
    if key.key_id != content.key_id:
        raise ValueError(f"the seal names key {content.key_id} but would be signed with key {key.key_id}")
    signed = content._header().encode() + content._message_zone()
    return signed + _feature(SIGNATURE_MARKER, key.sign(signed))


def issue_visa_seal(content: VisaSealContent, key: SigningKey) -> str:
    """The seal's text for a QR code or an API: `SWV1:` and Base45, 260 characters. Raises as `encode_visa_seal`."""
    return _text(encode_visa_seal(content, key))


def open_visa_seal(seal: str | bytes) -> OpenedVisaSeal:
    """Decode a visa seal, given as its text (`SWV1:…`) or its raw bytes, without judging it.

    On anything that is not a seal this module writes — bad prefix or Base45, a layout that `read_vds` refuses,
    another document type, an MRV-B zone, a missing, extra, repeated or reordered feature, a length that is not
    the visa profile's, fillers inside the passport number, a certificate reference that is no key id, a
    signature that is not 64 bytes — raises `MalformedRecord`.
    """
    if isinstance(seal, str):
        text = seal.strip()
        if not text.startswith(PREFIX):
            raise MalformedRecord(f"not a Silkway visa seal: it does not start with {PREFIX}")
        try:
            raw = bytes(base45.b45decode(text[len(PREFIX) :]))
        except ValueError as exc:
            raise MalformedRecord("the visa seal's text is not Base45") from exc
    else:
        raw = bytes(seal)
    vds = read_vds(raw)
    header = vds.header
    if (header.feature_reference, header.type_category) != (VISA_FEATURE_REFERENCE, VISA_TYPE_CATEGORY):
        raise MalformedRecord(
            f"not a visa seal: document feature reference {header.feature_reference:#04x} and type category "
            f"{header.type_category:#04x}, not 0x5d and 0x01"
        )
    tags = [tag for tag, _ in vds.features]
    if TAG_MRZ_MRV_B in tags:
        raise MalformedRecord("the seal holds an MRV-B zone: Silkway visas are MRV-A")
    expected = [TAG_MRZ_MRV_A, TAG_ENTRIES, TAG_DURATION_OF_STAY, TAG_PASSPORT_NUMBER]
    if tags != expected:
        raise MalformedRecord(f"the visa seal's features are tags {tags}, not {expected}")
    mrz, entries, stay, passport = (value for _, value in vds.features)
    if (len(mrz), len(entries), len(stay), len(passport)) != (48, 1, 3, 6):
        raise MalformedRecord("a feature of the visa seal does not have the length of the visa profile")
    mrz_text, passport_text = decode_c40(mrz), decode_c40(passport)
    number = passport_text.rstrip("<")
    if len(mrz_text) != 72 or len(passport_text) != PASSPORT_NUMBER_LENGTH or "<" in number:
        raise MalformedRecord("the visa seal's MRZ or passport number has the wrong length or misplaced fillers")
    if not re.fullmatch(r"[0-9A-F]{32}", header.certificate_reference):
        raise MalformedRecord("the seal's certificate reference is not a Silkway key id")
    if len(vds.signature) != SIGNATURE_LENGTH:
        raise MalformedRecord(f"the seal's signature has {len(vds.signature)} bytes, not an Ed25519 signature's 64")
    try:
        content = VisaSealContent(
            issuing_country=header.issuing_country,
            signer=header.signer,
            key_id=header.certificate_reference.lower(),
            issued_on=header.issued_on,
            signed_on=header.signed_on,
            mrz=(mrz_text[:MRZ_LINE_LENGTH], mrz_text[MRZ_LINE_LENGTH:].ljust(MRZ_LINE_LENGTH, "<")),
            entries=entries[0],
            duration_of_stay=(stay[0], stay[1], stay[2]),
            passport_number=number,
        )
    except ValueError as exc:
        raise MalformedRecord(f"the visa seal's content is invalid: {exc}") from exc
    return OpenedVisaSeal(content=content, signed=vds.signed, signature=vds.signature, raw=raw)


def verify_visa_seal(opened: OpenedVisaSeal, trust: TrustList, *, office: str, at: datetime) -> list[Problem]:
    """Problems with a visa seal claimed to be issued by `office` at `at`; empty when it is genuine.

    Codes: `seal_unknown_key` (the key is not on the trust list), `seal_signature` (the seal was altered or is not
    that key's), and the signer checks of `TrustList.problem_with_signer` (`wrong_office`, `key_revoked`, ...).
    The seal's own `signed_on` is not compared with `at`: the caller says when the visa was issued.
    """
    key_id = opened.content.key_id
    entry = trust.key(key_id)
    if entry is None:
        return [Problem("seal_unknown_key", f"the visa seal is signed with key {key_id}, unknown to the trust list")]
    if not entry.certificate.public_key.verify(opened.signature, opened.signed):
        return [Problem("seal_signature", "the visa seal's signature does not match its content: it was altered")]
    problem = trust.problem_with_signer(key_id, office=office, at=at, usage=KeyUsage.OFFICE)
    if problem is not None:
        return [Problem(problem.code, f"{problem.message} (issued {instant(at)})")]
    return []


def _text(raw: bytes) -> str:
    return PREFIX + bytes(base45.b45encode(raw)).decode("ascii")
