"""The consular officer's pages: the applications queue of its state, the examination and the decision."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
