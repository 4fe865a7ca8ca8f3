"""Helpers for API tests: sign-in, a valid declaration body, and the walk to a given point of a transit."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

ROUTE = ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-OYBEK", "TJ-FOTEHOBOD", "TJ-DUSHANBE-HQ"]
SEALS = ["KZ1234567", "KZ1234568"]

DECLARATION: dict[str, Any] = {
    "vehicle": {"plate": "123ABC02", "country": "KZ"},
    "itinerary": ROUTE,
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


def declaration(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(DECLARATION)
    body.update(changes)
    return body


def auth(client: TestClient, username: str, password: str = "demo") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class Walk:
    """Drive one transit through the API, step by step, asserting each step succeeds."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.carrier = auth(client, "carrier-kz")
        self.customs = {cc: auth(client, f"customs-{cc.lower()}") for cc in ("KZ", "UZ", "TJ", "KG")}
        self.mrn = ""

    def post(self, path: str, body: dict[str, Any], who: dict[str, str], expect: int = 200) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/transits/{self.mrn}{path}", json=body, headers=who)
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    def submit(self, body: dict[str, Any] | None = None) -> str:
        response = self.client.post("/api/v1/transits", json=body or declaration(), headers=self.carrier)
        assert response.status_code == 201, response.text
        self.mrn = response.json()["mrn"]
        return self.mrn

    def release(self, seals: list[str] | None = None, kind: str = "physical") -> dict[str, Any]:
        return self.post(
            "/release",
            {
                "office": ROUTE[0],
                "seals": SEALS if seals is None else seals,
                "control": {"kind": kind, "result": "satisfactory"},
            },
            self.customs["KZ"],
        )

    def present(self, office: str, seals: list[str] | None = None) -> dict[str, Any]:
        return self.post(
            "/presentations", {"office": office, "seals": SEALS if seals is None else seals}, self.officer(office)
        )

    def passage(self, office: str, expect: int = 200) -> dict[str, Any]:
        return self.post("/passages", {"office": office}, self.officer(office), expect)

    def officer(self, office: str) -> dict[str, str]:
        return self.customs[office[:2]]

    def transit(self, who: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/transits/{self.mrn}", headers=who or self.carrier)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def journey(self) -> dict[str, Any]:
        """A whole transit KZ → UZ → TJ: released with a physical check at Almaty, a scan at the Uzbek
        entry, green everywhere else, arrived and discharged at Dushanbe. Returns the final transit."""
        self.submit()
        self.release()
        for office in ROUTE[1:-1]:
            self.present(office)
            if office == "UZ-GISHTKUPRIK":
                self.post(
                    "/controls",
                    {"office": office, "kind": "scan", "result": "satisfactory", "seals": SEALS},
                    self.officer(office),
                )
            self.passage(office)
        self.post("/arrival", {"office": ROUTE[-1], "seals": SEALS}, self.customs["TJ"])
        self.post("/discharge", {"office": ROUTE[-1]}, self.customs["TJ"])
        return self.transit()
