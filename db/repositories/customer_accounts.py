"""Queries over customer accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CustomerAccount


def by_email(session: Session, email: str) -> CustomerAccount | None:
    """`email` as stored: stripped and lower-cased."""
    return session.scalars(select(CustomerAccount).where(CustomerAccount.email == email)).first()


def active_account(session: Session, account_id: int) -> CustomerAccount | None:
    return session.scalars(
        select(CustomerAccount).where(
            CustomerAccount.id == account_id, CustomerAccount.disabled_at.is_(None)
        )
    ).first()
