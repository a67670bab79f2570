"""Commission arithmetic: pure functions over integer minor units and basis points.

Rounding always favours the platform (floor), so the sum of clawbacks never exceeds the
commission and a commission never exceeds its rate's share.
"""

from __future__ import annotations

import calendar
from datetime import datetime

BPS = 10_000


def check_rate(rate_bps: int) -> int:
    """A commission rate in basis points, 0..10,000; anything else raises ValueError."""
    if isinstance(rate_bps, bool) or not isinstance(rate_bps, int) or not 0 <= rate_bps <= BPS:
        raise ValueError(f"a commission rate is 0..{BPS} basis points, got {rate_bps!r}")
    return rate_bps


def commission_basis(amount_paid: int, tax: int) -> int:
    """What a commission is a share of: the money actually paid, net of tax (never below 0)."""
    return max(amount_paid - max(tax, 0), 0)


def commission_amount(basis: int, rate_bps: int) -> int:
    return max(basis, 0) * check_rate(rate_bps) // BPS


def clawback_due(commission: int, paid: int, taken_back: int, clawed_so_far: int) -> int:
    """What to claw back now that `taken_back` of `paid` went back to the customer (cumulative).

    The target is the commission's share of the money taken back; the result is what is
    still missing from it, so replays and partial refunds in any order add up, never over.
    """
    if commission <= 0:
        return 0
    if paid <= 0 or taken_back >= paid:
        target = commission
    else:
        target = commission * max(taken_back, 0) // paid
    return max(min(target, commission) - clawed_so_far, 0)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (clamped to the month's end: Jan 31 + 1 -> Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def earns_recurring(converted_at: datetime, paid_at: datetime, recurring_months: int) -> bool:
    """Whether a later invoice still earns: paid within `recurring_months` of the conversion."""
    return recurring_months > 0 and paid_at < add_months(converted_at, recurring_months)
