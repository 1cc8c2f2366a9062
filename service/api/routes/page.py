"""The fact-checker's web page at /."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page():
    """The fact-checker's web page."""
    return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))


router.add_api_route("/", page, methods=["HEAD"], include_in_schema=False)  # for uptime probes that send HEAD
