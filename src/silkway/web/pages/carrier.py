"""The carrier's pages: a new declaration, its transits with their history, the accompanying document."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
