"""The customs officer's pages at a chosen office: expected arrivals, lookup, the decision, recording what was done."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
