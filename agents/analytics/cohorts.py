"""Cohort retention by signup month, as a triangle. Pure.

A customer's signup is the first moment it had MRR in the currency (a trial is not a signup;
its conversion is). Its cohort is that moment's calendar month. Retention N months later is
the share of the cohort with MRR above zero at the end of month cohort + N; the last month of
a range is measured at the range's end, so its column is "to date". A customer who churned
and came back counts as retained again: retention is "still paying then", not "never left".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime
from typing import Any

from agents.analytics.metrics import rate


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """First days of the months from `start`'s to `end`'s, inclusive."""
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = next_month(month)
    return months


def cohort_triangle(
    signups: Mapping[int, datetime],
    months: Sequence[date],
    paying: Mapping[date, Set[int]],
) -> list[dict[str, Any]]:
    """One row per month of `months`: its signups, and for N = 0.. the customers of the
    cohort paying at the end of month + N (`paying[month]`) and their share."""
    cohorts: dict[date, set[int]] = {month: set() for month in months}
    for customer_id, at in signups.items():
        month = month_start(at.date())
        if month in cohorts:
            cohorts[month].add(customer_id)
    rows = []
    for i, month in enumerate(months):
        members = cohorts[month]
        retained = [len(members & paying[later]) for later in months[i:]]
        rows.append(
            {
                "cohort": month.strftime("%Y-%m"),
                "customers": len(members),
                "retained": retained,
                "retention": [rate(n, len(members)) if members else None for n in retained],
            }
        )
    return rows
