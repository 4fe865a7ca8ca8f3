"""Verifying a subject's records against a trust list: signatures, the chain, and who signed when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from silkway.signing.encoding import parse_instant
from silkway.signing.errors import MalformedRecord, Problem
from silkway.signing.records import SignedRecord, canonical
from silkway.signing.trustlist import KeyUsage, TrustList


def verify_records(records: Sequence[SignedRecord], trust: TrustList, *, subject: str | None = None) -> list[Problem]:
    """Every problem with a subject's records, in order; an empty list means the whole history is genuine.

    Each record must be canonical JSON (`not_canonical`, `malformed`), carry the signature of the key it names
    (`bad_signature`), follow its predecessor (`out_of_order` when a record is missing or moved,
    `chain_broken` when `prev` is not the hash of the record before), belong to the same subject
    (`wrong_subject`), and be signed by a key the trust list certifies for that record's office at that
    record's time (the codes of `TrustList.problem_with_signer`). An administrative record, whose `office` is a
    bare state code (`KZ`), must be signed by that state's node key instead.
    """
    problems: list[Problem] = []
    prev: str | None = None
    for position, record in enumerate(records, start=1):
        found = _problems_of(record, trust, expected_seq=position, expected_prev=prev, subject=subject)
        problems += found
        if subject is None and position == 1:
            try:
                subject = str(record.fields["subject"])
            except MalformedRecord:
                subject = None
        prev = record.hash
    if not records:
        problems.append(Problem("empty", "there are no records to verify"))
    return problems


def verify_record(record: SignedRecord, trust: TrustList, *, subject: str) -> list[Problem]:
    """Every problem with one record on its own — its form, signature and signer, as `verify_records` checks
    them — leaving where it stands in its chain to the caller (a node receiving records one by one)."""
    try:
        seq = int(record.fields["seq"])
        prev = record.fields["prev"]
    except (MalformedRecord, ValueError, TypeError) as exc:
        return [Problem("malformed", f"not a signed record: {exc}")]
    return _problems_of(
        record, trust, expected_seq=seq, expected_prev=None if prev is None else str(prev), subject=subject
    )


def _problems_of(
    record: SignedRecord, trust: TrustList, *, expected_seq: int, expected_prev: str | None, subject: str | None
) -> list[Problem]:
    try:
        fields = record.fields
        seq = int(fields["seq"])
        at: datetime = parse_instant(str(fields["at"]))
    except (MalformedRecord, ValueError, TypeError) as exc:
        return [Problem("malformed", f"not a signed record: {exc}", expected_seq)]
    problems: list[Problem] = []
    try:
        is_canonical = canonical(fields) == record.canonical
    except ValueError:
        is_canonical = False
    if not is_canonical:
        problems.append(Problem("not_canonical", "the stored bytes are not the record's RFC 8785 form", seq))
    if seq != expected_seq:
        problems.append(
            Problem("out_of_order", f"expected event {expected_seq} here, found event {seq}: reordered or deleted", seq)
        )
    elif fields["prev"] != expected_prev:
        problems.append(
            Problem("chain_broken", "prev is not the SHA-256 of the event before it: the chain was altered", seq)
        )
    if subject is not None and fields["subject"] != subject:
        problems.append(Problem("wrong_subject", f"belongs to {fields['subject']}, not to {subject}", seq))
    key_id = str(fields["key_id"])
    entry = trust.key(key_id)
    if entry is None:
        problems.append(Problem("unknown_key", f"signed with key {key_id}, which is not on the trust list", seq))
        return problems
    if not entry.certificate.public_key.verify(record.signature, record.canonical):
        problems.append(
            Problem("bad_signature", f"the signature does not match the record's bytes under key {key_id}", seq)
        )
    office = str(fields["office"])
    if _is_state(office):  # an administrative record: signed by its state's node key
        signer = trust.problem_with_signer(key_id, office=None, at=at, usage=KeyUsage.NODE)
        if signer is None and entry.certificate.state != office:
            signer = Problem("wrong_state", f"signed for {office} with key {key_id} of {entry.certificate.state}")
    else:
        signer = trust.problem_with_signer(key_id, office=office, at=at, usage=KeyUsage.OFFICE)
    if signer is not None:
        problems.append(Problem(signer.code, signer.message, seq))
    return problems


def _is_state(office: str) -> bool:
    """Offices are `CC-NAME`; a bare two-letter code names a state acting as such (its administration)."""
    return len(office) == 2 and office.isalpha() and office.isupper()
