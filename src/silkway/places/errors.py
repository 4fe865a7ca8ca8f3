"""Errors raised by the reference data of `silkway.places`.

    DomainError                      (silkway.shared.errors)
    ├── NotFound
    │   ├── UnknownOffice            an office code that is not in the reference data
    │   └── UnknownHsCode            an HS code or section that is not in HS 2022
    └── ReferenceDataError           the shipped CSV files break an integrity rule

`ReferenceDataError` means the package itself is broken (a bad edit of a CSV file), never bad user input.
"""

from __future__ import annotations

from silkway.shared.errors import DomainError, NotFound


class UnknownOffice(NotFound):
    """No customs office has this code, or the office is not a side of the crossing asked about."""

    code = "unknown_office"
    title = "Unknown customs office"


class UnknownHsCode(NotFound):
    """The code is not a chapter, heading or subheading of HS 2022, or the section does not exist."""

    code = "unknown_hs_code"
    title = "Unknown HS code"


class ReferenceDataError(DomainError):
    """The reference CSV files shipped in the package are missing, malformed or inconsistent."""

    code = "reference_data_invalid"
    title = "Reference data is invalid"
