"""How a transit looks on the wire: its declaration, its current state and its events."""

from __future__ import annotations

from typing import Any

from silkway.transit.events import declaration_to_json
from silkway.transit.lifecycle import Transit


def transit_view(transit: Transit) -> dict[str, Any]:
    declaration = declaration_to_json(transit.declaration)
    events = []
    for seq, event in enumerate(transit.events, start=1):
        body = event.body()
        body.pop("declaration", None)  # the declaration is shown once, at the top
        events.append(
            {
                "seq": seq,
                "type": event.type,
                "office": event.office,
                "actor": event.actor,
                "at": _at(event.at),
                **body,
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
