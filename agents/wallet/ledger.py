"""Postings on the token ledger, in the caller's transaction.

Grants and debits are append-only rows; `wallet_accounts.balance` follows them in the same
transaction, and its conditional UPDATE is what refuses an overspend, whatever Redis says.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from agents.wallet.rules import (
    CONSUME,
    EXPIRE,
    DebitFacts,
    GrantFacts,
    next_expiry,
    remaining_by_grant,
)
from core.clock import utcnow
from core.errors import NotFound
from db.base import UTCDateTime
from db.models import Customer, WalletAccount, WalletDebit, WalletGrant
from db.statements import affected_rows, insert_ignore

DEDUCTED = "deducted"
DUPLICATE = "duplicate"
INSUFFICIENT = "insufficient"


@dataclass(frozen=True)
class NewGrant:
    customer_id: int
    tokens: int
    source: str  # purchase | operator
    source_ref: str
    expires_at: datetime | None = None
    stripe_payment_intent_id: str | None = None
    amount: int | None = None
    currency: str | None = None


def ensure_account(session: Session, customer_id: int) -> None:
    insert_ignore(
        session,
        WalletAccount,
        {"customer_id": customer_id, "balance": 0, "updated_at": utcnow()},
    )


def lock_account(session: Session, customer_id: int) -> WalletAccount | None:
    """The balance row, locked until commit (PostgreSQL; SQLite's writer lock serializes)."""
    stmt = select(WalletAccount).where(WalletAccount.customer_id == customer_id).with_for_update()
    return session.scalars(stmt).one_or_none()


def post_grant(session: Session, grant: NewGrant) -> int | None:
    """Add a grant and its tokens to the balance; None when `source_ref` was granted before."""
    now = utcnow()
    grant_id = insert_ignore(
        session,
        WalletGrant,
        {
            "customer_id": grant.customer_id,
            "tokens": grant.tokens,
            "source": grant.source,
            "source_ref": grant.source_ref,
            "stripe_payment_intent_id": grant.stripe_payment_intent_id,
            "amount": grant.amount,
            "currency": grant.currency,
            "expires_at": grant.expires_at,
            "created_at": now,
        },
    )
    if grant_id is None:
        return None
    ensure_account(session, grant.customer_id)
    account = lock_account(session, grant.customer_id)
    assert account is not None
    account.balance += grant.tokens
    if grant.expires_at is not None and (
        account.next_expiry_at is None or grant.expires_at < account.next_expiry_at
    ):
        account.next_expiry_at = grant.expires_at
    account.updated_at = now
    session.flush()
    return int(grant_id)


def consume(
    session: Session, customer_id: int, tokens: int, feature: str, key: str, now: datetime
) -> str:
    """Take `tokens` for `feature` once per `key`: DEDUCTED, DUPLICATE or INSUFFICIENT.

    On INSUFFICIENT nothing was written. Expired grants are swept first when one is due.
    """
    if take_from_balance(session, customer_id, tokens, now):
        written = insert_ignore(
            session,
            WalletDebit,
            {
                "customer_id": customer_id,
                "tokens": tokens,
                "kind": CONSUME,
                "feature": feature,
                "idempotency_key": key,
                "created_at": now,
            },
        )
        if written is not None:
            return DEDUCTED
        _give_back(session, customer_id, tokens)  # a concurrent twin recorded this key first
        return DUPLICATE
    if debit_exists(session, key):
        return DUPLICATE
    if sweep_expired(session, customer_id, now):
        return consume(session, customer_id, tokens, feature, key, now)
    return INSUFFICIENT


_TAKE = (
    update(WalletAccount)
    .where(
        WalletAccount.customer_id == bindparam("customer"),
        WalletAccount.balance >= bindparam("tokens"),
        or_(
            WalletAccount.next_expiry_at.is_(None),
            WalletAccount.next_expiry_at > bindparam("now", type_=UTCDateTime),
        ),
    )
    .values(balance=WalletAccount.balance - bindparam("tokens"), updated_at=bindparam("now"))
)


def take_from_balance(session: Session, customer_id: int, tokens: int, now: datetime) -> bool:
    """Lower the balance by `tokens` if it holds them and no grant lapsed; False if not.

    One prebuilt Core statement (the deductions' hot path), not rebuilt per call.
    """
    taken = session.connection().execute(
        _TAKE, {"customer": customer_id, "tokens": tokens, "now": now}
    )
    return affected_rows(taken) == 1


def _give_back(session: Session, customer_id: int, tokens: int) -> None:
    session.execute(
        update(WalletAccount)
        .where(WalletAccount.customer_id == customer_id)
        .values(balance=WalletAccount.balance + tokens)
        .execution_options(synchronize_session=False)
    )


def debit_exists(session: Session, key: str) -> bool:
    found = session.scalar(select(WalletDebit.id).where(WalletDebit.idempotency_key == key))
    return found is not None


def post_debit(
    session: Session,
    customer_id: int,
    *,
    tokens: int,
    kind: str,
    key: str,
    grant_id: int | None = None,
    feature: str | None = None,
) -> bool:
    """An operator-side debit (revoke, clawback) of at most the balance; False if key seen."""
    if tokens <= 0:
        return False
    now = utcnow()
    written = insert_ignore(
        session,
        WalletDebit,
        {
            "customer_id": customer_id,
            "tokens": tokens,
            "kind": kind,
            "feature": feature,
            "grant_id": grant_id,
            "idempotency_key": key,
            "created_at": now,
        },
    )
    if written is None:
        return False
    session.execute(
        update(WalletAccount)
        .where(WalletAccount.customer_id == customer_id)
        .values(balance=WalletAccount.balance - tokens, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


def sweep_expired(session: Session, customer_id: int, now: datetime) -> bool:
    """Post an expire debit for each lapsed grant that still held tokens; True if any."""
    account = lock_account(session, customer_id)
    if account is None or account.next_expiry_at is None or account.next_expiry_at > now:
        return False
    grants, debits = ledger_facts(session, customer_id)
    left = remaining_by_grant(grants, debits)
    lapsed = [g for g in grants if g.expires_at is not None and g.expires_at <= now]
    for grant in lapsed:
        if left[grant.id] > 0:
            post_debit(
                session,
                customer_id,
                tokens=left[grant.id],
                kind=EXPIRE,
                key=f"expire:{grant.id}",
                grant_id=grant.id,
            )
            left[grant.id] = 0
    session.refresh(account)
    account.next_expiry_at = next_expiry(grants, left)
    session.flush()
    return True


def ledger_facts(session: Session, customer_id: int) -> tuple[list[GrantFacts], list[DebitFacts]]:
    grants = [
        GrantFacts(g.id, g.tokens, g.created_at, g.expires_at)
        for g in session.scalars(select(WalletGrant).where(WalletGrant.customer_id == customer_id))
    ]
    debits = [
        DebitFacts(int(tokens), kind, grant_id, created_at)
        for tokens, kind, grant_id, created_at in session.execute(
            select(
                WalletDebit.tokens, WalletDebit.kind, WalletDebit.grant_id, WalletDebit.created_at
            )
            .where(WalletDebit.customer_id == customer_id)
            .order_by(WalletDebit.id)
        )
    ]
    return grants, debits


def balance_of(session: Session, customer_id: int) -> int:
    value = session.scalar(
        select(WalletAccount.balance).where(WalletAccount.customer_id == customer_id)
    )
    return int(value or 0)


def customer_balances(session: Session, customer_ids: Collection[int]) -> dict[int, int]:
    """Each customer's balance (0 before any grant); a customer that does not exist is left
    out. One statement for many customers: every priced access check and every deduction the
    cache could not decide asks, a batch of them at a time, so it is built once (Core path)."""
    rows = session.connection().execute(_CUSTOMER_BALANCES, {"customer_ids": list(customer_ids)})
    return {int(row.id): int(row.balance or 0) for row in rows}


_CUSTOMER_BALANCES = (
    select(Customer.id, WalletAccount.balance)
    .outerjoin(WalletAccount, WalletAccount.customer_id == Customer.id)
    .where(Customer.id.in_(bindparam("customer_ids", expanding=True)))
)


def unknown_customer(customer_id: int) -> NotFound:
    return NotFound(f"no customer {customer_id}", code="unknown_customer")


def ledger_balance(session: Session, customer_id: int) -> int:
    """The balance recomputed from the append-only rows alone (the projection must equal it)."""
    granted = session.scalar(
        select(func.coalesce(func.sum(WalletGrant.tokens), 0)).where(
            WalletGrant.customer_id == customer_id
        )
    )
    debited = session.scalar(
        select(func.coalesce(func.sum(WalletDebit.tokens), 0)).where(
            WalletDebit.customer_id == customer_id
        )
    )
    return int(granted or 0) - int(debited or 0)


def history(session: Session, customer_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Grants and debits of the customer, newest first."""
    grants = session.scalars(
        select(WalletGrant)
        .where(WalletGrant.customer_id == customer_id)
        .order_by(WalletGrant.id.desc())
        .limit(limit)
    )
    debits = session.scalars(
        select(WalletDebit)
        .where(WalletDebit.customer_id == customer_id)
        .order_by(WalletDebit.id.desc())
        .limit(limit)
    )
    entries = [
        {
            "type": "grant",
            "id": g.id,
            "tokens": g.tokens,
            "source": g.source,
            "reference": g.source_ref,
            "expires_at": g.expires_at.isoformat() if g.expires_at else None,
            "at": g.created_at.isoformat(),
        }
        for g in grants
    ] + [
        {
            "type": "debit",
            "id": d.id,
            "tokens": -d.tokens,
            "kind": d.kind,
            "feature": d.feature,
            "grant_id": d.grant_id,
            "reference": d.idempotency_key,
            "at": d.created_at.isoformat(),
        }
        for d in debits
    ]
    entries.sort(key=lambda e: str(e["at"]), reverse=True)
    return entries[:limit]


def usage_by_feature(session: Session, customer_id: int) -> dict[str, int]:
    rows = session.execute(
        select(WalletDebit.feature, func.sum(WalletDebit.tokens))
        .where(WalletDebit.customer_id == customer_id, WalletDebit.kind == CONSUME)
        .group_by(WalletDebit.feature)
    )
    return {feature: int(total) for feature, total in rows if feature}
