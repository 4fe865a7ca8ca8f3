"""The words and facts every visa page shows: countries in the visitor's language, statuses, refusal grounds,
the stay count, the seal and the e-visa, and reading a form's values. The traveller's, the consul's and the
border guard's pages use them alike."""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pycountry
from babel import Locale
from starlette.datastructures import FormData

from silkway.documents import qr_png
from silkway.services import Services
from silkway.visas.application import VisaApplication
from silkway.visas.examination import stay_of
from silkway.visas.model import (
    REFUSAL_GROUNDS,
    ApplicationStatus,
    Entries,
    Purpose,
    Sex,
    VisaStatus,
)
from silkway.visas.stay import StayStatus
from silkway.web.pages.base import N_, Page

PURPOSES: Mapping[str, str] = {
    Purpose.TOURISM: N_("Tourism"),
    Purpose.BUSINESS: N_("Business"),
    Purpose.VISITING_FAMILY: N_("Visiting family or friends"),
    Purpose.CULTURE: N_("Culture"),
    Purpose.SPORTS: N_("Sports"),
    Purpose.OFFICIAL_VISIT: N_("Official visit"),
    Purpose.MEDICAL: N_("Medical reasons"),
    Purpose.STUDY: N_("Study"),
    Purpose.TRANSIT: N_("Transit"),
    Purpose.OTHER: N_("Other"),
}
SEXES: Mapping[str, str] = {Sex.FEMALE: N_("Female"), Sex.MALE: N_("Male"), Sex.UNSPECIFIED: N_("Unspecified")}
ENTRIES: Mapping[str, str] = {Entries.SINGLE: N_("Single entry"), Entries.MULTIPLE: N_("Multiple entries")}

APPLICATION_STATUSES: Mapping[str, str] = {
    ApplicationStatus.LODGED: N_("Lodged"),
    ApplicationStatus.ISSUED: N_("Visa issued"),
    ApplicationStatus.ISSUED_LTV: N_("Visa with limited territorial validity issued"),
    ApplicationStatus.REFUSED: N_("Visa refused"),
}
VISA_STATUSES: Mapping[str, str] = {
    VisaStatus.VALID: N_("Valid"),
    VisaStatus.REVOKED: N_("Revoked"),
    VisaStatus.ANNULLED: N_("Annulled"),
}


@dataclass(frozen=True, slots=True)
class GroundWords:
    """A refusal ground of Visa Code Art. 32(1) as people read it: its text and what could be fixed."""

    text: str
    remedy: str | None


GROUNDS: Mapping[str, GroundWords] = {
    "false_document": GroundWords(N_("A false, counterfeit or forged travel document was presented."), None),
    "purpose_not_justified": GroundWords(
        N_("The purpose and conditions of the intended stay were not justified."),
        N_("Add documents that show the purpose of the journey: an invitation, a booking, a programme."),
    ),
    "insufficient_means": GroundWords(
        N_("Sufficient means of subsistence for the stay and the return were not shown."),
        N_("Add bank statements, a sponsor's guarantee or prepaid accommodation and tickets."),
    ),
    "stay_exhausted": GroundWords(
        N_("You have already stayed 90 days in the current 180-day period."),
        N_("Apply again for dates when the 180-day window holds fewer than 90 days of presence."),
    ),
    "alert_refusal": GroundWords(
        N_("An alert for the purpose of refusing entry was entered in the shared alert list."), None
    ),
    "threat": GroundWords(
        N_("One or more states consider you a threat to public policy, internal security or public health."), None
    ),
    "no_medical_insurance": GroundWords(
        N_("Proof of adequate and valid travel medical insurance was not provided."),
        N_("Add a travel medical insurance covering the whole stay in every state, at least 30,000 EUR."),
    ),
    "unreliable_information": GroundWords(
        N_("The information on the purpose and conditions of the stay, or the documents, were not reliable."),
        N_("Apply again with accurate information and authentic supporting documents."),
    ),
    "return_not_ascertained": GroundWords(
        N_("Your intention to leave before the visa expires could not be ascertained."),
        N_("Add proof of ties to your country of residence: employment, studies, family, a return ticket."),
    ),
}
"""The texts of `visas.model.REFUSAL_GROUNDS`, marked for the catalogues (a test keeps the two equal)."""

ICAO_NATIONALITIES: Mapping[str, str] = {
    "XXA": N_("Stateless person"),
    "XXB": N_("Refugee (1951 Convention)"),
    "XXC": N_("Refugee (other)"),
    "XXX": N_("Unspecified nationality"),
}
"""ICAO 9303 codes a passport or travel document can carry that name no country."""


@dataclass(frozen=True, slots=True)
class Ground:
    """One ground of a refusal or revocation, in the visitor's language."""

    code: str
    article: str
    text: str
    remedy: str | None


def grounds_in(visit: Page, codes: Sequence[str]) -> list[Ground]:
    """The grounds `codes` in the visitor's words, with their article of the Visa Code."""
    out = []
    for code in codes:
        words = GROUNDS.get(code)
        ground = REFUSAL_GROUNDS.get(code)
        if words is None or ground is None:
            out.append(Ground(code=code, article="", text=code, remedy=None))
            continue
        out.append(
            Ground(
                code=code,
                article=ground.article,
                text=visit._(words.text),
                remedy=None if words.remedy is None else visit._(words.remedy),
            )
        )
    return out


@functools.cache
def _alpha2_of() -> Mapping[str, str]:
    return {str(c.alpha_3): str(c.alpha_2) for c in pycountry.countries}


@functools.cache
def _territories(lang: str) -> Mapping[str, str]:
    return {str(k): str(v) for k, v in Locale.parse(lang).territories.items()}


def country_name(code: str, lang: str) -> str:
    """A country (ISO 3166 alpha-2, or alpha-3 as passports write nationalities) in `lang`; the code if unknown."""
    alpha2 = code if len(code) == 2 else _alpha2_of().get(code)
    if alpha2 is None:
        return code
    return _territories(lang).get(alpha2, code)


def nationality_name(visit: Page, code: str) -> str:
    if code in ICAO_NATIONALITIES:
        return visit._(ICAO_NATIONALITIES[code])
    return country_name(code, visit.lang)


@functools.cache
def _nationality_options(lang: str) -> tuple[tuple[str, str], ...]:
    names = {alpha3: country_name(alpha3, lang) for alpha3 in _alpha2_of()}
    return tuple(sorted(names.items(), key=lambda item: item[1].casefold()))


def nationality_options(visit: Page) -> list[tuple[str, str]]:
    """Every nationality a passport may state, (alpha-3, name) sorted by name in the visitor's language."""
    extra = [(code, visit._(name)) for code, name in ICAO_NATIONALITIES.items()]
    return [*_nationality_options(visit.lang), *extra]


def state_options(visit: Page) -> list[tuple[str, str]]:
    """The participating states, (alpha-2, name in the visitor's language), in the scheme's order."""
    return [(code, country_name(code, visit.lang)) for code in visit.services.scheme.participating]


def state_names(visit: Page, codes: Sequence[str]) -> str:
    return ", ".join(country_name(code, visit.lang) for code in codes)


def visa_stay(services: Services, file: VisaApplication) -> StayStatus | None:
    """The holder's count today under the file's visa, as the API's ``/visas/{number}/stay`` gives it."""
    visa = file.visa
    if visa is None:
        return None
    crossings = services.visa_queries.crossings_of(file.applicant.passport_number, file.applicant.nationality)
    return stay_of(
        crossings,
        now=services.clock.now(),
        valid_from=visa.terms.valid_from,
        valid_until=visa.terms.valid_until,
        duration_of_stay_days=visa.terms.duration_of_stay_days,
        scheme=services.scheme,
    )


def seal_image(services: Services, number: str) -> str:
    """The visa's signed seal as a QR code, a ``data:`` URI for an ``<img>``."""
    png = qr_png(services.visa_seal(number), scale=5)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def form_text(form: FormData, name: str, limit: int = 2000) -> str:
    """A text field of a POSTed form, stripped; "" when absent or a file. Longer input is cut at `limit`."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def form_list(form: FormData, name: str) -> list[str]:
    """Every value of a repeated field (checkboxes), stripped, blanks left out."""
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def form_date(values: Mapping[str, str], name: str, fields: dict[str, str], *, required: bool = True) -> date | None:
    """The ISO date typed in `name`; a missing or malformed one is noted in `fields` and gives None."""
    text = values.get(name, "")
    if not text:
        if required:
            fields[name] = "missing"
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fields[name] = "format"
        return None
