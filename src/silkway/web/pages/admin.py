"""The administrator's pages: the state's offices, accounts and risk rules."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
