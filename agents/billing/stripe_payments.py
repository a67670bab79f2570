"""Charges, refunds, disputes and Checkout Sessions read from Stripe dicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agents.billing.stripe_objects import (
    FULFILLABLE_PAYMENT_STATUSES,
    expandable_id,
    snapshot_columns,
    sub_field,
    timestamp,
)


@dataclass(frozen=True)
class ChargeSnapshot:
    """A charge as a Payment row; `columns()` matches db.models.Payment (minus keys)."""

    stripe_charge_id: str
    stripe_payment_intent_id: str | None
    stripe_customer_id: str | None
    amount: int
    amount_refunded: int
    currency: str
    status: str
    failure_code: str | None
    paid_at: datetime | None

    def columns(self) -> dict[str, Any]:
        return snapshot_columns(self, "stripe_customer_id")


def read_charge(obj: dict[str, Any]) -> ChargeSnapshot:
    return ChargeSnapshot(
        stripe_charge_id=obj["id"],
        stripe_payment_intent_id=expandable_id(obj.get("payment_intent")),
        stripe_customer_id=expandable_id(obj.get("customer")),
        amount=int(obj.get("amount") or 0),
        amount_refunded=int(obj.get("amount_refunded") or 0),
        currency=(obj.get("currency") or "usd").lower(),
        status=obj.get("status") or "succeeded",
        failure_code=obj.get("failure_code"),
        paid_at=timestamp(obj.get("created")) if obj.get("paid") else None,
    )


def embedded_refunds(charge: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Refunds listed on the charge, or None when Stripe left them out (API >= 2022-11-15)."""
    refunds = sub_field(charge, "refunds", "data")
    return refunds if isinstance(refunds, list) and refunds else None


@dataclass(frozen=True)
class RefundSnapshot:
    stripe_refund_id: str
    stripe_charge_id: str | None
    amount: int
    currency: str
    status: str
    reason: str | None
    refunded_at: datetime | None

    def columns(self) -> dict[str, Any]:
        return snapshot_columns(self, "stripe_refund_id")


def read_refund(obj: dict[str, Any]) -> RefundSnapshot:
    return RefundSnapshot(
        stripe_refund_id=obj["id"],
        stripe_charge_id=expandable_id(obj.get("charge")),
        amount=int(obj.get("amount") or 0),
        currency=(obj.get("currency") or "usd").lower(),
        status=obj.get("status") or "pending",
        reason=obj.get("reason"),
        refunded_at=timestamp(obj.get("created")),
    )


@dataclass(frozen=True)
class DisputeSnapshot:
    stripe_dispute_id: str
    stripe_charge_id: str | None
    amount: int
    currency: str
    status: str
    reason: str | None
    funds_withdrawn: int = 0
    fees_charged: int = 0
    funds_reinstated: int = 0
    fees_returned: int = 0

    def columns(self) -> dict[str, Any]:
        return snapshot_columns(self, "stripe_dispute_id")


def read_dispute(obj: dict[str, Any]) -> DisputeSnapshot:
    amount = int(obj.get("amount") or 0)
    currency = (obj.get("currency") or "usd").lower()
    status = obj.get("status") or "needs_response"
    moves = dispute_fund_moves(obj.get("balance_transactions") or [], amount, currency, status)
    return DisputeSnapshot(
        stripe_dispute_id=obj["id"],
        stripe_charge_id=expandable_id(obj.get("charge")),
        amount=amount,
        currency=currency,
        status=status,
        reason=obj.get("reason"),
        **moves,
    )


def dispute_fund_moves(
    balance_transactions: list[Any], amount: int, currency: str, status: str
) -> dict[str, int]:
    """What a dispute did to our Stripe balance, read from its `balance_transactions`.

    A withdrawal (negative amount) takes the disputed amount plus Stripe's fee; a won dispute
    adds a reinstatement (positive amount, a negative fee where Stripe returns the fee).
    Inquiries move nothing. A `lost` dispute reported without them still lost the amount.
    Fees settled in another currency than the dispute's are not ours to convert: left out.
    """
    txns = [t for t in balance_transactions if isinstance(t, dict)]
    out = [t for t in txns if int(t.get("amount") or 0) < 0]
    back = [t for t in txns if int(t.get("amount") or 0) > 0]

    def fees(rows: list[dict[str, Any]]) -> int:
        return sum(int(t.get("fee") or 0) for t in rows if (t.get("currency") or "") == currency)

    withdrawn = amount if out or status == "lost" else 0
    return {
        "funds_withdrawn": withdrawn,
        "fees_charged": max(fees(out), 0),
        "funds_reinstated": amount if back and withdrawn else 0,
        "fees_returned": max(-fees(back), 0),
    }


@dataclass(frozen=True)
class CheckoutSnapshot:
    stripe_session_id: str
    stripe_customer_id: str | None
    email: str | None
    name: str | None
    mode: str
    payment_status: str
    stripe_payment_intent_id: str | None
    stripe_subscription_id: str | None
    amount_total: int
    currency: str
    url: str | None

    @property
    def is_paid(self) -> bool:
        return self.payment_status in FULFILLABLE_PAYMENT_STATUSES


def read_checkout_session(obj: dict[str, Any]) -> CheckoutSnapshot:
    return CheckoutSnapshot(
        stripe_session_id=obj["id"],
        stripe_customer_id=expandable_id(obj.get("customer")),
        email=sub_field(obj, "customer_details", "email") or obj.get("customer_email"),
        name=sub_field(obj, "customer_details", "name"),
        mode=obj.get("mode") or "payment",
        payment_status=obj.get("payment_status") or "unpaid",
        stripe_payment_intent_id=expandable_id(obj.get("payment_intent")),
        stripe_subscription_id=expandable_id(obj.get("subscription")),
        amount_total=int(obj.get("amount_total") or 0),
        currency=(obj.get("currency") or "usd").lower(),
        url=obj.get("url"),
    )
