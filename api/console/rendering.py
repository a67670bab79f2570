"""Templates and the filters every page uses: money from minor units, times in UTC, ages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from core.clock import utcnow
from core.money import format_money
from orchestrator.access.accounts import Identity

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def money(amount: int | None, currency: str | None) -> str:
    """`1234, 'usd'` -> `USD 12.34`; a dash when there is no amount."""
    if amount is None or not currency:
        return "–"
    return format_money(int(amount), currency)


def utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "–"


def duration(seconds: float) -> str:
    """A short human span: `42s`, `7m`, `3h 5m`, `2d 4h`."""
    s = int(abs(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def age(moment: datetime | None) -> str:
    return duration((utcnow() - moment).total_seconds()) if moment else "–"


def until(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    left = (moment - utcnow()).total_seconds()
    return f"in {duration(left)}" if left > 0 else f"{duration(left)} ago"


TEMPLATES.env.filters.update(money=money, utc=utc, age=age, until=until)
# Pages redirect after a write with `?done=<code>`; only these fixed sentences are shown.
TEMPLATES.env.globals["FLASH"] = {
    "approved": "Your approval is recorded.",
    "rejected": "The request is rejected.",
    "retried": "The task is queued again.",
    "discarded": "The task is discarded.",
    "replayed": "The event is queued for handling again.",
    "requested": "Refund requested: it now waits for approval.",
    "created": "Operator created.",
    "disabled": "Operator disabled: their sessions and tokens no longer work.",
    "revoked": "Token revoked.",
}


def render(
    request: Request, name: str, identity: Identity | None, status_code: int = 200, **context: Any
) -> Response:
    return TEMPLATES.TemplateResponse(
        request, name, {"me": identity, **context}, status_code=status_code
    )
