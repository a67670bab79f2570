"""Invoices and their payments read from Stripe dicts (endive and legacy layouts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agents.billing.stripe_objects import expandable_id, snapshot_columns, sub_field, timestamp


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
    return expandable_id(sub_field(obj, "parent", "subscription_details", "subscription")) or (
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
        paid_at=timestamp(sub_field(obj, "status_transitions", "paid_at")),
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
            paid_at=timestamp(sub_field(entry, "status_transitions", "paid_at")),
        )
        if ref.stripe_charge_id or ref.stripe_payment_intent_id:
            refs.append(ref)
    return refs


def invoice_payment_refs(obj: dict[str, Any]) -> list[PaymentRef]:
    """Paid entries of `payments` (endive, when included), else legacy charge/payment_intent."""
    refs = read_invoice_payments(sub_field(obj, "payments", "data") or [])
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
    return bool(sub_field(obj, "payments", "has_more")) or not invoice_payment_refs(obj)
