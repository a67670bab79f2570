"""Group commit of reserved deductions: many callers' debits written in one transaction.

The debits are inserted in one statement (conflict-ignore on the idempotency key; on
PostgreSQL a fixed statement over a JSON array, so no multi-row INSERT is built and parsed per
batch) and each customer's total is taken from the balance with one conditional UPDATE. If any
customer's total no longer fits (Redis was behind), the caller redoes the batch one debit at a
time (`write_alone`), so the guard is exactly the single-debit one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from agents.wallet import ledger
from agents.wallet.rules import CONSUME
from core.clock import utcnow
from db.base import UTCDateTime
from db.models import WalletDebit
from db.session import Database
from db.statements import insert_ignore_many, json_rows


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
    firsts: dict[str, Debit] = {}
    for debit in batch:  # a key twice in the batch: its first debit is the one written
        firsts.setdefault(debit.key, debit)
    with database.transaction() as session:
        inserted = _insert_debits(session, list(firsts.values()), now)
        totals: dict[int, int] = defaultdict(int)
        outcomes = []
        for debit in batch:
            first = debit.key in inserted
            inserted.discard(debit.key)  # a twin later in the batch is its duplicate
            outcomes.append(ledger.DEDUCTED if first else ledger.DUPLICATE)
            if first:
                totals[debit.customer_id] += debit.tokens
        for customer_id, total in sorted(totals.items()):
            if not ledger.take_from_balance(session, customer_id, total, now):
                raise GuardFailed(customer_id)
    return outcomes


_INSERT_DEBITS = text(
    "INSERT INTO wallet_debits (customer_id, tokens, kind, feature, idempotency_key, created_at)"
    " SELECT d.customer_id, d.tokens, :kind, d.feature, d.idempotency_key, :now"
    " FROM json_to_recordset(CAST(:debits AS JSON))"
    " AS d(customer_id BIGINT, tokens BIGINT, feature TEXT, idempotency_key TEXT)"
    " ON CONFLICT DO NOTHING RETURNING idempotency_key"
).bindparams(bindparam("now", type_=UTCDateTime))


def _insert_debits(session: Session, debits: list[Debit], now: datetime) -> set[str]:
    """Insert the debits (distinct keys) unless their key exists: the keys inserted."""
    rows = [
        {
            "customer_id": d.customer_id,
            "tokens": d.tokens,
            "feature": d.feature,
            "idempotency_key": d.key,
        }
        for d in debits
    ]
    if session.get_bind().dialect.name != "postgresql":
        for row in rows:
            row.update(kind=CONSUME, created_at=now)
        return set(insert_ignore_many(session, WalletDebit, rows, "idempotency_key"))
    found = session.connection().execute(
        _INSERT_DEBITS, {"kind": CONSUME, "now": now, "debits": json_rows(rows)}
    )
    return set(found.scalars())


def write_alone(database: Database, debit: Debit) -> str:
    """One debit through the single-debit guard: DEDUCTED, DUPLICATE or INSUFFICIENT."""
    with database.transaction() as session:
        return ledger.consume(
            session, debit.customer_id, debit.tokens, debit.feature, debit.key, utcnow()
        )
