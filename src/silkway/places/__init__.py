"""Reference data shipped with Silkway: where goods may go and what they may be.

- the six member states of the cargo-transit scheme (`MEMBER_STATES`, `MemberState`);
- customs offices (`Office`): inland posts, dry ports, seaports and both sides of each crossing point,
  including the Chinese, Russian and Georgian sides;
- crossing points (`CrossingPoint`) joining two offices in different countries;
- the Harmonized System 2022 (`HsHeading`) with its sections.

`ReferenceData.load()` reads and checks the CSV files in ``reference/`` (their README gives sources,
licences and caveats) and raises `ReferenceDataError` if they do not hold together. Lookups of
unknown offices raise `UnknownOffice`; of unknown HS codes, `UnknownHsCode`.
"""

from silkway.places.errors import ReferenceDataError, UnknownHsCode, UnknownOffice
from silkway.places.model import (
    CROSSING_MODES,
    MEMBER_STATES,
    CrossingPoint,
    HsHeading,
    MemberState,
    Office,
    OfficeKind,
)
from silkway.places.reference import ReferenceData

__all__ = [
    "CROSSING_MODES",
    "MEMBER_STATES",
    "CrossingPoint",
    "HsHeading",
    "MemberState",
    "Office",
    "OfficeKind",
    "ReferenceData",
    "ReferenceDataError",
    "UnknownHsCode",
    "UnknownOffice",
]
