"""Wallet test helpers: a customer with tokens, and running wallet tasks as a worker would."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.wallet import ledger
from db.models import Customer, WalletDebit
from db.session import Database


def customer_with_tokens(
    database: Database,
    tokens: int,
    *,
    stripe_id: str | None = None,
    expires_at: datetime | None = None,
) -> int:
    """A new customer holding one operator grant of `tokens` (none if 0)."""
    with database.transaction() as session:
        customer = Customer(
            stripe_customer_id=stripe_id or f"cus_{uuid.uuid4().hex[:12]}",
            email=f"{uuid.uuid4().hex[:8]}@example.com",
        )
        session.add(customer)
        session.flush()
        if tokens:
            grant(session, customer.id, tokens, expires_at=expires_at)
        return customer.id


def grant(
    session: Session, customer_id: int, tokens: int, *, expires_at: datetime | None = None
) -> None:
    ledger.post_grant(
        session,
        ledger.NewGrant(
            customer_id=customer_id,
            tokens=tokens,
            source="operator",
            source_ref=f"test:{uuid.uuid4().hex}",
            expires_at=expires_at,
        ),
    )


def consumed(database: Database, customer_id: int) -> int:
    """Tokens the ledger records as consumed by features."""
    with database.transaction() as session:
        rows = session.scalars(
            select(WalletDebit.tokens).where(
                WalletDebit.customer_id == customer_id, WalletDebit.kind == "consume"
            )
        )
        return sum(int(t) for t in rows)


def balances(database: Database, customer_id: int) -> tuple[int, int]:
    """(projected balance row, balance recomputed from the append-only ledger)."""
    with database.transaction() as session:
        return ledger.balance_of(session, customer_id), ledger.ledger_balance(session, customer_id)
