"""Amounts read off Stripe objects that more than one agent needs. Pure functions."""

from __future__ import annotations

from typing import Any


def invoice_tax(invoice: dict[str, Any]) -> int:
    """The tax in an invoice's total, exclusive or inclusive, for both API layouts.

    `total - total_excluding_tax` where Stripe gives both; else the sum of `total_taxes`
    (2025+) or `total_tax_amounts`, else the legacy `tax` field; 0 when none is present.
    """
    total, excluding = invoice.get("total"), invoice.get("total_excluding_tax")
    if isinstance(total, int) and isinstance(excluding, int):
        return max(total - excluding, 0)
    for field in ("total_taxes", "total_tax_amounts"):
        amounts = invoice.get(field)
        if isinstance(amounts, list) and amounts:
            return sum(int(a.get("amount") or 0) for a in amounts if isinstance(a, dict))
    tax = invoice.get("tax")
    return int(tax) if isinstance(tax, int) else 0


def payment_fingerprint(charge: dict[str, Any]) -> str | None:
    """The fingerprint of the card (or bank account) a charge was paid with, if Stripe has one."""
    details = charge.get("payment_method_details")
    if not isinstance(details, dict):
        return None
    method = details.get(details.get("type") or "")
    if isinstance(method, dict) and isinstance(method.get("fingerprint"), str):
        return str(method["fingerprint"])
    return None
