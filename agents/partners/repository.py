"""The partners' queries: the only place here that builds SELECTs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from db.models import (
    Affiliate,
    Agency,
    AgencyClient,
    Customer,
    Dispute,
    PartnerCommission,
    Payment,
    Referral,
    Refund,
)
from db.models.partners import CommissionKind, CommissionStatus


def affiliate_by_code(session: Session, code: str) -> Affiliate | None:
    return session.scalars(select(Affiliate).where(Affiliate.referral_code == code)).first()


def affiliate_by_email(session: Session, email: str) -> Affiliate | None:
    stmt = select(Affiliate).where(func.lower(Affiliate.email) == email.strip().lower())
    return session.scalars(stmt).first()


def customer_by_stripe_id(session: Session, stripe_customer_id: str) -> Customer | None:
    stmt = select(Customer).where(Customer.stripe_customer_id == stripe_customer_id)
    return session.scalars(stmt).first()


# The customer's referral: by our id or Stripe's, by e-mail only while no id is on it. Absent
# facts are bound as NULL, which matches nothing; built once for every paid invoice.
_REFERRAL_OF_CUSTOMER = or_(
    Referral.customer_id == bindparam("customer_id"),
    Referral.stripe_customer_id == bindparam("stripe_customer_id"),
    (func.lower(Referral.email) == bindparam("email"))
    & Referral.customer_id.is_(None)
    & Referral.stripe_customer_id.is_(None),
)
_ACTIVE_AGENCY_LINK = (
    select(AgencyClient, Agency)
    .join(Agency, Agency.id == AgencyClient.agency_id)
    .where(
        AgencyClient.customer_id == bindparam("customer_id"),
        AgencyClient.unlinked_at.is_(None),
        Agency.status == "active",
    )
)
_ANYONE_MAY_EARN = select(
    or_(
        select(Referral.id).where(_REFERRAL_OF_CUSTOMER).exists(),
        _ACTIVE_AGENCY_LINK.with_only_columns(AgencyClient.id).exists(),
    )
)


def _customer_params(
    customer_id: int | None, stripe_customer_id: str | None, email: str | None
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "stripe_customer_id": stripe_customer_id or None,
        "email": email.strip().lower() if email else None,
    }


def referral_of(
    session: Session,
    *,
    customer_id: int | None,
    stripe_customer_id: str | None,
    email: str | None = None,
) -> Referral | None:
    """The customer's referral, by our id or Stripe's; by e-mail only if no id is on it yet."""
    if customer_id is None and not stripe_customer_id and not email:
        return None
    stmt = select(Referral).where(_REFERRAL_OF_CUSTOMER).order_by(Referral.id).with_for_update()
    return session.scalars(stmt, _customer_params(customer_id, stripe_customer_id, email)).first()


def active_agency_link(session: Session, customer_id: int) -> tuple[AgencyClient, Agency] | None:
    row = session.execute(_ACTIVE_AGENCY_LINK, {"customer_id": customer_id}).first()
    return None if row is None else (row[0], row[1])


def anyone_may_earn(
    session: Session,
    *,
    customer_id: int | None,
    stripe_customer_id: str | None,
    email: str | None,
) -> bool:
    """Whether the customer has a referral or an active agency link, in one query.

    The cheap first question for a paid invoice: most customers have no partner at all.
    """
    params = _customer_params(customer_id, stripe_customer_id, email)
    return bool(session.scalar(_ANYONE_MAY_EARN, params))


def invoice_payments(session: Session, stripe_invoice_id: str) -> Sequence[Payment]:
    return session.scalars(
        select(Payment).where(Payment.stripe_invoice_id == stripe_invoice_id)
    ).all()


def payment_by_charge(session: Session, stripe_charge_id: str) -> Payment | None:
    stmt = select(Payment).where(Payment.stripe_charge_id == stripe_charge_id)
    return session.scalars(stmt).first()


def refunded_amount(session: Session, payment: Payment) -> int:
    """Money returned on a payment: the mirrored total or the sum of its refunds, the larger."""
    refunds = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status.in_(("succeeded", "pending"))
        )
    )
    return max(payment.amount_refunded, int(refunds or 0))


def is_disputed(session: Session, payment_ids: Sequence[int]) -> bool:
    if not payment_ids:
        return False
    stmt = select(func.count()).select_from(Dispute).where(Dispute.payment_id.in_(payment_ids))
    return bool(session.scalar(stmt))


def commissions_on_invoice(session: Session, stripe_invoice_id: str) -> Sequence[PartnerCommission]:
    stmt = (
        select(PartnerCommission)
        .where(
            PartnerCommission.stripe_invoice_id == stripe_invoice_id,
            PartnerCommission.kind == CommissionKind.COMMISSION,
        )
        .order_by(PartnerCommission.id)
        .with_for_update()
    )
    return session.scalars(stmt).all()


def clawed_back(session: Session, commission_id: int) -> int:
    """What is clawed back from a commission and still standing (restored ones excluded)."""
    stmt = select(func.coalesce(func.sum(PartnerCommission.amount), 0)).where(
        PartnerCommission.reverses_id == commission_id,
        PartnerCommission.status != CommissionStatus.RESTORED,
    )
    return int(session.scalar(stmt) or 0)


def clawbacks_of(session: Session, commission_id: int) -> Sequence[PartnerCommission]:
    """A commission's standing clawbacks (restored ones excluded)."""
    stmt = select(PartnerCommission).where(
        PartnerCommission.reverses_id == commission_id,
        PartnerCommission.status != CommissionStatus.RESTORED,
    )
    return session.scalars(stmt.order_by(PartnerCommission.id)).all()


def clawbacks_by_cause(session: Session, cause: str) -> Sequence[PartnerCommission]:
    """The clawbacks one refund or dispute (`dispute:<id>`) caused, locked for update."""
    stmt = (
        select(PartnerCommission)
        .where(
            PartnerCommission.kind == CommissionKind.CLAWBACK,
            PartnerCommission.source_key.endswith(f":{cause}", autoescape=True),
        )
        .order_by(PartnerCommission.id)
        .with_for_update()
    )
    return session.scalars(stmt).all()


def commissions_of_referral(session: Session, referral_id: int) -> Sequence[PartnerCommission]:
    stmt = select(PartnerCommission).where(
        PartnerCommission.referral_id == referral_id,
        PartnerCommission.kind == CommissionKind.COMMISSION,
    )
    return session.scalars(stmt.order_by(PartnerCommission.id)).all()


def charge_ids_of_customer(session: Session, customer_id: int, limit: int) -> list[str]:
    stmt = (
        select(Payment.stripe_charge_id)
        .where(Payment.customer_id == customer_id, Payment.stripe_charge_id.is_not(None))
        .order_by(Payment.id.desc())
        .limit(limit)
    )
    return [c for c in session.scalars(stmt) if c]


def fingerprints_of_affiliate(session: Session, affiliate_id: int, but_not: int) -> set[str]:
    """Payment fingerprints of the affiliate's other referred customers."""
    stmt = select(Referral.payment_fingerprint).where(
        Referral.affiliate_id == affiliate_id,
        Referral.id != but_not,
        Referral.payment_fingerprint.is_not(None),
    )
    return {f for f in session.scalars(stmt) if f}
