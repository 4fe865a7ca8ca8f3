"""How a transit looks on the wire: its declaration, its current state and its events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from silkway.signing.encoding import b64u
from silkway.storage.trust import LoggedRecord
from silkway.transit.events import declaration_to_json
from silkway.transit.lifecycle import Transit


def transit_view(transit: Transit, records: Sequence[LoggedRecord]) -> dict[str, Any]:
    """The transit and its events; each event carries its signed record: the exact canonical bytes (as
    text), the signature, the key, its hash and its place in the transparency log."""
    declaration = declaration_to_json(transit.declaration)
    events = []
    for seq, (event, logged) in enumerate(zip(transit.events, records, strict=True), start=1):
        body = event.body()
        body.pop("declaration", None)  # the declaration is shown once, at the top
        record = logged.record
        events.append(
            {
                "seq": seq,
                "type": event.type,
                "office": record.fields["office"],
                "actor": event.actor,
                "at": _at(event.at),
                **body,
                "record": {
                    "canonical": record.canonical.decode("utf-8"),
                    "signature": b64u(record.signature),
                    "key_id": record.key_id,
                    "hash": record.hash,
                    "log_index": logged.log_index,
                },
            }
        )
    control = transit.recognised_control
    return {
        "mrn": transit.mrn,
        "status": transit.status.value,
        "holder": transit.declaration.holder,
        "vehicle": declaration["vehicle"],
        "containers": declaration["containers"],
        "itinerary": declaration["itinerary"],
        "goods": declaration["goods"],
        "guarantee": declaration["guarantee"],
        "seals": list(transit.seals),
        "time_limit": None if transit.time_limit is None else _at(transit.time_limit),
        "recognised_control": None
        if control is None
        else {"office": control.office, "kind": control.kind.value, "result": control.outcome.value},
        "pending_inspections": {office: list(reasons) for office, reasons in transit.pending.items()},
        "passed": list(transit.passed),
        "allowed_actions": list(transit.allowed_actions()),
        "events": events,
    }


def _at(value: Any) -> str:
    return str(value.isoformat().replace("+00:00", "Z"))
