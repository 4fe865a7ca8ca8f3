"""Errors of the transit domain.

DomainError (silkway.shared.errors)
├── InvalidInput
│   └── InvalidDeclaration         the declaration names impossible things (office, HS code, ...)
│       └── IncoherentItinerary    the offices do not form a route across real crossing points
├── NotFound
│   ├── TransitNotFound            no transit with this MRN is visible to the caller
│   └── GuaranteeNotFound          no guarantee with this reference belongs to the holder
├── NotPermitted
│   └── WrongOffice                the action may not be taken at this office, or by this officer
├── IllegalState
│   └── ActionNotAllowed           the transit's status does not allow the action
│       └── InspectionPending      a control is still due at this office
└── Conflict
    └── GuaranteeOvercommitted     the guarantee's cover is already committed to open transits
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from silkway.shared.errors import Conflict, IllegalState, InvalidInput, NotFound, NotPermitted


class InvalidDeclaration(InvalidInput):
    code = "invalid_declaration"
    title = "Invalid declaration"


class IncoherentItinerary(InvalidDeclaration):
    code = "incoherent_itinerary"
    title = "Incoherent itinerary"


class TransitNotFound(NotFound):
    code = "transit_not_found"
    title = "Transit not found"


class GuaranteeNotFound(NotFound):
    code = "guarantee_not_found"
    title = "Guarantee not found"


class WrongOffice(NotPermitted):
    code = "wrong_office"
    title = "Not allowed at this office"


class ActionNotAllowed(IllegalState):
    """Raised with the current status and the actions that status allows, so the caller knows what to do."""

    code = "action_not_allowed"
    title = "Action not allowed in the transit's current status"

    def __init__(
        self,
        detail: str,
        *,
        status: str,
        allowed: Iterable[str],
        fields: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.allowed = tuple(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "none (the transit is closed)"
        super().__init__(f"{detail} (status {status}; allowed: {allowed_text})", fields=fields)


class InspectionPending(ActionNotAllowed):
    code = "inspection_pending"
    title = "An inspection is pending at this office"


class GuaranteeOvercommitted(Conflict):
    code = "guarantee_overcommitted"
    title = "Guarantee over-committed"
