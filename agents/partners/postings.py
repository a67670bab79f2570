"""Commissions and clawbacks into the double-entry journal (agents.ledger_journal).

Each posting's dedupe key derives from the commission row's `source_key`, so a replayed task
posts nothing new. A clawback of a whole commission is the reversal of its entry; a partial
one is a `commission_clawed_back` entry for the part (and for a whole one whose entry was
reversed before). A clawback undone by a won dispute is earned again: a new commission entry.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agents.ledger_journal import rules, writer
from agents.ledger_journal.accounts import party, payable_account
from db.models import PartnerCommission


def partner_party(kind: str, partner_id: int) -> str:
    """The journal sub-account (and payee party) of a partner: `affiliate:7`, `agency:3`."""
    return party(kind, partner_id)


def _facts(row: PartnerCommission) -> dict[str, object]:
    return {
        "commission_id": row.id,
        "stripe_invoice_id": row.stripe_invoice_id,
        "customer_id": row.customer_id,
        "basis_amount": row.basis_amount,
        "rate_bps": row.rate_bps,
    }


def post_commission(session: Session, commission: PartnerCommission) -> None:
    key = f"commission:{commission.source_key}"
    draft = rules.commission_earned(
        dedupe_key=key,
        amount=commission.amount,
        currency=commission.currency,
        payable=payable_account(commission.partner_kind),
        payee_party=partner_party(commission.partner_kind, commission.partner_id),
        data=_facts(commission),
    )
    commission.entry_id = writer.post(session, draft) or writer.entry_id_for(session, key)


def post_clawback(
    session: Session, clawback: PartnerCommission, commission: PartnerCommission
) -> None:
    key = f"clawback:{clawback.source_key}"
    if (
        clawback.amount == commission.amount
        and commission.entry_id is not None
        and not writer.is_reversed(session, commission.entry_id)
    ):
        reason = f"commission {commission.id} clawed back: payment taken back"
        entry = writer.reverse(session, commission.entry_id, dedupe_key=key, reason=reason)
    else:
        draft = rules.commission_clawed_back(
            dedupe_key=key,
            amount=clawback.amount,
            currency=clawback.currency,
            payable=payable_account(clawback.partner_kind),
            payee_party=partner_party(clawback.partner_kind, clawback.partner_id),
            data={**_facts(clawback), "reverses_commission_id": commission.id},
        )
        entry = writer.post(session, draft)
    clawback.entry_id = entry or writer.entry_id_for(session, key)


def post_restored(session: Session, clawback: PartnerCommission) -> None:
    """A clawback undone (its dispute was won): the partner earns that amount again."""
    draft = rules.commission_earned(
        dedupe_key=f"restore:{clawback.source_key}",
        amount=clawback.amount,
        currency=clawback.currency,
        payable=payable_account(clawback.partner_kind),
        payee_party=partner_party(clawback.partner_kind, clawback.partner_id),
        data={**_facts(clawback), "restores_clawback_id": clawback.id},
    )
    writer.post(session, draft)
