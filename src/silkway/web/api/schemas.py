"""Wire schemas of the JSON API (pydantic). Kept apart from domain objects and tables; routes translate."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from silkway.transit.model import MAX_CONTAINERS, MAX_GOODS_ITEMS, MAX_ITINERARY, MAX_SEALS

OfficeCode = Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^[A-Z]{2}-[A-Z0-9-]+$")]
Seal = Annotated[str, StringConstraints(min_length=1, max_length=35)]
Currency = Annotated[str, StringConstraints(min_length=3, max_length=3)]
Seals = Annotated[list[Seal], Field(max_length=MAX_SEALS)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MoneyIn(Strict):
    amount: Decimal = Field(ge=0, max_digits=17, decimal_places=2, examples=["1250.00"])
    currency: Currency = Field(examples=["USD"])


class VehicleIn(Strict):
    plate: str = Field(min_length=2, max_length=15, examples=["123ABC02"])
    country: str = Field(pattern=r"^[A-Z]{2}$", examples=["KZ"])


class GoodsItemIn(Strict):
    hs_code: str = Field(pattern=r"^\d{6}$", examples=["847130"])
    description: str = Field(min_length=1, max_length=512, examples=["Laptops"])
    packages: int = Field(gt=0, le=1_000_000)
    gross_mass_kg: Decimal = Field(gt=0, le=1_000_000, max_digits=12, decimal_places=3)
    value: MoneyIn


class GuaranteeIn(Strict):
    reference: str = Field(min_length=1, max_length=40, examples=["GRN-KZ-0001"])
    amount: Decimal = Field(ge=0, max_digits=17, decimal_places=2)
    currency: Currency


class DeclarationIn(Strict):
    vehicle: VehicleIn | None = None
    containers: Annotated[list[Annotated[str, StringConstraints(max_length=20)]], Field(max_length=MAX_CONTAINERS)] = []
    itinerary: Annotated[list[OfficeCode], Field(min_length=2, max_length=MAX_ITINERARY)]
    goods: Annotated[list[GoodsItemIn], Field(min_length=1, max_length=MAX_GOODS_ITEMS)]
    guarantee: GuaranteeIn


class ControlIn(Strict):
    kind: Literal["documentary", "physical", "scan"]
    result: Literal["satisfactory", "unsatisfactory"]
    note: str = Field("", max_length=500)


class ReleaseIn(Strict):
    office: OfficeCode
    seals: Seals = []
    control: ControlIn | None = None
    time_limit: datetime | None = None


class RefusalIn(Strict):
    office: OfficeCode
    reason: str = Field(min_length=1, max_length=1000)


class CancellationIn(Strict):
    reason: str = Field(min_length=1, max_length=1000)


class PresentationIn(Strict):
    office: OfficeCode
    seals: Seals = []


class ControlRecordIn(Strict):
    office: OfficeCode
    kind: Literal["documentary", "physical", "scan"]
    result: Literal["satisfactory", "unsatisfactory"]
    seals: Seals = []
    note: str = Field("", max_length=500)


class PassageIn(Strict):
    office: OfficeCode


class IncidentIn(Strict):
    office: OfficeCode | None = None
    kind: Literal["seal_broken", "seal_replaced", "accident", "transshipment", "other"]
    description: str = Field(min_length=1, max_length=1000)
    seals: Seals = []


class ArrivalIn(Strict):
    office: OfficeCode
    seals: Seals = []


class DischargeIn(Strict):
    office: OfficeCode


class DecisionOut(BaseModel):
    mrn: str
    office: str
    decision: Literal["green", "inspect"]
    reasons: list[str]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class OfficeOut(BaseModel):
    code: str
    country: str
    kind: Literal["inland", "border", "seaport"]
    name: str
    name_local: str
    crossing: str | None
    opposite: str | None
    crossings: list[str]
    lat: float | None
    lon: float | None


class CrossingOut(BaseModel):
    code: str
    name: str
    mode: str
    offices: list[str]
    countries: list[str]
    lat: float | None
    lon: float | None


class HsOut(BaseModel):
    code: str
    description: str
    level: int
    section: str


class RiskRuleIn(Strict):
    description: str = Field(min_length=1, max_length=1000)
    hs_prefix: str | None = Field(None, pattern=r"^\d{2}(\d{2}){0,2}$")
    departure_country: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    min_value_per_kg: MoneyIn | None = None
    sampling_rate: Decimal | None = Field(None, ge=0, le=1, max_digits=7, decimal_places=6)
    seed: str = Field("", max_length=100)
    required_control: Literal["documentary", "physical", "scan"] | None = "physical"
    active: bool = True


class RiskRuleOut(RiskRuleIn):
    id: str
    country: str


class AccountIn(Strict):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=4, max_length=256)
    role: Literal["carrier", "customs", "border_guard", "consular", "analyst", "admin"]
    display_name: str = Field("", max_length=200)


class AccountOut(BaseModel):
    username: str
    role: str
    country: str
    display_name: str
    active: bool


class GuaranteeRegistrationIn(Strict):
    reference: str = Field(min_length=1, max_length=40)
    holder: str = Field(min_length=3, max_length=64)
    cover: MoneyIn
    valid_until: datetime


class GuaranteeOut(BaseModel):
    reference: str
    holder: str
    cover: str
    currency: str
    committed: str
    valid_until: datetime
    revoked: bool


class StatisticsOut(BaseModel):
    country: str
    transits_by_status: dict[str, int]
    presentations: int
    inspections_decided: int
    inspections_avoided: int
    controls_recorded: int


class AuditRecordOut(BaseModel):
    log_index: int = Field(description="The record's place in the node's transparency log")
    kind: str = Field(description="transit, visa or audit (an administrative write)")
    subject: str
    seq: int
    type: str
    actor: str
    at: datetime
    key_id: str
    hash: str = Field(description="SHA-256 (hex) of the canonical bytes")
    signature: str = Field(description="Ed25519 signature over the canonical bytes (base64url)")
    canonical: str | None = Field(
        description="The exact signed bytes (RFC 8785 JSON); null for a visa record purged after its retention period"
    )


class AuditTrailOut(BaseModel):
    state: str
    records: list[AuditRecordOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last page")
