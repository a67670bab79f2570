"""What a partner earned, had clawed back, has on hold, was paid and is owed, per currency."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.ledger_journal.accounts import payable_account
from agents.ledger_journal.balances import payable_balance
from agents.partners.postings import partner_party
from agents.payouts.rules import PAID
from db.models import PartnerCommission, Payout
from db.models.partners import CommissionKind, CommissionStatus


def money_stats(session: Session, kind: str, partner_id: int) -> dict[str, dict[str, int]]:
    """{currency: {earned, clawed_back, held, paid, payable}}; earned is net of clawbacks."""
    party = partner_party(kind, partner_id)
    totals: dict[str, dict[str, int]] = defaultdict(
        lambda: {"earned": 0, "clawed_back": 0, "held": 0, "paid": 0, "payable": 0}
    )
    rows = session.execute(
        select(
            PartnerCommission.currency,
            PartnerCommission.kind,
            PartnerCommission.status,
            func.sum(PartnerCommission.amount),
        )
        .where(PartnerCommission.partner_kind == kind, PartnerCommission.partner_id == partner_id)
        .group_by(PartnerCommission.currency, PartnerCommission.kind, PartnerCommission.status)
    )
    for currency, row_kind, status, amount in rows:
        sign = 1 if row_kind == CommissionKind.COMMISSION else -1
        if status == CommissionStatus.EARNED:
            totals[currency]["earned"] += sign * int(amount)
            if sign < 0:
                totals[currency]["clawed_back"] += int(amount)
        elif status == CommissionStatus.HELD:
            totals[currency]["held"] += sign * int(amount)
    paid = session.execute(
        select(Payout.currency, func.sum(Payout.amount))
        .where(Payout.party == party, Payout.status == PAID)
        .group_by(Payout.currency)
    )
    for currency, amount in paid:
        totals[currency]["paid"] += int(amount)
    for currency, values in totals.items():
        values["payable"] = payable_balance(session, payable_account(kind), party, currency)
    return dict(totals)


def stats_view(values: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {currency: dict(sorted(v.items())) for currency, v in sorted(values.items())}
