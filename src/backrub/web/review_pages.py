"""Summary, history, profile and printable plan pages (filled in by a helper session)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
