"""Redemptions as Stripe reports them: a completed checkout or a subscription with a discount.

Stripe applies a promotion code when the checkout completes (or when a subscription gets
it); that is when Moneta counts it, once per code and customer however often it is told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from agents.billing.mirror import ensure_customer
from agents.billing.stripe_objects import event_object, event_time, expandable_id
from agents.context import AgentContext
from agents.discounts.loader import discounts_of
from agents.discounts.redemptions import redeem_code
from db.models.discounts import RedemptionScope
from db.repositories.discounts import key_for_stripe_id

log = logging.getLogger(__name__)
Outcome = TypeVar("Outcome")
Handler = Callable[[AgentContext, dict[str, Any]], Outcome]


def then_record_redemptions(handler: Handler[Outcome]) -> Handler[Outcome]:
    """`handler`, then count the promotion codes the event's checkout or subscription carries."""

    def handle(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
        outcome = handler(ctx, event)
        record_redemptions(ctx, event)
        return outcome

    handle.__name__ = handler.__name__
    handle.__doc__ = handler.__doc__
    return handle


def record_redemptions(ctx: AgentContext, event: dict[str, Any]) -> None:
    """Count each known promotion code on the event's object for its customer."""
    obj = event_object(event)
    stripe_customer = expandable_id(obj.get("customer"))
    codes = [code for code in _promotion_code_ids(obj) if code]
    if not stripe_customer or not codes:
        return
    customer_id = ensure_customer(ctx, stripe_customer, event["created"])
    discounts = discounts_of(ctx.settings)
    for stripe_code_id in codes:
        code = key_for_stripe_id(ctx.session, RedemptionScope.PROMOTION_CODE, stripe_code_id)
        if code is None:
            log.info("promotion code %s is not one Moneta synced; not counted", stripe_code_id)
            continue
        outcome = redeem_code(
            ctx.session,
            discounts,
            code=code,
            customer_id=customer_id,
            source=obj["id"],
            at=event_time(event),
        )
        if outcome == "exhausted":
            log.warning(
                "%s used beyond its limit by customer %s (Stripe allowed it)", code, customer_id
            )


def _promotion_code_ids(obj: dict[str, Any]) -> Iterator[str | None]:
    """Promotion codes of a checkout session's `discounts`, or of a subscription's discounts
    where expanded (webhooks send bare discount ids, which carry no code)."""
    for discount in [*(obj.get("discounts") or []), obj.get("discount")]:
        if isinstance(discount, dict):
            yield expandable_id(discount.get("promotion_code"))
