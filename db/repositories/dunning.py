"""Queries of dunning: cases by invoice or subscription, due cases, restricted subscriptions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from db.models import DunningCase, DunningStatus, Invoice
from db.statements import insert_ignore


def lock_invoice(session: Session, stripe_invoice_id: str) -> Invoice | None:
    """The mirrored invoice, locked: billing's next write of it waits for our decision."""
    return session.execute(
        select(Invoice)
        .where(Invoice.stripe_invoice_id == stripe_invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def insert_case(session: Session, values: dict[str, Any]) -> int | None:
    """A new case for the invoice; None when it already has one."""
    return insert_ignore(session, DunningCase, values)


def case_for_invoice(session: Session, stripe_invoice_id: str) -> DunningCase | None:
    return session.execute(
        select(DunningCase)
        .where(DunningCase.stripe_invoice_id == stripe_invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


# Built once: the statement is the same for every paid invoice of a renewal burst.
_SETTLED_WITH_OPEN_CASE = select(
    Invoice.status,
    exists().where(
        DunningCase.stripe_invoice_id == Invoice.stripe_invoice_id,
        DunningCase.status == DunningStatus.OPEN,
    ),
).where(Invoice.stripe_invoice_id == bindparam("stripe_invoice_id"))


def settled_without_open_case(
    session: Session, stripe_invoice_id: str, closing_statuses: Collection[str]
) -> bool:
    """The mirrored invoice has a closing status and no open dunning case (one query).

    Asked by billing after it wrote (and so locked) the invoice: a case opened later locks the
    invoice first and sees the closing status itself, so nothing is left to close.
    """
    row = session.execute(
        _SETTLED_WITH_OPEN_CASE, {"stripe_invoice_id": stripe_invoice_id}
    ).one_or_none()
    return row is not None and row[0] in closing_statuses and not row[1]


def lock_case(session: Session, case_id: int) -> DunningCase | None:
    return session.execute(
        select(DunningCase)
        .where(DunningCase.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def open_case_ids_of_subscription(session: Session, stripe_subscription_id: str) -> list[str]:
    """Invoices of the subscription whose dunning is still open."""
    return list(
        session.scalars(
            select(DunningCase.stripe_invoice_id).where(
                DunningCase.stripe_subscription_id == stripe_subscription_id,
                DunningCase.status == DunningStatus.OPEN,
            )
        )
    )


def due_cases(
    session: Session, now: datetime, limit: int = 500
) -> Sequence[tuple[int, int, datetime]]:
    """(case id, step, due time) of open cases whose next step is due, oldest first."""
    rows = session.execute(
        select(DunningCase.id, DunningCase.step, DunningCase.next_due_at)
        .where(DunningCase.status == DunningStatus.OPEN, DunningCase.next_due_at <= now)
        .order_by(DunningCase.next_due_at, DunningCase.id)
        .limit(limit)
    )
    return [(row.id, row.step, row.next_due_at) for row in rows]


def restricted_subscriptions(session: Session, customer_id: int) -> set[str]:
    """Subscriptions of the customer that dunning restricted and that are still unpaid."""
    return set(
        session.scalars(
            select(DunningCase.stripe_subscription_id).where(
                DunningCase.customer_id == customer_id,
                DunningCase.status == DunningStatus.OPEN,
                DunningCase.restricted.is_(True),
                DunningCase.stripe_subscription_id.is_not(None),
            )
        )
    )


def list_cases(
    session: Session, *, status: str | None = None, limit: int = 100
) -> Sequence[DunningCase]:
    query = select(DunningCase).order_by(DunningCase.id.desc()).limit(limit)
    if status is not None:
        query = query.where(DunningCase.status == status)
    return list(session.scalars(query))
