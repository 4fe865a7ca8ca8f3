"""Helpers for the visa API tests: a valid application, sign-in, problems, and a traveller's way through the scheme."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from apiwalk import auth
from fastapi.testclient import TestClient

from silkway.shared.clock import FixedClock

APPLICATION: dict[str, Any] = {
    "surname": "SHARMA",
    "given_names": "PRIYA",
    "native_name": "प्रिया शर्मा",
    "nationality": "IND",
    "date_of_birth": "1990-04-12",
    "sex": "F",
    "passport_number": "Z1234567",
    "passport_expiry": "2031-03-31",
    "states": ["KZ", "KG", "UZ"],
    "main_destination": "KZ",
    "from": "2026-12-01",
    "to": "2027-01-20",
    "entries": "multiple",
    "purpose": "tourism",
}


ISSUE: dict[str, Any] = {
    "decision": "issue",
    "valid_from": "2026-12-01",
    "valid_until": "2027-02-28",
    "duration_of_stay_days": 60,
    "entries": "multiple",
}
"""A consul's decision to issue a multiple-entry visa for the default application's journey."""


PROBLEM = "application/problem+json"


def application(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(APPLICATION)
    body.update(changes)
    return body


def problem(response: Any, status: int, code: str, *fields: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with this status and code, naming at least `fields` among its errors."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    named = [e["field"] for e in body.get("errors", [])]
    for field in fields:
        assert field in named, (field, body)
    return body


class Traveller:
    """One traveller's application, visa and crossings, each step asserted."""

    def __init__(self, client: TestClient, clock: FixedClock) -> None:
        self.client = client
        self.clock = clock
        self.id = ""
        self.token = ""
        self.number = ""
        self.passport = APPLICATION["passport_number"]

    def apply(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post("/api/v1/visa-applications", json=body or application())
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        self.id, self.token = result["id"], result["status_token"]
        self.passport = (body or APPLICATION)["passport_number"]
        return result

    def status(self) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/visa-applications/{self.id}", params={"token": self.token})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def decide(self, consul: str = "consul-kz", **changes: Any) -> dict[str, Any]:
        body = {**ISSUE, **changes}
        response = self.client.post(
            f"/api/v1/visa-applications/{self.id}/decision", json=body, headers=auth(self.client, consul)
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        self.number = result.get("visa_number") or ""
        return result

    def issued(self, body: dict[str, Any] | None = None, **terms: Any) -> str:
        """Apply with `body` (the default application when None) and have consul-kz issue; the visa number."""
        self.apply(body)
        self.decide(**terms)
        assert self.number, "no visa was issued"
        return self.number

    def check(
        self,
        office: str,
        direction: str,
        *,
        guard: str | None = None,
        headers: dict[str, str] | None = None,
        **changes: Any,
    ) -> Any:
        """POST a border check by visa number (change any field, or drop one with None), unasserted."""
        body: dict[str, Any] = {
            "office": office,
            "direction": direction,
            "passport_number": self.passport,
            "visa_number": self.number,
        }
        body.update(changes)
        body = {k: v for k, v in body.items() if v is not None}
        who = auth(self.client, guard or f"border-{office[:2].lower()}")
        return self.client.post("/api/v1/border/checks", json=body, headers={**who, **(headers or {})})

    def seal(self) -> str:
        response = self.client.get(f"/api/v1/visas/{self.number}/seal", params={"passport_number": self.passport})
        assert response.status_code == 200, response.text
        payload: str = response.json()["payload"]
        return payload

    def on(self, day: date, hour: int = 6) -> None:
        """Move the clock to `day` at `hour` UTC (midday or so at the region's borders)."""
        now = self.clock.now()
        target = now.replace(year=day.year, month=day.month, day=day.day, hour=hour, minute=0)
        self.clock.advance(seconds=(target - now).total_seconds())

    def cross(
        self, office: str, direction: str, *, guard: str | None = None, by_seal: bool = True, expect: int = 200
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"office": office, "direction": direction, "passport_number": self.passport}
        if by_seal:
            body["seal"] = self.seal()
        else:
            body["visa_number"] = self.number
        who = auth(self.client, guard or f"border-{office[:2].lower()}")
        response = self.client.post("/api/v1/border/checks", json=body, headers=who)
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    def stay(self) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/visas/{self.number}/stay", params={"passport_number": self.passport})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def days(n: int) -> timedelta:
    return timedelta(days=n)
