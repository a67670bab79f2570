"""Daily metric snapshots over a date range, for charts and exports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import MetricSnapshot


def snapshots_between(
    session: Session, start: date, end: date, *, currency: str | None = None
) -> list[MetricSnapshot]:
    """Snapshots of days start..end inclusive, by day, currency and plan."""
    stmt = select(MetricSnapshot).where(MetricSnapshot.day >= start, MetricSnapshot.day <= end)
    if currency:
        stmt = stmt.where(MetricSnapshot.currency == currency.lower())
    order = (MetricSnapshot.day, MetricSnapshot.currency, MetricSnapshot.plan)
    return list(session.scalars(stmt.order_by(*order)))


def snapshot_currencies(session: Session) -> list[str]:
    return list(session.scalars(select(MetricSnapshot.currency).distinct().order_by("currency")))
