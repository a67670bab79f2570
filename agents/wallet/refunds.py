"""A refunded token purchase: revoke the unused share at once, send the spent share to a human."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from agents.approvals.service import SubmitTask
from agents.context import AgentContext
from agents.wallet import ledger
from agents.wallet.approvals import request_clawback
from agents.wallet.rules import REVOKE, refunded_tokens, remaining_by_grant, split_take_back
from core.clock import utcnow
from db.audit import record_audit
from db.models import WalletGrant, WalletPendingRefund, WalletRefund
from db.statements import insert_ignore

ACTOR = "agent:wallet"


def take_back_refund(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Apply one refunded level (cumulative amount) of a purchase's charge, once.

    Before its grant exists the level is kept for `wallet.credit`, which applies it on landing.
    """
    session = ctx.session
    payment_intent = str(payload["payment_intent"])
    lock_payment_intent(session, payment_intent)
    grant = _purchase_grant(session, payment_intent)
    if grant is None:
        insert_ignore(
            session,
            WalletPendingRefund,
            {
                "payment_intent_id": payment_intent,
                "charge_id": payload["charge"],
                "amount": int(payload["amount"]),
                "refunded_amount": int(payload["amount_refunded"]),
                "created_at": utcnow(),
            },
        )
        return {"outcome": "pending"}  # no grant yet, or the charge did not buy tokens
    return _take_back(ctx, grant, int(payload["amount_refunded"]), int(payload["amount"]))


def apply_pending_refunds(ctx: AgentContext, payment_intent: str) -> list[dict[str, Any]]:
    """Levels refunded before the purchase's grant was credited, applied now, lowest first."""
    grant = _purchase_grant(ctx.session, payment_intent)
    if grant is None:
        return []
    levels = ctx.session.scalars(
        select(WalletPendingRefund)
        .where(WalletPendingRefund.payment_intent_id == payment_intent)
        .order_by(WalletPendingRefund.refunded_amount)
    ).all()
    return [_take_back(ctx, grant, level.refunded_amount, level.amount) for level in levels]


def lock_payment_intent(session: Session, payment_intent: str) -> None:
    """Serialize a purchase's credit with its refunds until commit, so neither misses the other.

    PostgreSQL: a transaction-scoped advisory lock; SQLite's writer lock (BEGIN IMMEDIATE)
    already serializes the two transactions.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"wallet-purchase:{payment_intent}"},
        )


def _purchase_grant(session: Session, payment_intent: str) -> WalletGrant | None:
    return session.scalars(
        select(WalletGrant).where(
            WalletGrant.stripe_payment_intent_id == payment_intent,
            WalletGrant.source == "purchase",
        )
    ).first()


def _take_back(
    ctx: AgentContext, grant: WalletGrant, refunded: int, charge_amount: int
) -> dict[str, Any]:
    session = ctx.session
    ledger.lock_account(session, grant.customer_id)
    ledger.sweep_expired(session, grant.customer_id, utcnow())
    highest, taken_before = session.execute(
        select(
            func.coalesce(func.max(WalletRefund.refunded_amount), 0),
            func.coalesce(func.sum(WalletRefund.revoked_tokens + WalletRefund.owed_tokens), 0),
        ).where(WalletRefund.grant_id == grant.id)
    ).one()
    # Levels may arrive out of order: a lower one reported late takes nothing more.
    paid = grant.amount or charge_amount
    target = refunded_tokens(grant.tokens, paid, max(refunded, int(highest)))
    grants, debits = ledger.ledger_facts(session, grant.customer_id)
    unused = remaining_by_grant(grants, debits)[grant.id]
    revoked, owed = split_take_back(target - int(taken_before or 0), unused)
    level_id = insert_ignore(
        session,
        WalletRefund,
        {
            "grant_id": grant.id,
            "refunded_amount": refunded,
            "revoked_tokens": revoked,
            "owed_tokens": owed,
            "created_at": utcnow(),
        },
    )
    if level_id is None:
        return {"outcome": "duplicate", "grant_id": grant.id}
    ledger.post_debit(
        session,
        grant.customer_id,
        tokens=revoked,
        kind=REVOKE,
        key=f"revoke:{level_id}",
        grant_id=grant.id,
    )
    approval_id = _ask_for_clawback(ctx, grant.customer_id, owed, int(level_id))
    record_audit(
        session,
        actor=ACTOR,
        action="wallet.refund_revoked",
        subject_type="customer",
        subject_id=grant.customer_id,
        data={"grant_id": grant.id, "revoked": revoked, "owed": owed, "approval_id": approval_id},
    )
    return {"outcome": "applied", "revoked": revoked, "owed": owed, "approval_id": approval_id}


def _ask_for_clawback(ctx: AgentContext, customer_id: int, owed: int, level_id: int) -> int | None:
    if owed <= 0:
        return None

    def submit_here(
        session: Session, kind: str, payload: dict[str, Any], *, dedupe_key: str | None = None
    ) -> int | None:
        return ctx.submit(kind, payload, dedupe_key=dedupe_key)  # the task's own transaction

    gate: SubmitTask = submit_here
    approval = request_clawback(
        ctx.session,
        customer_id=customer_id,
        tokens=owed,
        wallet_refund_id=level_id,
        submit=gate,
        settings=ctx.settings,
    )
    level = ctx.session.get(WalletRefund, level_id)
    assert level is not None
    level.approval_id = approval.id
    ctx.session.flush()
    return approval.id
