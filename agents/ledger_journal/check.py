"""The invariant check: every entry balances, the journal sums to zero per currency, and the
cash it records agrees with the Stripe-side records (payments, refunds, disputes' balance
transactions, paid payouts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.ledger_journal.accounts import Account
from agents.ledger_journal.balances import currency_totals
from agents.ledger_journal.stripe_postings import SETTLED, dispute_keys, payment_key, refund_key
from agents.payouts.rules import PAID
from db.models import Dispute, JournalEntry, JournalPosting, Payment, Payout, Refund

_REPORTED = 50  # differences listed in full; the count says how many there were


@dataclass
class CheckReport:
    entries: int = 0
    unbalanced: list[dict[str, Any]] = field(default_factory=list)
    currency_totals: dict[str, int] = field(default_factory=dict)
    differences: list[dict[str, Any]] = field(default_factory=list)
    difference_count: int = 0

    @property
    def ok(self) -> bool:
        return (
            not self.unbalanced
            and not self.difference_count
            and not any(self.currency_totals.values())
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "unbalanced": self.unbalanced,
            "currency_totals": self.currency_totals,
            "differences": self.differences,
            "difference_count": self.difference_count,
        }

    def summary(self) -> str:
        if self.ok:
            return f"ledger sound: {self.entries} entries balance and agree with Stripe records"
        return (
            f"ledger check failed: {len(self.unbalanced)} unbalanced entries, "
            f"{self.difference_count} differences from Stripe records, "
            f"currency totals {self.currency_totals}"
        )


def check_ledger(session: Session) -> CheckReport:
    report = CheckReport(entries=int(session.scalar(select(func.count(JournalEntry.id))) or 0))
    report.unbalanced = _unbalanced_entries(session)
    report.currency_totals = currency_totals(session)
    differences = _compare(_expected_cash(session), _recorded_cash(session))
    report.difference_count = len(differences)
    report.differences = differences[:_REPORTED]
    return report


def _unbalanced_entries(session: Session) -> list[dict[str, Any]]:
    total = func.sum(JournalPosting.amount)
    rows = session.execute(
        select(JournalPosting.entry_id, JournalPosting.currency, total, func.count())
        .group_by(JournalPosting.entry_id, JournalPosting.currency)
        .having((total != 0) | (func.count() < 2))
        .limit(_REPORTED)
    )
    return [
        {"entry_id": e, "currency": c, "sum": int(s), "postings": int(n)} for e, c, s, n in rows
    ]


Cash = dict[str, tuple[int, str]]  # dedupe key -> (cash moved, currency)


def _expected_cash(session: Session) -> Cash:
    """What Stripe-side records say moved: payments in, refunds, disputes and payouts out."""
    expected: Cash = {}
    for pid, amount, currency in session.execute(
        select(Payment.id, Payment.amount, Payment.currency).where(
            Payment.status == SETTLED, Payment.amount > 0
        )
    ):
        expected[payment_key(pid)] = (int(amount), currency)
    for rid, amount, currency in session.execute(
        select(Refund.stripe_refund_id, Refund.amount, Refund.currency).where(
            Refund.status == SETTLED, Refund.amount > 0
        )
    ):
        expected[refund_key(rid)] = (-int(amount), currency)
    for dispute_id, out, fee, back, fee_back, currency in session.execute(
        select(
            Dispute.stripe_dispute_id,
            Dispute.funds_withdrawn,
            Dispute.fees_charged,
            Dispute.funds_reinstated,
            Dispute.fees_returned,
            Dispute.currency,
        ).where(Dispute.funds_withdrawn > 0)
    ):
        withdrawn_key, reinstated_key = dispute_keys(dispute_id)
        expected[withdrawn_key] = (-int(out) - int(fee), currency)
        if back > 0:
            expected[reinstated_key] = (int(back) + int(fee_back), currency)
    for key, net, currency in session.execute(
        select(Payout.idempotency_key, Payout.net, Payout.currency).where(Payout.status == PAID)
    ):
        expected[str(key)] = (-int(net), currency)
    return expected


def _recorded_cash(session: Session) -> Cash:
    """Cash in transit moved by each payment, refund, dispute and payout entry still standing."""
    reversed_ids = select(JournalEntry.reverses_entry_id).where(
        JournalEntry.reverses_entry_id.is_not(None)
    )
    rows = session.execute(
        select(JournalEntry.dedupe_key, JournalPosting.currency, func.sum(JournalPosting.amount))
        .join(JournalPosting, JournalPosting.entry_id == JournalEntry.id)
        .where(
            JournalEntry.kind.in_(("payment", "refund", "dispute", "payout")),
            JournalEntry.id.not_in(reversed_ids),
            JournalPosting.account == Account.CASH_IN_TRANSIT.value,
        )
        .group_by(JournalEntry.dedupe_key, JournalPosting.currency)
    )
    return {key: (int(total), currency) for key, currency, total in rows}


def _compare(expected: Cash, recorded: Cash) -> list[dict[str, Any]]:
    differences = []
    for key in sorted(expected.keys() | recorded.keys()):
        want, got = expected.get(key), recorded.get(key)
        if want != got:
            differences.append(
                {
                    "key": key,
                    "stripe_records": None
                    if want is None
                    else {"cash": want[0], "currency": want[1]},
                    "ledger": None if got is None else {"cash": got[0], "currency": got[1]},
                }
            )
    return differences
