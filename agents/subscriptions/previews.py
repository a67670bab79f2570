"""The money of a subscription change before it is made: pure, deterministic, to the second.

Upgrades use Stripe's default `create_prorations`: the plan changes now and the proration
(credit for the unused old plan, charge for the rest of the period on the new one, the same
numbers `agents.pricing.proration` gives and Stripe bills with `proration_date` = the preview's
instant) is added to the next invoice. A change of interval resets the billing cycle, which
Stripe invoices at once. Amounts are before discounts and tax (the estimate adds those).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Literal

from agents.pricing.money import Money
from agents.pricing.proration import prorate_change
from agents.subscriptions.terms import PlanTerms, SubscriptionState
from core.calendar_months import add_interval

Action = Literal[
    "upgrade", "downgrade", "cancel_at_period_end", "cancel_now", "resume", "pause", "unpause"
]


@dataclass(frozen=True)
class PreviewLine:
    kind: Literal["credit", "charge"]
    description: str
    amount: int  # minor units; a credit is negative
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ChangePreview:
    action: Action
    currency: str
    effective_at: datetime
    proration_date: int  # unix seconds of the preview, sent to Stripe
    lines: tuple[PreviewLine, ...]
    amount_due_now: int
    next_invoice_amount: int
    next_invoice_date: datetime | None
    refund_amount: int  # cancel now: what goes to the approval gate as a refund request

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601."""
        return _jsonable(asdict(self))


def compute_preview(
    action: Action,
    current: PlanTerms,
    state: SubscriptionState,
    at: datetime,
    *,
    target: PlanTerms | None = None,
    refundable: int = 0,
) -> ChangePreview:
    """The preview of `action` at `at`; `refundable` caps a cancel-now refund (what was paid)."""
    match action:
        case "upgrade":
            assert target is not None
            return _upgrade(current, target, state, at)
        case "downgrade":
            assert target is not None
            return _preview(
                action, current, at, state.period_end, (), target.total, state.period_end
            )
        case "cancel_at_period_end":
            return _preview(action, current, at, state.period_end, (), 0, None)
        case "pause":  # collection paused: invoices are voided until it is resumed
            return _preview(action, current, at, at, (), 0, None)
        case "resume" | "unpause":
            return _preview(action, current, at, at, (), current.total, state.period_end)
        case "cancel_now":
            return _cancel_now(current, state, at, refundable)


def _upgrade(
    current: PlanTerms, target: PlanTerms, state: SubscriptionState, at: datetime
) -> ChangePreview:
    if state.status == "trialing":  # nothing was paid for the trial: nothing to prorate
        return _preview("upgrade", current, at, at, (), target.total, state.period_end)
    same_cycle = (current.interval, current.interval_count) == (
        target.interval,
        target.interval_count,
    )
    if same_cycle:
        proration = prorate_change(
            Money(current.total, current.currency),
            Money(target.total, target.currency),
            period_start=state.period_start,
            period_end=state.period_end,
            changed_at=at,
        )
        lines = (
            _line(
                "credit",
                f"Unused time on {_name(current)}",
                proration.credit.amount.amount,
                at,
                state.period_end,
            ),
            _line(
                "charge",
                f"Remaining time on {_name(target)}",
                proration.charge.amount.amount,
                at,
                state.period_end,
            ),
        )
        next_amount = target.total + proration.net.amount
        return _preview("upgrade", current, at, at, lines, next_amount, state.period_end)
    credit = _unused(current, state, at)
    cycle_end = add_interval(at, target.interval, target.interval_count)
    lines = (
        _line("credit", f"Unused time on {_name(current)}", credit, at, state.period_end),
        _line("charge", _name(target), target.total, at, cycle_end),
    )
    net = target.total + credit
    carried = max(-net, 0)  # a credit larger than the charge stays on the customer's balance
    return ChangePreview(
        action="upgrade",
        currency=current.currency,
        effective_at=at,
        proration_date=unix(at),
        lines=lines,
        amount_due_now=max(net, 0),
        next_invoice_amount=max(target.total - carried, 0),
        next_invoice_date=cycle_end,
        refund_amount=0,
    )


def _cancel_now(
    current: PlanTerms, state: SubscriptionState, at: datetime, refundable: int
) -> ChangePreview:
    credit = 0 if state.status == "trialing" else _unused(current, state, at)
    lines = (
        (_line("credit", f"Unused time on {_name(current)}", credit, at, state.period_end),)
        if credit
        else ()
    )
    preview = _preview("cancel_now", current, at, at, lines, 0, None)
    return replace(preview, refund_amount=min(-credit, max(refundable, 0)))


def _unused(current: PlanTerms, state: SubscriptionState, at: datetime) -> int:
    """The (negative) credit for the unused rest of the period of the current plan."""
    zero = Money(0, current.currency)
    proration = prorate_change(
        Money(current.total, current.currency),
        zero,
        period_start=state.period_start,
        period_end=state.period_end,
        changed_at=at,
    )
    return proration.credit.amount.amount


def _preview(
    action: Action,
    current: PlanTerms,
    at: datetime,
    effective_at: datetime,
    lines: tuple[PreviewLine, ...],
    next_amount: int,
    next_date: datetime | None,
) -> ChangePreview:
    return ChangePreview(
        action=action,
        currency=current.currency,
        effective_at=effective_at,
        proration_date=unix(at),
        lines=lines,
        amount_due_now=0,
        next_invoice_amount=next_amount if next_date is not None else 0,
        next_invoice_date=next_date,
        refund_amount=0,
    )


def _line(
    kind: Literal["credit", "charge"], text: str, amount: int, start: datetime, end: datetime
) -> PreviewLine:
    return PreviewLine(kind, text, amount, start, end)


def _name(terms: PlanTerms) -> str:
    plan = terms.price_key or "current plan"
    return f"{terms.quantity} × {plan}" if terms.quantity != 1 else plan


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
