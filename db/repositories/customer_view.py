"""Read-only queries behind the operator's view of a customer: search, records, timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from db.models import (
    AnalyticsEvent,
    Approval,
    AuditEntry,
    Customer,
    Entitlement,
    Invoice,
    Notification,
    Payment,
    Refund,
    Subscription,
)


def search_customers(session: Session, query: str | None, *, limit: int = 50) -> list[Customer]:
    """By e-mail or name (substring, any case), Stripe id or our id; newest first."""
    stmt = select(Customer).order_by(Customer.id.desc()).limit(limit)
    if query and query.strip():
        q = query.strip()
        like = f"%{q.lower()}%"
        matches = [
            func.lower(Customer.email).like(like),
            func.lower(Customer.name).like(like),
            Customer.stripe_customer_id == q,
        ]
        if q.isdigit():
            matches.append(Customer.id == int(q))
        stmt = stmt.where(or_(*matches))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class CustomerRecords:
    customer: Customer
    subscriptions: Sequence[Subscription]
    invoices: Sequence[Invoice]
    payments: Sequence[Payment]
    refunds: Sequence[Refund]
    entitlements: Sequence[Entitlement]
    notifications: Sequence[Notification]
    approvals: Sequence[Approval]


def customer_records(session: Session, customer: Customer) -> CustomerRecords:
    cid = customer.id

    def rows(model: Any, order: Any) -> Sequence[Any]:
        return session.scalars(select(model).where(model.customer_id == cid).order_by(order)).all()

    payment_ids = select(Payment.id).where(Payment.customer_id == cid)
    refunds = session.scalars(
        select(Refund).where(Refund.payment_id.in_(payment_ids)).order_by(Refund.id.desc())
    ).all()
    return CustomerRecords(
        customer=customer,
        subscriptions=rows(Subscription, Subscription.id.desc()),
        invoices=rows(Invoice, Invoice.id.desc()),
        payments=rows(Payment, Payment.id.desc()),
        refunds=refunds,
        entitlements=rows(Entitlement, Entitlement.feature),
        notifications=rows(Notification, Notification.id.desc()),
        approvals=rows(Approval, Approval.id.desc()),
    )


def customer_timeline(
    session: Session, customer: Customer, *, limit: int = 100
) -> list[tuple[Any, str, str]]:
    """(when, what, detail) newest first: business events and audit entries on its approvals."""
    events = session.scalars(
        select(AnalyticsEvent)
        .where(AnalyticsEvent.customer_id == customer.id)
        .order_by(AnalyticsEvent.occurred_at.desc())
        .limit(limit)
    ).all()
    approval_ids = select(cast(Approval.id, String)).where(Approval.customer_id == customer.id)
    audits = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_type == "approval", AuditEntry.subject_id.in_(approval_ids))
        .order_by(AuditEntry.at.desc())
        .limit(limit)
    ).all()
    timeline = [(e.occurred_at, e.type, _event_detail(e)) for e in events]
    timeline += [
        (
            a.at,
            a.action,
            f"approval #{a.subject_id} by {a.actor}" + (f": {a.detail}" if a.detail else ""),
        )
        for a in audits
    ]
    return sorted(timeline, key=lambda row: row[0], reverse=True)[:limit]


def _event_detail(event: AnalyticsEvent) -> str:
    if event.amount is not None and event.currency:
        return f"{event.amount} {event.currency.upper()} (minor units)"
    return ", ".join(f"{k}={v}" for k, v in sorted(event.data.items())[:4])


def audit_trail(session: Session, subject_type: str, subject_id: str | int) -> Sequence[AuditEntry]:
    stmt = select(AuditEntry).where(
        AuditEntry.subject_type == subject_type, AuditEntry.subject_id == str(subject_id)
    )
    return session.scalars(stmt.order_by(AuditEntry.at, AuditEntry.id)).all()
