"""Group commit of reserved deductions: many callers' debits written in one transaction.

The debits are inserted in one statement (conflict-ignore on the idempotency key) and each
customer's total is taken from the balance with one conditional UPDATE. If any customer's total
no longer fits (Redis was behind), the caller redoes the batch one debit at a time
(`write_alone`), so the guard is exactly the single-debit one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite

from agents.wallet import ledger
from agents.wallet.rules import CONSUME
from core.clock import utcnow
from db.models import WalletAccount, WalletDebit
from db.session import Database
from db.statements import affected_rows


class GuardFailed(Exception):
    """A customer's batch total no longer fits the balance: redo the batch item by item."""


@dataclass(frozen=True)
class Debit:
    customer_id: int
    tokens: int
    feature: str
    key: str


def write_together(database: Database, batch: list[Debit]) -> list[str]:
    """Every debit of `batch` in one transaction: DEDUCTED or DUPLICATE each, in order.

    Raises GuardFailed (nothing written) when a customer's total no longer fits.
    """
    now = utcnow()
    rows = [
        {
            "customer_id": d.customer_id,
            "tokens": d.tokens,
            "kind": CONSUME,
            "feature": d.feature,
            "idempotency_key": d.key,
            "created_at": now,
        }
        for d in batch
    ]
    with database.transaction() as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        inserted = set(
            session.scalars(
                dialect.insert(WalletDebit)
                .values(rows)
                .on_conflict_do_nothing()
                .returning(WalletDebit.idempotency_key)
            )
        )
        totals: dict[int, int] = defaultdict(int)
        outcomes = []
        for debit in batch:
            first = debit.key in inserted
            inserted.discard(debit.key)  # a twin later in the batch is its duplicate
            outcomes.append(ledger.DEDUCTED if first else ledger.DUPLICATE)
            if first:
                totals[debit.customer_id] += debit.tokens
        for customer_id, total in sorted(totals.items()):
            taken = session.execute(
                update(WalletAccount)
                .where(
                    WalletAccount.customer_id == customer_id,
                    WalletAccount.balance >= total,
                    or_(
                        WalletAccount.next_expiry_at.is_(None),
                        WalletAccount.next_expiry_at > now,
                    ),
                )
                .values(balance=WalletAccount.balance - total, updated_at=now)
            )
            if affected_rows(taken) != 1:
                raise GuardFailed(customer_id)
    return outcomes


def write_alone(database: Database, debit: Debit) -> str:
    """One debit through the single-debit guard: DEDUCTED, DUPLICATE or INSUFFICIENT."""
    with database.transaction() as session:
        return ledger.consume(
            session, debit.customer_id, debit.tokens, debit.feature, debit.key, utcnow()
        )
