"""The transit both federation suites drive: Almaty → the Kazakh–Uzbek border → Uzbekistan → Dushanbe."""

from __future__ import annotations

from typing import Any

ROUTE = ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-OYBEK", "TJ-FOTEHOBOD", "TJ-DUSHANBE-HQ"]
SEALS = ["KZ1234567", "KZ1234568"]


def declaration(itinerary: list[str] | None = None) -> dict[str, Any]:
    return {
        "vehicle": {"plate": "123ABC02", "country": "KZ"},
        "itinerary": itinerary or ROUTE,
        "goods": [
            {
                "hs_code": "847130",
                "description": "Laptops",
                "packages": 120,
                "gross_mass_kg": "2400.5",
                "value": {"amount": "180000.00", "currency": "USD"},
            }
        ],
        "guarantee": {"reference": "GRN-KZ-0001", "amount": "50000.00", "currency": "USD"},
    }
