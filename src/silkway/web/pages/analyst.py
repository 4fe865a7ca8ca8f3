"""The analyst's dashboard of its state and the region."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
