"""Read Stripe object dicts into plain values, for API 2026-10-28.endive and the legacy layout.

Pure functions: no session, no network. Endive keeps subscription periods on items, links
invoices to subscriptions through `parent.subscription_details` and lists invoice payments
under `payments`; localstripe still emits top-level periods, `invoice.subscription` and
`invoice.charge`. Every reader accepts both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.clock import from_timestamp

ACTIVE_STATUSES = frozenset({"active", "trialing"})
FULFILLABLE_PAYMENT_STATUSES = frozenset({"paid", "no_payment_required"})


def expandable_id(value: Any) -> str | None:
    """The id of an expandable field, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) and value else None


def timestamp(value: Any) -> datetime | None:
    """Stripe unix seconds (or None) to an aware UTC datetime."""
    return from_timestamp(value) if isinstance(value, int | float) else None


def event_time(event: dict[str, Any]) -> datetime:
    return from_timestamp(event["created"])


def event_object(event: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = event["data"]["object"]
    return obj


def snapshot_columns(snapshot: Any, *left_out: str) -> dict[str, Any]:
    """A flat snapshot's fields as row values, but `left_out` (keys).

    Shallow on purpose: every field is a scalar, and `dataclasses.asdict` deep-copies each
    value, a cost paid on every mirrored object.
    """
    return {f.name: getattr(snapshot, f.name) for f in fields(snapshot) if f.name not in left_out}


def _sub(obj: dict[str, Any] | None, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None where any step is missing or null."""
    value: Any = obj
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


@dataclass(frozen=True)
class CustomerSnapshot:
    stripe_customer_id: str
    email: str | None
    name: str | None
    deleted: bool


def read_customer(obj: dict[str, Any]) -> CustomerSnapshot:
    return CustomerSnapshot(
        stripe_customer_id=obj["id"],
        email=obj.get("email"),
        name=obj.get("name"),
        deleted=bool(obj.get("deleted")),
    )


@dataclass(frozen=True)
class PriceTerms:
    """What one subscription item costs: plan key, price id, amount per interval."""

    plan: str | None
    stripe_price_id: str | None
    unit_amount: int
    currency: str | None
    interval: str
    interval_count: int


def plan_key(price: dict[str, Any]) -> str | None:
    """lookup_key, else metadata.plan, else the expanded product's metadata.plan, else the id."""
    product_metadata = _sub(price, "product", "metadata") or {}
    return (
        price.get("lookup_key")
        or (price.get("metadata") or {}).get("plan")
        or product_metadata.get("plan")
        or price.get("id")
    )


def read_price(price: dict[str, Any]) -> PriceTerms:
    """A `price` (endive) or legacy `plan` object: both carry an id, amount and interval."""
    recurring = price.get("recurring") or {}
    amount = price.get("unit_amount")
    if amount is None:
        amount = price.get("amount")
    return PriceTerms(
        plan=plan_key(price),
        stripe_price_id=price.get("id"),
        unit_amount=int(amount or 0),
        currency=price.get("currency"),
        interval=recurring.get("interval") or price.get("interval") or "month",
        interval_count=int(recurring.get("interval_count") or price.get("interval_count") or 1),
    )


@dataclass(frozen=True)
class Discount:
    percent_off: str | None  # Decimal as text, e.g. "12.5"
    amount_off: int | None


def read_discount(subscription: dict[str, Any]) -> Discount:
    """The first expanded discount's coupon; ids alone (not expanded) carry no terms."""
    candidates = [*(subscription.get("discounts") or []), subscription.get("discount")]
    for discount in candidates:
        if not isinstance(discount, dict):
            continue
        coupon = discount.get("coupon") or _sub(discount, "source", "coupon")
        if not isinstance(coupon, dict):
            continue
        percent = coupon.get("percent_off")
        return Discount(
            percent_off=None if percent is None else format(Decimal(str(percent)).normalize(), "f"),
            amount_off=coupon.get("amount_off"),
        )
    return Discount(None, None)


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """A subscription's mirrored columns; `columns()` matches db.models.Subscription."""

    stripe_subscription_id: str
    stripe_customer_id: str
    status: str
    plan: str | None
    stripe_price_id: str | None
    quantity: int
    unit_amount: int
    currency: str
    interval: str
    interval_count: int
    discount_percent_off: str | None
    discount_amount_off: int | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None
    trial_end: datetime | None
    started_at: datetime | None

    def columns(self) -> dict[str, Any]:
        return snapshot_columns(self, "stripe_subscription_id", "stripe_customer_id")


def read_subscription(obj: dict[str, Any]) -> SubscriptionSnapshot:
    """The primary (first) item gives plan, price and period; Moneta sells one plan per sub."""
    items = _sub(obj, "items", "data") or []
    item: dict[str, Any] = items[0] if items else {}
    price = read_price(item.get("price") or item.get("plan") or {})
    discount = read_discount(obj)
    return SubscriptionSnapshot(
        stripe_subscription_id=obj["id"],
        stripe_customer_id=expandable_id(obj.get("customer")) or "",
        status=obj["status"],
        plan=price.plan,
        stripe_price_id=price.stripe_price_id,
        quantity=int(item.get("quantity") or obj.get("quantity") or 1),
        unit_amount=price.unit_amount,
        currency=(obj.get("currency") or price.currency or "usd").lower(),
        interval=price.interval,
        interval_count=price.interval_count,
        discount_percent_off=discount.percent_off,
        discount_amount_off=discount.amount_off,
        current_period_start=timestamp(
            item.get("current_period_start", obj.get("current_period_start"))
        ),
        current_period_end=timestamp(item.get("current_period_end", obj.get("current_period_end"))),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=timestamp(obj.get("canceled_at")),
        ended_at=timestamp(obj.get("ended_at")),
        trial_end=timestamp(obj.get("trial_end")),
        started_at=timestamp(obj.get("start_date")),
    )


VERSION_COLUMNS = (
    "status",
    "plan",
    "quantity",
    "unit_amount",
    "currency",
    "interval",
    "interval_count",
    "discount_percent_off",
    "discount_amount_off",
    "trial_end",
)


def version_columns(snapshot: SubscriptionSnapshot) -> dict[str, Any]:
    """The subset of a snapshot that a SubscriptionVersion keeps."""
    columns = snapshot.columns()
    return {name: columns[name] for name in VERSION_COLUMNS}


@dataclass(frozen=True)
class InvoiceSnapshot:
    """An invoice's mirrored columns; `columns()` matches db.models.Invoice."""

    stripe_invoice_id: str
    stripe_customer_id: str
    customer_email: str | None
    stripe_subscription_id: str | None
    number: str | None
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    hosted_invoice_url: str | None
    billing_reason: str | None
    attempt_count: int
    period_start: datetime | None
    period_end: datetime | None
    paid_at: datetime | None
    subtotal: int | None = None
    total_discount: int | None = None
    tax: int | None = None
    total: int | None = None

    def columns(self) -> dict[str, Any]:
        return snapshot_columns(self, "stripe_invoice_id", "stripe_customer_id", "customer_email")


def invoice_subscription_id(obj: dict[str, Any]) -> str | None:
    """parent.subscription_details (endive), else invoice.subscription (legacy)."""
    return expandable_id(_sub(obj, "parent", "subscription_details", "subscription")) or (
        expandable_id(obj.get("subscription"))
    )


def read_invoice(obj: dict[str, Any]) -> InvoiceSnapshot:
    return InvoiceSnapshot(
        stripe_invoice_id=obj["id"],
        stripe_customer_id=expandable_id(obj.get("customer")) or "",
        customer_email=obj.get("customer_email"),
        stripe_subscription_id=invoice_subscription_id(obj),
        number=obj.get("number"),
        status=obj.get("status") or "open",
        amount_due=int(obj.get("amount_due") or 0),
        amount_paid=int(obj.get("amount_paid") or 0),
        currency=(obj.get("currency") or "usd").lower(),
        hosted_invoice_url=obj.get("hosted_invoice_url"),
        billing_reason=obj.get("billing_reason"),
        attempt_count=int(obj.get("attempt_count") or 0),
        period_start=timestamp(obj.get("period_start")),
        period_end=timestamp(obj.get("period_end")),
        paid_at=timestamp(_sub(obj, "status_transitions", "paid_at")),
        **invoice_totals(obj),
    )


def sum_of_amounts(entries: Any) -> int | None:
    """The sum of `amount` over a list of Stripe amount entries; None when it is no list."""
    if not isinstance(entries, list):
        return None
    return sum(int(e.get("amount") or 0) for e in entries if isinstance(e, dict))


def invoice_totals(obj: dict[str, Any]) -> dict[str, int | None]:
    """Subtotal, discounts, tax and total: endive lists (`total_taxes`) or legacy `tax`."""
    tax = sum_of_amounts(obj.get("total_taxes"))
    if tax is None:
        tax = (
            obj["tax"]
            if isinstance(obj.get("tax"), int)
            else sum_of_amounts(obj.get("total_tax_amounts"))
        )
    subtotal, total = obj.get("subtotal"), obj.get("total")
    return {
        "subtotal": int(subtotal) if isinstance(subtotal, int) else None,
        "total_discount": sum_of_amounts(obj.get("total_discount_amounts")),
        "tax": tax,
        "total": int(total) if isinstance(total, int) else None,
    }


@dataclass(frozen=True)
class PaymentRef:
    """One payment that settled (part of) an invoice, by charge and/or payment intent."""

    stripe_charge_id: str | None
    stripe_payment_intent_id: str | None
    amount: int
    paid_at: datetime | None  # the payment's own time; None where only the invoice's is known


def read_invoice_payments(entries: list[dict[str, Any]]) -> list[PaymentRef]:
    """The paid InvoicePayments of a list, embedded (`invoice.payments.data`) or fetched."""
    refs = []
    for entry in entries:
        if entry.get("status") not in (None, "paid"):
            continue
        payment = entry.get("payment") or {}
        ref = PaymentRef(
            stripe_charge_id=expandable_id(payment.get("charge")),
            stripe_payment_intent_id=expandable_id(payment.get("payment_intent")),
            amount=int(entry.get("amount_paid") or entry.get("amount_requested") or 0),
            paid_at=timestamp(_sub(entry, "status_transitions", "paid_at")),
        )
        if ref.stripe_charge_id or ref.stripe_payment_intent_id:
            refs.append(ref)
    return refs


def invoice_payment_refs(obj: dict[str, Any]) -> list[PaymentRef]:
    """Paid entries of `payments` (endive, when included), else legacy charge/payment_intent."""
    refs = read_invoice_payments(_sub(obj, "payments", "data") or [])
    if refs:
        return refs
    charge = expandable_id(obj.get("charge"))
    intent = expandable_id(obj.get("payment_intent"))
    if charge or intent:
        return [PaymentRef(charge, intent, int(obj.get("amount_paid") or 0), None)]
    return []


def invoice_payments_left_out(obj: dict[str, Any]) -> bool:
    """A paid invoice naming no payment, or only a first page of `payments`: ask Stripe.

    Endive webhooks leave the includable `payments` out and no longer carry `invoice.charge`.
    """
    if int(obj.get("amount_paid") or 0) <= 0:
        return False
    return bool(_sub(obj, "payments", "has_more")) or not invoice_payment_refs(obj)


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
    refunds = _sub(charge, "refunds", "data")
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
        email=_sub(obj, "customer_details", "email") or obj.get("customer_email"),
        name=_sub(obj, "customer_details", "name"),
        mode=obj.get("mode") or "payment",
        payment_status=obj.get("payment_status") or "unpaid",
        stripe_payment_intent_id=expandable_id(obj.get("payment_intent")),
        stripe_subscription_id=expandable_id(obj.get("subscription")),
        amount_total=int(obj.get("amount_total") or 0),
        currency=(obj.get("currency") or "usd").lower(),
        url=obj.get("url"),
    )
