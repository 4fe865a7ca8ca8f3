"""A transit told in the visitor's language: its status, the offices of its route, its goods, each decision
with its reasons in words, and the history of its signed records — for the carrier's and the customs
officer's pages alike.

Reason codes come from the transit domain (`transit/lifecycle.py`: ``off_itinerary``, ``seal_mismatch``, ...;
``risk_rule:<id>`` from `transit/risk.py`). Every code has a sentence here; a code added later without one
is still shown, with a general sentence naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal

from silkway.places.model import Office
from silkway.storage.exchange import Conflict
from silkway.storage.trust import LoggedRecord
from silkway.transit.events import (
    ArrivalRecorded,
    BorderEntered,
    BorderExited,
    ControlRecorded,
    DeclarationCancelled,
    DeclarationSubmitted,
    IncidentReported,
    ReleaseRefused,
    TransitDischarged,
    TransitEvent,
    TransitReleased,
    VehiclePresented,
)
from silkway.transit.lifecycle import Transit
from silkway.transit.model import (
    ControlKind,
    ControlOutcome,
    ControlResult,
    Decision,
    Declaration,
    IncidentKind,
    PresentationDecision,
    TransitStatus,
)
from silkway.web.pages.base import N_, Page

STATUS_NAMES: Mapping[str, str] = {
    TransitStatus.SUBMITTED: N_("Submitted"),
    TransitStatus.IN_TRANSIT: N_("In transit"),
    TransitStatus.ARRIVED: N_("Arrived"),
    TransitStatus.DISCHARGED: N_("Discharged"),
    TransitStatus.REFUSED: N_("Refused"),
    TransitStatus.CANCELLED: N_("Cancelled"),
}
STATUS_BADGES: Mapping[str, str] = {
    TransitStatus.SUBMITTED: "warn",
    TransitStatus.IN_TRANSIT: "good",
    TransitStatus.ARRIVED: "good",
    TransitStatus.DISCHARGED: "",
    TransitStatus.REFUSED: "bad",
    TransitStatus.CANCELLED: "bad",
}
CONTROL_KINDS: Mapping[ControlKind, str] = {
    ControlKind.DOCUMENTARY: N_("Documentary check"),
    ControlKind.SCAN: N_("X-ray scan"),
    ControlKind.PHYSICAL: N_("Physical inspection"),
}
CONTROL_OUTCOMES: Mapping[ControlOutcome, str] = {
    ControlOutcome.SATISFACTORY: N_("Satisfactory"),
    ControlOutcome.UNSATISFACTORY: N_("Not satisfactory"),
}
INCIDENT_KINDS: Mapping[IncidentKind, str] = {
    IncidentKind.SEAL_BROKEN: N_("Seal broken"),
    IncidentKind.SEAL_REPLACED: N_("Seal replaced"),
    IncidentKind.ACCIDENT: N_("Accident"),
    IncidentKind.TRANSSHIPMENT: N_("Transshipment to another vehicle"),
    IncidentKind.OTHER: N_("Other incident"),
}
REASONS: Mapping[str, str] = {
    "off_itinerary": N_("This office is not on the declared itinerary."),
    "no_prior_control": N_("No control has been recorded on this transit yet."),
    "seal_mismatch": N_("The seals seen differ from the seals recorded."),
    "incident_open": N_("An incident was reported and no satisfactory control has followed it."),
    "guarantee_invalid": N_("The guarantee is revoked or has expired."),
    "overdue": N_("The time limit of the transit has passed."),
    "control_unsatisfactory": N_("The last control at this office was not satisfactory."),
}
REFUSAL_REASONS: Mapping[str, str] = {
    "departure control unsatisfactory": N_("The control at departure was not satisfactory."),
}
"""Reasons the domain itself writes into a refusal; an officer's own words are shown as written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """A decision as the `decision` macro shows it: its kind (green, inspect), heading and reasons in words."""

    kind: str
    heading: str
    reasons: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One signed record, told: what happened, when, where, by whom, and the record's proof."""

    seq: int
    event: str
    title: str
    when: str
    office: str
    actor: str
    lines: list[str]
    verdict: Verdict | None
    key_id: str
    hash: str
    log_index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteStop:
    """One office of the itinerary, with what it is on the route and what has happened there."""

    code: str
    label: str
    role: str
    reached: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class GoodsLine:
    hs_code: str
    hs_description: str
    description: str
    packages: str
    gross_mass_kg: str
    value: str


@dataclass(slots=True)
class TransitStory:
    """Words for one page visit; `disclose_rules` shows each risk rule's own description (officers), else
    only that a state's rule asked for a control (the carrier does not learn the states' criteria)."""

    visit: Page
    disclose_rules: bool = True
    _rules: dict[str, dict[str, str]] = field(default_factory=dict)

    # single things

    def status(self, status: str) -> str:
        return self.visit._(STATUS_NAMES.get(status, status))

    def office(self, code: str | None) -> str:
        """An office as people read it: its name and its code; an unknown code as it is."""
        if code is None:
            return self.visit._("No office")
        found: Office | None = self.visit.services.reference.offices.get(code)
        return code if found is None else f"{found.name} ({code})"

    def country(self, code: str) -> str:
        """A country's name in the visitor's language (from the CLDR data Babel ships)."""
        return str(Locale.parse(self.visit.lang).territories.get(code, code))

    def money(self, amount: Decimal, currency: str) -> str:
        """An amount with its cents, as the visitor's locale writes it, then the currency code."""
        figure = format_decimal(amount, format="#,##0.00", locale=Locale.parse(self.visit.lang))
        return f"{figure} {currency}"

    def seals(self, seals: Sequence[str]) -> str:
        return ", ".join(seals) if seals else self.visit._("None")

    def control(self, control: ControlResult) -> str:
        return self.visit._(
            "%(kind)s at %(office)s: %(result)s",
            kind=self.visit._(CONTROL_KINDS[control.kind]),
            office=self.office(control.office),
            result=self.visit._(CONTROL_OUTCOMES[control.outcome]),
        )

    def goods_summary(self, declaration: Declaration) -> str:
        goods = declaration.goods
        return self.visit.ngettext(
            "%(num)s goods item, %(mass)s kg gross: %(codes)s",
            "%(num)s goods items, %(mass)s kg gross: %(codes)s",
            len(goods),
            mass=self.visit.number(declaration.total_mass_kg),
            codes=", ".join(dict.fromkeys(f"{g.hs_code} {g.description}" for g in goods)),
        )

    def vehicle(self, declaration: Declaration) -> str:
        parts = []
        if declaration.vehicle is not None:
            parts.append(f"{declaration.vehicle.plate} ({declaration.vehicle.country})")
        parts += [c.number for c in declaration.containers]
        return ", ".join(parts)

    # the route and the goods

    def route(self, transit: Transit) -> list[RouteStop]:
        """The itinerary, each office marked reached once the transit has been dealt with there."""
        itinerary = transit.declaration.itinerary
        last = len(itinerary.offices) - 1
        stops = []
        for i, code in enumerate(itinerary.offices):
            if i == 0:
                role = self.visit._("Office of departure")
                reached = transit.status not in (TransitStatus.SUBMITTED, TransitStatus.CANCELLED)
            elif i == last:
                role = self.visit._("Office of destination")
                reached = transit.status in (TransitStatus.ARRIVED, TransitStatus.DISCHARGED)
            else:
                role = self.visit._("Exit office") if itinerary.is_exit(code) else self.visit._("Entry office")
                reached = code in transit.passed
            stops.append(RouteStop(code=code, label=self.office(code), role=role, reached=reached))
        return stops

    def goods(self, declaration: Declaration) -> list[GoodsLine]:
        reference = self.visit.services.reference
        lines = []
        for g in declaration.goods:
            heading = reference.hs(g.hs_code)
            lines.append(
                GoodsLine(
                    hs_code=g.hs_code,
                    hs_description="" if heading is None else heading.description,
                    description=g.description,
                    packages=self.visit.number(g.packages),
                    gross_mass_kg=self.visit.number(g.gross_mass_kg),
                    value=self.money(g.value.amount, g.value.currency),
                )
            )
        return lines

    # decisions

    def verdict(self, decision: PresentationDecision, office: str | None) -> Verdict:
        if decision.decision is Decision.GREEN:
            return Verdict(kind="green", heading=self.visit._("GREEN — proceed"), reasons=[])
        return Verdict(kind="inspect", heading=self.visit._("INSPECT"), reasons=self.reasons(decision.reasons, office))

    def reasons(self, codes: Sequence[str], office: str | None) -> list[str]:
        return [self.reason(code, office) for code in codes]

    def reason(self, code: str, office: str | None) -> str:
        """One reason code in words; a risk rule by its own description, from the rules of the office's state."""
        if code in REASONS:
            return self.visit._(REASONS[code])
        if code.startswith("risk_rule:"):
            rule = code.removeprefix("risk_rule:")
            country = None if office is None else self.visit.services.places.office_country(office)
            state = self.country(country) if country else ""
            description = self._rule_descriptions(country).get(rule) if country else None
            if description and self.disclose_rules:
                return self.visit._(
                    "Risk rule %(rule)s of %(state)s: %(description)s", rule=rule, state=state, description=description
                )
            return self.visit._("A risk rule of %(state)s asks for a control (%(rule)s).", rule=rule, state=state)
        return self.visit._("Another reason, not described on this page (%(code)s).", code=code)

    def _rule_descriptions(self, country: str) -> dict[str, str]:
        if country not in self._rules:
            rules = self.visit.services.queries.risk_rules(country)
            self._rules[country] = {r.id: r.description for r in rules}
        return self._rules[country]

    # the history

    def conflict(self, conflict: Conflict) -> str:
        """A conflicting record from another state, in a sentence: it was kept aside, not merged."""
        _ = self.visit._
        where = self.office(conflict.remote_office)
        state = self.country(conflict.origin)
        when = self.visit.datetime(conflict.remote_at)
        if conflict.code == "passage_out_of_order":
            return _(
                "Event %(seq)s: %(office)s (%(state)s) recorded the vehicle on its side of the border at %(when)s, "
                "out of order with what is recorded here.",
                seq=conflict.seq,
                office=where,
                state=state,
                when=when,
            )
        if conflict.code == "not_allowed":
            return _(
                "Event %(seq)s from %(state)s (%(office)s, %(when)s) cannot follow what is recorded here.",
                seq=conflict.seq,
                office=where,
                state=state,
                when=when,
            )
        return _(
            "Event %(seq)s: %(state)s sent a different record (%(office)s, %(when)s) from the one recorded here.",
            seq=conflict.seq,
            office=where,
            state=state,
            when=when,
        )

    def history(self, transit: Transit, records: Sequence[LoggedRecord]) -> list[HistoryEntry]:
        """Every signed record of the transit, oldest first, in words."""
        entries = []
        for seq, (event, logged) in enumerate(zip(transit.events, records, strict=True), start=1):
            record = logged.record
            office = record.fields.get("office")
            title, lines, verdict = self._told(event, str(office) if office else None)
            entries.append(
                HistoryEntry(
                    seq=seq,
                    event=event.type,
                    title=title,
                    when=self.visit.datetime(event.at),
                    office=self.office(str(office)) if office else self.visit._("No office"),
                    actor=event.actor,
                    lines=lines,
                    verdict=verdict,
                    key_id=record.key_id,
                    hash=record.hash,
                    log_index=logged.log_index,
                )
            )
        return entries

    def _told(self, event: TransitEvent, office: str | None) -> tuple[str, list[str], Verdict | None]:
        _ = self.visit._
        match event:
            case DeclarationSubmitted(declaration=d):
                return _("Declaration lodged"), [self.goods_summary(d)], None
            case TransitReleased(seals=seals, control=control, time_limit=limit):
                lines = [_("Seals affixed: %(seals)s", seals=self.seals(seals))]
                if control is not None:
                    lines.append(_("Control at release: %(control)s", control=self.control(control)))
                    if control.note:
                        lines.append(_("Note: %(note)s", note=control.note))
                lines.append(_("Time limit: %(limit)s", limit=self.visit.datetime(limit)))
                return _("Released for transit"), lines, None
            case ReleaseRefused(reason=reason, control=control):
                said = _(REFUSAL_REASONS[reason]) if reason in REFUSAL_REASONS else reason
                lines = [_("Reason: %(reason)s", reason=said)]
                if control is not None:
                    lines.append(_("Control at departure: %(control)s", control=self.control(control)))
                return _("Release refused"), lines, None
            case DeclarationCancelled(reason=reason):
                return _("Declaration cancelled"), [_("Reason: %(reason)s", reason=reason)], None
            case VehiclePresented(seals=seals, decision=decision):
                lines = [_("Seals seen: %(seals)s", seals=self.seals(seals))]
                return _("Vehicle presented"), lines, self.verdict(decision, office)
            case ArrivalRecorded(seals=seals, decision=decision):
                lines = [_("Seals seen: %(seals)s", seals=self.seals(seals))]
                return _("Arrived at the office of destination"), lines, self.verdict(decision, office)
            case ControlRecorded(control=control):
                lines = [self.control(control)]
                if control.seals:
                    lines.append(_("New seals: %(seals)s", seals=self.seals(control.seals)))
                if control.note:
                    lines.append(_("Note: %(note)s", note=control.note))
                return _("Control recorded"), lines, None
            case BorderExited():
                country = self.visit.services.places.office_country(office or "") or ""
                return _("Left %(country)s", country=self.country(country)), [], None
            case BorderEntered():
                country = self.visit.services.places.office_country(office or "") or ""
                return _("Entered %(country)s", country=self.country(country)), [], None
            case IncidentReported(kind=kind, description=description, seals=seals):
                lines = [_("What happened: %(description)s", description=description)]
                if seals:
                    lines.append(_("New seals: %(seals)s", seals=self.seals(seals)))
                return _("Incident reported: %(kind)s", kind=_(INCIDENT_KINDS[kind])), lines, None
            case TransitDischarged():
                return _("Transit discharged; the guarantee is freed"), [], None
            case _:
                return event.type, [], None
