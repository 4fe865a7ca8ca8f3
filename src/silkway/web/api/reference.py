"""Reference data: member states, offices, crossing points and the HS 2022 nomenclature."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from silkway.places.model import Office, OfficeKind
from silkway.shared.errors import NotFound
from silkway.web.api.schemas import CrossingOut, HsOut, OfficeOut
from silkway.web.deps import ServicesDep

router = APIRouter(tags=["reference data"])


@router.get("/states", summary="Member states of the transit scheme")
def states(services: ServicesDep) -> list[dict[str, str]]:
    return [
        {"code": s.code, "name": s.name, "currency": s.currency, "currency_name": s.currency_name}
        for s in services.reference.member_states.values()
    ]


@router.get("/offices", response_model=list[OfficeOut], summary="Customs offices, with each border office's pair")
def offices(
    services: ServicesDep,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    kind: Literal["inland", "border", "seaport"] | None = None,
) -> list[OfficeOut]:
    found = services.reference.offices_of(country.upper() if country else None, OfficeKind(kind) if kind else None)
    return [_office(services, o) for o in found]


@router.get("/offices/{code}", response_model=OfficeOut, summary="One office")
def office(services: ServicesDep, code: str) -> OfficeOut:
    return _office(services, services.reference.office(code))


@router.get("/crossings", response_model=list[CrossingOut], summary="Border crossing points")
def crossings(services: ServicesDep) -> list[CrossingOut]:
    out = []
    for c in services.reference.crossings.values():
        sides = [services.reference.office(c.office_a), services.reference.office(c.office_b)]
        out.append(
            CrossingOut(
                code=c.code,
                name=c.name,
                mode=c.mode,
                offices=[s.code for s in sides],
                countries=[s.country for s in sides],
                lat=c.lat,
                lon=c.lon,
            )
        )
    return out


@router.get("/hs", response_model=list[HsOut], summary="Search HS 2022 by code or words")
def hs_search(
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[HsOut]:
    return [
        HsOut(code=h.code, description=h.description, level=h.level, section=h.section)
        for h in services.reference.hs_search(q, limit=limit)
    ]


@router.get("/hs/{code}", response_model=HsOut, summary="One HS heading or subheading")
def hs_code(services: ServicesDep, code: str) -> HsOut:
    heading = services.reference.hs(code)
    if heading is None:
        raise NotFound(f"{code} is not in HS 2022", fields={"code": "unknown"})
    return HsOut(code=heading.code, description=heading.description, level=heading.level, section=heading.section)


def _office(services: ServicesDep, office: Office) -> OfficeOut:
    crossing = office.crossings[0] if len(office.crossings) == 1 else None
    opposite = services.reference.crossings[crossing].other_side(office.code) if crossing else None
    return OfficeOut(
        code=office.code,
        country=office.country,
        kind=office.kind.value,
        name=office.name,
        name_local=office.name_local,
        crossing=crossing,
        opposite=opposite,
        crossings=list(office.crossings),
        lat=office.lat,
        lon=office.lon,
    )
