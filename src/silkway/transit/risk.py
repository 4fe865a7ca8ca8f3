"""Risk rules: each member state's own criteria for inspecting at its own offices.

A rule matches a transit when every criterion it sets holds (HS prefix, country of departure, value per
kg, random sampling). A matching rule asks for a control of at least `required_control`; a satisfactory
control of that strength already recorded anywhere on the route satisfies it — that is inspect-once. A
rule without `required_control` (a spot check) is satisfied only by a control at the office itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from silkway.shared.errors import InvalidInput
from silkway.shared.money import Money
from silkway.transit.model import ControlKind, ControlResult, Declaration

_RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskRule:
    """A state's inspection criterion. At least one criterion must be set.

    `sampling_rate` is a share in [0, 1]: the draw hashes `seed`, the MRN and the office, so the same
    transit at the same office always draws the same way (reproducible, auditable). Raises `InvalidInput`.
    """

    id: str
    country: str
    description: str
    hs_prefix: str | None = None
    departure_country: str | None = None
    min_value_per_kg: Money | None = None
    sampling_rate: Decimal | None = None
    seed: str = ""
    required_control: ControlKind | None = ControlKind.PHYSICAL
    active: bool = True

    def __post_init__(self) -> None:
        if not _RULE_ID.fullmatch(self.id):
            raise InvalidInput(
                f"{self.id!r} is not a rule id: 1-40 lower-case letters, digits and dashes",
                fields={"id": "malformed"},
            )
        if self.hs_prefix is not None and not re.fullmatch(r"[0-9]{2}([0-9]{2}){0,2}", self.hs_prefix):
            raise InvalidInput(
                "hs_prefix is an HS chapter (2 digits), heading (4) or subheading (6)",
                fields={"hs_prefix": "malformed"},
            )
        if self.sampling_rate is not None and not 0 <= self.sampling_rate <= 1:
            raise InvalidInput("sampling_rate is a share between 0 and 1", fields={"sampling_rate": "range"})
        criteria = (self.hs_prefix, self.departure_country, self.min_value_per_kg, self.sampling_rate)
        if all(c is None for c in criteria):
            raise InvalidInput(
                "a rule needs at least one criterion: hs_prefix, departure_country, min_value_per_kg or sampling_rate",
                fields={"hs_prefix": "missing"},
            )

    def matches(self, *, mrn: str, declaration: Declaration, departure_country: str, office: str) -> bool:
        """Whether every criterion this rule sets holds for the transit presented at `office`."""
        goods = declaration.goods
        if self.hs_prefix is not None:
            prefix = self.hs_prefix
            goods = tuple(g for g in goods if g.hs_code.startswith(prefix))
            if not goods:
                return False
        if self.departure_country is not None and departure_country != self.departure_country:
            return False
        if self.min_value_per_kg is not None:
            floor = self.min_value_per_kg
            if not any(
                g.value.currency == floor.currency and g.value.amount / g.gross_mass_kg >= floor.amount for g in goods
            ):
                return False
        return self.sampling_rate is None or sample(self.seed, mrn, office) < self.sampling_rate

    def satisfied_by(self, control: ControlResult | None, *, here: ControlResult | None) -> bool:
        """Whether a recognised `control` (from any office) or a control `here` answers this rule."""
        if here is not None and here.satisfactory:
            return True
        if self.required_control is None or control is None or not control.satisfactory:
            return False
        return control.kind.strength >= self.required_control.strength


def sample(seed: str, mrn: str, office: str) -> Decimal:
    """A reproducible draw in [0, 1) for one transit at one office."""
    digest = hashlib.sha256(f"{seed}|{mrn}|{office}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)


def rule_reasons(
    rules: Iterable[RiskRule],
    *,
    mrn: str,
    declaration: Declaration,
    departure_country: str,
    office: str,
    recognised: ControlResult | None,
    here: ControlResult | None,
) -> list[str]:
    """`risk_rule:<id>` for every active rule that matches and is not yet satisfied."""
    return [
        f"risk_rule:{rule.id}"
        for rule in rules
        if rule.active
        and rule.matches(mrn=mrn, declaration=declaration, departure_country=departure_country, office=office)
        and not rule.satisfied_by(recognised, here=here)
    ]
