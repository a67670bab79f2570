"""`partners.invoice_paid`: a paid invoice earns commissions for the customer's partners.

The affiliate earns on the customer's first paid invoice within the attribution window (and
on later ones within `recurring_months` of it); the customer's agency earns on every paid
invoice handled while the customer is its client. The basis is the amount paid net of tax;
a payment already refunded or disputed, or a zero one, earns nothing. A flagged referral's
commissions are held, unposted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agents.context import AgentContext
from agents.partners import repository as repo
from agents.partners.commission import commission_amount, commission_basis, earns_recurring
from agents.partners.fraud import ReferralFacts, review_flags
from agents.partners.postings import post_commission
from core.clock import utcnow
from db.models import Affiliate, Agency, PartnerCommission, Referral
from db.models.partners import CommissionKind, CommissionStatus, PartnerKind, ReviewStatus
from db.statements import insert_ignore
from tools.stripe.amounts import payment_fingerprint
from tools.stripe.gateway import StripeNotFound

_OWN_CHARGES_CHECKED = 5


@dataclass(frozen=True)
class PaidInvoice:
    """The facts billing hands over with `partners.invoice_paid`."""

    stripe_invoice_id: str
    stripe_customer_id: str | None
    customer_id: int | None
    email: str | None
    amount_paid: int
    tax: int
    currency: str
    paid_at: datetime

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> PaidInvoice:
        return cls(
            stripe_invoice_id=payload["stripe_invoice_id"],
            stripe_customer_id=payload.get("stripe_customer_id"),
            customer_id=payload.get("customer_id"),
            email=payload.get("email"),
            amount_paid=int(payload["amount_paid"]),
            tax=int(payload.get("tax") or 0),
            currency=str(payload["currency"]).lower(),
            paid_at=datetime.fromisoformat(payload["paid_at"]),
        )


def apply_invoice_paid(ctx: AgentContext, invoice: PaidInvoice) -> dict[str, Any]:
    session = ctx.session
    basis = commission_basis(invoice.amount_paid, invoice.tax)
    if basis <= 0:
        return {"commissions": [], "skipped": "nothing paid net of tax"}
    if not repo.anyone_may_earn(
        session,
        customer_id=invoice.customer_id,
        stripe_customer_id=invoice.stripe_customer_id,
        email=invoice.email,
    ):
        return {"commissions": []}
    payments = repo.invoice_payments(session, invoice.stripe_invoice_id)
    refunded = sum(repo.refunded_amount(session, p) for p in payments)
    if refunded > 0 or repo.is_disputed(session, [p.id for p in payments]):
        return {"commissions": [], "skipped": "payment refunded or disputed before commission"}
    made: list[PartnerCommission | None] = []
    referral = repo.referral_of(
        session,
        customer_id=invoice.customer_id,
        stripe_customer_id=invoice.stripe_customer_id,
        email=invoice.email,
    )
    if referral is not None:
        charges = tuple(p.stripe_charge_id for p in payments if p.stripe_charge_id)
        made.append(_affiliate_commission(ctx, referral, invoice, basis, charges))
    if invoice.customer_id is not None:
        link = repo.active_agency_link(session, invoice.customer_id)
        if link is not None:
            made.append(_agency_commission(session, link[1], invoice, basis))
    return {"commissions": [c.id for c in made if c is not None]}


def _affiliate_commission(
    ctx: AgentContext,
    referral: Referral,
    invoice: PaidInvoice,
    basis: int,
    charges: tuple[str, ...],
) -> PartnerCommission | None:
    session = ctx.session
    affiliate = session.get(Affiliate, referral.affiliate_id)
    if affiliate is None or affiliate.status != "active":
        return None
    _link_customer(referral, invoice)
    if referral.converted_at is None:
        if invoice.paid_at > referral.window_ends_at:
            return None
        referral.converted_at, referral.first_invoice_id = (
            invoice.paid_at,
            invoice.stripe_invoice_id,
        )
        referral.payment_fingerprint = _fingerprint(ctx, charges)
        _review(ctx, referral, affiliate)
    elif referral.first_invoice_id != invoice.stripe_invoice_id and not earns_recurring(
        referral.converted_at, invoice.paid_at, affiliate.recurring_months
    ):
        return None
    held = referral.review_status in (ReviewStatus.FLAGGED, ReviewStatus.REJECTED)
    return _record(
        session,
        PartnerKind.AFFILIATE,
        affiliate.id,
        affiliate.commission_rate_bps,
        invoice,
        basis,
        referral_id=referral.id,
        status=CommissionStatus.HELD if held else CommissionStatus.EARNED,
    )


def _agency_commission(
    session: Session, agency: Agency, invoice: PaidInvoice, basis: int
) -> PartnerCommission | None:
    return _record(
        session,
        PartnerKind.AGENCY,
        agency.id,
        agency.commission_rate_bps,
        invoice,
        basis,
        referral_id=None,
        status=CommissionStatus.EARNED,
    )


def _record(
    session: Session,
    kind: str,
    partner_id: int,
    rate_bps: int,
    invoice: PaidInvoice,
    basis: int,
    *,
    referral_id: int | None,
    status: str,
) -> PartnerCommission | None:
    """Insert the commission once per partner and invoice; post it unless held."""
    amount = commission_amount(basis, rate_bps)
    if amount <= 0:
        return None
    now = utcnow()
    commission_id = insert_ignore(
        session,
        PartnerCommission,
        {
            "source_key": f"{kind}:{partner_id}:{invoice.stripe_invoice_id}",
            "partner_kind": kind,
            "partner_id": partner_id,
            "kind": CommissionKind.COMMISSION,
            "status": status,
            "customer_id": invoice.customer_id,
            "referral_id": referral_id,
            "stripe_invoice_id": invoice.stripe_invoice_id,
            "basis_amount": basis,
            "rate_bps": rate_bps,
            "amount": amount,
            "currency": invoice.currency,
            "created_at": now,
            "updated_at": now,
        },
    )
    if commission_id is None:
        return None
    commission = session.get(PartnerCommission, commission_id)
    assert commission is not None
    if status == CommissionStatus.EARNED:
        post_commission(session, commission)
    return commission


def _link_customer(referral: Referral, invoice: PaidInvoice) -> None:
    """An e-mail-only referral learns its customer's ids when the customer pays."""
    if referral.customer_id is None and invoice.customer_id is not None:
        referral.customer_id = invoice.customer_id
    if referral.stripe_customer_id is None and invoice.stripe_customer_id:
        referral.stripe_customer_id = invoice.stripe_customer_id
    if referral.email is None and invoice.email:
        referral.email = invoice.email


def _review(ctx: AgentContext, referral: Referral, affiliate: Affiliate) -> None:
    """Flag the converting referral for self-referral or a payment method the affiliate uses."""
    if referral.review_status != ReviewStatus.CLEAR:
        return  # already flagged, or an operator decided: a decision is not overturned here
    own = set(repo.fingerprints_of_affiliate(ctx.session, affiliate.id, but_not=referral.id))
    if affiliate.customer_id is not None:
        charges = repo.charge_ids_of_customer(
            ctx.session, affiliate.customer_id, _OWN_CHARGES_CHECKED
        )
        own |= {f for f in (_fingerprint(ctx, (c,)) for c in charges) if f}
    flags = review_flags(
        ReferralFacts(
            affiliate_email=affiliate.email,
            affiliate_customer_id=affiliate.customer_id,
            referred_email=referral.email,
            referred_customer_id=referral.customer_id,
            referred_fingerprint=referral.payment_fingerprint,
            affiliate_fingerprints=own,
        )
    )
    if flags:
        referral.review_status = ReviewStatus.FLAGGED
        referral.review_reason = ", ".join(flags)


def _fingerprint(ctx: AgentContext, charges: tuple[str, ...]) -> str | None:
    """The first charge's payment-method fingerprint, asked of Stripe; None if unknown."""
    for charge_id in charges:
        try:
            return payment_fingerprint(ctx.stripe.retrieve("charge", charge_id))
        except StripeNotFound:
            continue
    return None
