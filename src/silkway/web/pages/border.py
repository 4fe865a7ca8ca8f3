"""The border guard's pages: check a visa by camera, photo or number, and record the entry or exit."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
