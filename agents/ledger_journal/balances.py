"""Balances derived from postings (there is no stored balance to drift), and entry listings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.ledger_journal.accounts import normal_balance
from db.models import JournalEntry, JournalPosting


@dataclass(frozen=True)
class Balance:
    account: str
    party: str
    currency: str
    debit_minus_credit: int

    @property
    def balance(self) -> int:
        """As the account's own side reads it (a payable owed to someone is positive)."""
        return normal_balance(self.account, self.debit_minus_credit)


def signed_sum(session: Session, account: str, party: str, currency: str) -> int:
    """Debits minus credits on one sub-account."""
    stmt = select(func.coalesce(func.sum(JournalPosting.amount), 0)).where(
        JournalPosting.account == str(account),
        JournalPosting.party == party,
        JournalPosting.currency == currency.lower(),
    )
    return int(session.scalar(stmt) or 0)


def payable_balance(session: Session, account: str, party: str, currency: str) -> int:
    """What we owe `party` on a payable account (credits minus debits)."""
    return -signed_sum(session, account, party, currency)


def recent_credits(
    session: Session, account: str, party: str, currency: str, since: datetime
) -> int:
    """Credits to one sub-account posted since `since` (the part a refund may still take back)."""
    stmt = select(func.coalesce(func.sum(JournalPosting.amount), 0)).where(
        JournalPosting.account == str(account),
        JournalPosting.party == party,
        JournalPosting.currency == currency.lower(),
        JournalPosting.amount < 0,
        JournalPosting.occurred_at >= since,
    )
    return -int(session.scalar(stmt) or 0)


def balances(
    session: Session, *, account: str | None = None, party: str | None = None
) -> list[Balance]:
    """Every sub-account's balance (optionally of one account or party), zero ones left out."""
    total = func.sum(JournalPosting.amount)
    stmt = select(
        JournalPosting.account, JournalPosting.party, JournalPosting.currency, total
    ).group_by(JournalPosting.account, JournalPosting.party, JournalPosting.currency)
    if account is not None:
        stmt = stmt.where(JournalPosting.account == account)
    if party is not None:
        stmt = stmt.where(JournalPosting.party == party)
    rows = session.execute(stmt.order_by(JournalPosting.account, JournalPosting.party))
    return [Balance(a, p, c, int(s)) for a, p, c, s in rows if s]


def currency_totals(session: Session) -> dict[str, int]:
    """Debits minus credits of the whole journal per currency: zero when it is sound."""
    rows = session.execute(
        select(JournalPosting.currency, func.sum(JournalPosting.amount)).group_by(
            JournalPosting.currency
        )
    )
    return {currency: int(total) for currency, total in rows}


def list_entries(
    session: Session, *, kind: str | None = None, party: str | None = None, limit: int = 100
) -> Sequence[JournalEntry]:
    stmt = select(JournalEntry).order_by(JournalEntry.id.desc()).limit(limit)
    if kind is not None:
        stmt = stmt.where(JournalEntry.kind == kind)
    if party is not None:
        stmt = stmt.where(
            JournalEntry.id.in_(
                select(JournalPosting.entry_id).where(JournalPosting.party == party)
            )
        )
    return session.scalars(stmt).all()
