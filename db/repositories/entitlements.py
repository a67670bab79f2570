"""Queries behind entitlements: the grant rows, and the billing records provisioning reads."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from core.clock import utcnow
from db.models import (
    Customer,
    Dispute,
    Entitlement,
    EntitlementStatus,
    Invoice,
    Payment,
    Refund,
    Subscription,
    SubscriptionVersion,
)

PAST_DUE = "past_due"
SUCCEEDED = "succeeded"


@dataclass(frozen=True)
class PaidInvoiceMoney:
    """Where the money of a subscription's latest paid invoice stands now."""

    stripe_invoice_id: str
    amount_paid: int
    amount_refunded: int
    dispute_lost: bool


def lock_customer(session: Session, customer_id: int) -> Customer | None:
    """The customer row, locked so syncs of one customer run one at a time (PostgreSQL)."""
    return session.scalars(
        select(Customer).where(Customer.id == customer_id).with_for_update()
    ).one_or_none()


def entitlements_of(session: Session, customer_id: int) -> dict[str, Entitlement]:
    """Every grant row of the customer (revoked ones too), by feature."""
    rows = session.scalars(select(Entitlement).where(Entitlement.customer_id == customer_id))
    return {row.feature: row for row in rows}


def subscriptions_of(session: Session, customer_id: int) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.customer_id == customer_id)
            .order_by(Subscription.id)
        )
    )


def past_due_since(
    session: Session, stripe_subscription_ids: Collection[str]
) -> dict[str, datetime]:
    """Start of each subscription's current run of past_due versions: the earliest past_due
    version with no other status recorded after it."""
    if not stripe_subscription_ids:
        return {}
    version = SubscriptionVersion
    later = aliased(SubscriptionVersion)
    interrupted = exists().where(
        later.stripe_subscription_id == version.stripe_subscription_id,
        later.status != PAST_DUE,
        later.valid_from > version.valid_from,
    )
    # The run is short (one version per failed retry): read it and take the minimum here,
    # since MIN() would lose the aware column type on SQLite.
    rows = session.execute(
        select(version.stripe_subscription_id, version.valid_from).where(
            version.stripe_subscription_id.in_(stripe_subscription_ids),
            version.status == PAST_DUE,
            ~interrupted,
        )
    ).all()
    since: dict[str, datetime] = {}
    for sid, valid_from in rows:
        if sid not in since or valid_from < since[sid]:
            since[sid] = valid_from
    return since


def latest_paid_invoice_money(
    session: Session, stripe_subscription_ids: Collection[str]
) -> dict[str, PaidInvoiceMoney]:
    """Per subscription: its latest paid invoice with money in it, and what became of it."""
    if not stripe_subscription_ids:
        return {}
    paid_time = func.coalesce(Invoice.paid_at, Invoice.created_at)
    invoices = session.execute(
        select(Invoice.stripe_subscription_id, Invoice.stripe_invoice_id, Invoice.amount_paid)
        .where(
            Invoice.stripe_subscription_id.in_(stripe_subscription_ids),
            Invoice.status == "paid",
            Invoice.amount_paid > 0,
        )
        .order_by(paid_time.desc(), Invoice.id.desc())
    ).all()
    latest: dict[str, tuple[str, int]] = {}
    for sid, invoice_id, amount_paid in invoices:
        latest.setdefault(cast(str, sid), (invoice_id, amount_paid))
    refunded, lost = _reversals_by_invoice(session, [inv for inv, _ in latest.values()])
    return {
        sid: PaidInvoiceMoney(
            invoice_id, amount_paid, refunded.get(invoice_id, 0), invoice_id in lost
        )
        for sid, (invoice_id, amount_paid) in latest.items()
    }


def _reversals_by_invoice(
    session: Session, invoice_ids: list[str]
) -> tuple[dict[str, int], set[str]]:
    """Refunded amount per invoice (the larger of the charge's counter and its refund rows),
    and the invoices whose payment lost a dispute."""
    if not invoice_ids:
        return {}, set()
    refund_sums = (
        select(Refund.payment_id, func.sum(Refund.amount).label("total"))
        .where(Refund.status == SUCCEEDED)
        .group_by(Refund.payment_id)
        .subquery()
    )
    payments = session.execute(
        select(
            Payment.stripe_invoice_id,
            Payment.amount_refunded,
            func.coalesce(refund_sums.c.total, 0),
        )
        .outerjoin(refund_sums, refund_sums.c.payment_id == Payment.id)
        .where(Payment.stripe_invoice_id.in_(invoice_ids), Payment.status == SUCCEEDED)
    ).all()
    refunded: dict[str, int] = {}
    for invoice_id, counter, rows_total in payments:
        refunded[invoice_id] = refunded.get(invoice_id, 0) + max(counter or 0, int(rows_total))
    lost = session.scalars(
        select(Payment.stripe_invoice_id)
        .join(
            Dispute,
            or_(
                Dispute.payment_id == Payment.id,
                and_(
                    Dispute.stripe_charge_id.is_not(None),
                    Dispute.stripe_charge_id == Payment.stripe_charge_id,
                ),
            ),
        )
        .where(Payment.stripe_invoice_id.in_(invoice_ids), Dispute.status == "lost")
    )
    return refunded, {cast(str, invoice_id) for invoice_id in lost}


def has_feature(session: Session, customer_id: int, feature: str) -> bool:
    """True while the customer holds `feature` (active, or in a grace period not yet over)."""
    now = utcnow()
    return bool(
        session.scalar(
            select(
                exists().where(
                    Entitlement.customer_id == customer_id,
                    Entitlement.feature == feature,
                    Entitlement.status.in_((EntitlementStatus.ACTIVE, EntitlementStatus.GRACE)),
                    or_(Entitlement.grace_until.is_(None), Entitlement.grace_until > now),
                    or_(Entitlement.limit_value.is_(None), Entitlement.limit_value > 0),
                )
            )
        )
    )
