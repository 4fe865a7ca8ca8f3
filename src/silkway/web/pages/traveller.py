"""The traveller's pages, without an account: apply for the visa and follow it by its secret link."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
