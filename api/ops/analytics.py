"""/ops analytics: daily metric snapshots over a date range, as JSON or CSV, and the revenue
report of the range (MRR movements, trial conversion, ARPU, LTV, forecast, cohorts)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from agents.analytics.metrics import ALL_PLANS
from agents.analytics.revenue import revenue_report
from agents.analytics.revenue_report import PERIODS
from api.auth.dependencies import require_role
from api.dependencies import RuntimeDep
from core.clock import utcnow
from core.errors import InvalidInput
from db.repositories.metric_history import snapshot_currencies, snapshots_between
from orchestrator.access.roles import VIEWER
from orchestrator.analytics_report import report_rows, to_csv

router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_role(VIEWER))])

DEFAULT_DAYS = 30
MAX_DAYS = 3660


def date_range(start: date | None, end: date | None) -> tuple[date, date]:
    """The asked range, defaulting to the last 30 days up to today (UTC)."""
    end = end or utcnow().date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput("start is after end", code="bad_range")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days at once", code="bad_range")
    return start, end


def report(
    runtime: RuntimeDep, start: date | None, end: date | None, currency: str | None
) -> list[dict[str, Any]]:
    first, last = date_range(start, end)
    with runtime.database.transaction() as session:
        return report_rows(snapshots_between(session, first, last, currency=currency))


@router.get("/analytics")
def metrics(
    runtime: RuntimeDep,
    start: date | None = None,
    end: date | None = None,
    currency: str | None = None,
) -> list[dict[str, Any]]:
    """One row per day, currency and plan (`*` is all plans); money in minor units."""
    return report(runtime, start, end, currency)


@router.get("/analytics.csv", response_class=PlainTextResponse)
def metrics_csv(
    runtime: RuntimeDep,
    start: date | None = None,
    end: date | None = None,
    currency: str | None = None,
) -> PlainTextResponse:
    body = to_csv(report(runtime, start, end, currency))
    return PlainTextResponse(
        body,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="moneta-metrics.csv"'},
    )


@router.get("/analytics/revenue")
def revenue(
    runtime: RuntimeDep,
    start: date | None = None,
    end: date | None = None,
    currency: str | None = None,
    plan: str = ALL_PLANS,
    by: str = "month",
) -> dict[str, Any]:
    """Revenue report of the range for one currency (default: the first with snapshots);
    money in minor units, rates as 6-place decimal strings, `null` with a reason when a
    figure cannot be computed."""
    first, last = date_range(start, end)
    if by not in PERIODS:
        raise InvalidInput(f"by must be one of {', '.join(PERIODS)}", code="bad_period")
    with runtime.database.transaction() as session:
        currencies = snapshot_currencies(session)
        chosen = currency or (currencies[0] if currencies else "usd")
        return revenue_report(session, first, last, currency=chosen, plan=plan, by=by)
