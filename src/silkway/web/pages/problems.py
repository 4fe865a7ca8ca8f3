"""Domain errors as a form shows them, in the visitor's language.

Each error `code` has one sentence here; the fields it names are shown beside the form's own inputs.
The English `detail` the domain wrote stays available under "Details" for a call to the help desk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from silkway.i18n import N_
from silkway.shared.errors import DomainError


@dataclass(frozen=True, slots=True, kw_only=True)
class FormProblem:
    """An error shown above a form: one `message`, the `fields` (form field name → what is wrong, in the
    visitor's language), and the original English `detail` for a support call."""

    message: str
    fields: Mapping[str, str]
    detail: str


MESSAGES: Mapping[str, str] = {
    "invalid_input": N_("Some of the values are not accepted. Correct the marked fields."),
    "invalid_declaration": N_("The declaration is not complete or not coherent. Correct the marked fields."),
    "incoherent_itinerary": N_(
        "The itinerary does not hold together: each border must be crossed at a real crossing point "
        "between neighbouring member states."
    ),
    "unknown_office": N_("There is no such customs office or crossing point."),
    "unknown_hs_code": N_("There is no such HS 2022 subheading."),
    "guarantee_not_found": N_("There is no such guarantee for this holder."),
    "guarantee_overcommitted": N_("The guarantee does not cover this transit: its free amount is too small."),
    "transit_not_found": N_("No transit with this reference is visible to you."),
    "wrong_office": N_("This action belongs to another office or another state."),
    "action_not_allowed": N_("This action is not possible in the transit's current state."),
    "inspection_pending": N_("The inspection asked for has not been recorded yet."),
    "not_found": N_("Nothing was found."),
    "not_permitted": N_("Your account may not do this."),
    "illegal_state": N_("This action is not possible in the current state."),
    "conflict": N_("This clashes with another change. Reload the page and try again."),
    "concurrent_update": N_("Someone else changed this record in the meantime. Reload the page and try again."),
    "idempotency_key_reused": N_("This form was already sent with other values."),
    "bad_credentials": N_("The user name or the password is wrong."),
    "invalid_token": N_("Your session has ended. Sign in again."),
    "invalid_application": N_("The application is not complete or not coherent. Correct the marked fields."),
    "application_not_found": N_("No application with this number and link was found."),
    "visa_not_found": N_("No visa with this number was found."),
    "decision_not_allowed": N_("This decision is not possible for the application as it stands."),
    "no_mrz_form": N_("This name cannot be written in the machine-readable zone of a visa."),
    "malformed_mrz": N_("The machine-readable zone cannot be read."),
}
FALLBACK = N_("The request could not be carried out.")


def explain(error: DomainError, translate: Callable[[str], str]) -> FormProblem:
    """The sentence for `error`'s code (a general one for codes without their own), and its fields, each
    told with the same sentence so the marked input carries a readable reason in the visitor's language."""
    message = translate(MESSAGES.get(error.code, FALLBACK))
    return FormProblem(
        message=message,
        fields={name: translate(field_message(reason)) for name, reason in error.fields.items()},
        detail=error.detail,
    )


FIELD_MESSAGES: Mapping[str, str] = {
    "required": N_("This field is required."),
    "missing": N_("This field is required."),
    "length": N_("This value is too long or too short."),
    "format": N_("This value is not in the expected format."),
}


def field_message(reason: str) -> str:
    """A field's reason from the domain, as a sentence the catalogues hold: known short reasons have their
    own; any other becomes "not accepted" (the domain's own words stay in the error's detail)."""
    return FIELD_MESSAGES.get(reason, N_("This value is not accepted."))
