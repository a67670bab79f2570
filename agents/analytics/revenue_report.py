"""Revenue over a range of daily snapshots: movements per period and the summary metrics. Pure.

Input: the days of one scope (currency and plan, "*" for all) in day order, each with its
snapshot metrics. Definitions:
- a period (a day or a calendar month) starts at the MRR of its first day's 00:00 and ends at
  its last day's MRR; its movements are the sums of its days'; net = the sum of the movements,
  so MRR(end) = MRR(start) + net over any run of consecutive days.
- trial conversion rate = trials converted / trials ended, over the range.
- ARPU = the last day's MRR per paying customer.
- monthly revenue churn rate = churned MRR / MRR exposure in months, where the exposure is
  the sum of each day's starting MRR over 365/12 days (at a constant MRR M with daily churn c
  this is 365/12 * c / M: a month's churn).
- LTV = ARPU / monthly revenue churn rate, half-even to the minor unit; `null` with a reason
  when there was no churn (unbounded) or no MRR to churn from.
Snapshots written before revenue analytics existed carry no movements: they are listed in
`missing_days` (rebuild them with `moneta analytics backfill`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from agents.analytics.metrics import RATE_PLACES, rate
from agents.analytics.movements import MOVEMENT_METRICS

DAYS_PER_MONTH = Decimal(365) / 12
PERIODS = ("day", "month")
SUMMED = MOVEMENT_METRICS


@dataclass(frozen=True)
class DayFigures:
    day: date
    metrics: Mapping[str, Any]


def period_of(day: date, by: str) -> str:
    if by not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {by!r}")
    return day.isoformat() if by == "day" else day.strftime("%Y-%m")


def _figure(metrics: Mapping[str, Any], key: str) -> int:
    return int(metrics.get(key) or 0)


def period_rows(days: Sequence[DayFigures], by: str) -> list[dict[str, Any]]:
    """One row per period with data: period, mrr_start, mrr, the movements, net, trials."""
    rows: dict[str, dict[str, Any]] = {}
    for figures in days:
        key = period_of(figures.day, by)
        if key not in rows:
            opening: dict[str, Any] = {
                "period": key,
                "mrr_start": _figure(figures.metrics, "mrr_start"),
            }
            rows[key] = opening | dict.fromkeys(SUMMED, 0)
        row = rows[key]
        row["mrr"] = _figure(figures.metrics, "mrr")
        for name in SUMMED:
            row[name] += _figure(figures.metrics, name)
    return list(rows.values())


def missing_days(days: Sequence[DayFigures]) -> list[str]:
    return [f.day.isoformat() for f in days if "mrr_net" not in f.metrics]


def trial_conversion(days: Sequence[DayFigures]) -> dict[str, Any]:
    ended = sum(_figure(f.metrics, "trials_ended") for f in days)
    converted = sum(_figure(f.metrics, "trials_converted") for f in days)
    return {
        "trials_ended": ended,
        "trials_converted": converted,
        "trial_conversion_rate": rate(converted, ended) if ended else None,
        "trial_conversion_reason": None if ended else "no trial ended in the range",
    }


def monthly_revenue_churn(days: Sequence[DayFigures]) -> Decimal | None:
    """Churned MRR per month of MRR exposure; None without any MRR to churn from."""
    exposure = sum(_figure(f.metrics, "mrr_start") for f in days)
    if exposure == 0:
        return None
    churned = sum(_figure(f.metrics, "mrr_churn") for f in days)
    return Decimal(churned) * DAYS_PER_MONTH / exposure


def lifetime_value(arpu: int, churn: Decimal | None) -> tuple[int | None, str | None]:
    """(LTV, None) or (None, why it cannot be computed)."""
    if churn is None:
        return None, "no MRR in the range, so no churn rate"
    if churn == 0:
        return None, "no revenue churn in the range: the lifetime is unbounded"
    return int((Decimal(arpu) / churn).quantize(Decimal(1), ROUND_HALF_EVEN)), None


def summary(days: Sequence[DayFigures]) -> dict[str, Any]:
    """Trial conversion, ARPU, monthly revenue churn and LTV over the range."""
    arpu = _figure(days[-1].metrics, "arpu") if days else 0
    churn = monthly_revenue_churn(days)
    ltv, reason = lifetime_value(arpu, churn)
    return trial_conversion(days) | {
        "mrr": _figure(days[-1].metrics, "mrr") if days else 0,
        "arpu": arpu,
        "revenue_churn_rate_monthly": (
            None if churn is None else str(churn.quantize(RATE_PLACES, ROUND_HALF_EVEN))
        ),
        "ltv": ltv,
        "ltv_reason": reason,
    }
