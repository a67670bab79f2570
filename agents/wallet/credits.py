"""Credit a paid token purchase: one grant per Checkout Session, however often it is reported."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agents.context import AgentContext
from agents.wallet import ledger
from agents.wallet.refunds import apply_pending_refunds, lock_payment_intent
from core.clock import utcnow
from core.errors import PermanentError
from db.audit import record_audit

ACTOR = "agent:wallet"


def credit_purchase(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """`wallet.credit`, submitted by billing only for a paid session with kind=token_purchase."""
    metadata = payload.get("metadata") or {}
    tokens = str(metadata.get("tokens") or "")
    if not tokens.isdigit() or int(tokens) <= 0:
        raise PermanentError(f"session {payload['session_id']}: bad token count {tokens!r}")
    customer_id = payload.get("customer_id") or _metadata_customer(metadata)
    if customer_id is None:
        raise PermanentError(f"session {payload['session_id']}: no customer to credit")
    days = ctx.settings.wallet_purchase_expiry_days
    payment_intent = payload.get("payment_intent")
    if payment_intent:
        lock_payment_intent(ctx.session, payment_intent)
    grant_id = ledger.post_grant(
        ctx.session,
        ledger.NewGrant(
            customer_id=int(customer_id),
            tokens=int(tokens),
            source="purchase",
            source_ref=f"checkout:{payload['session_id']}",
            expires_at=utcnow() + timedelta(days=days) if days else None,
            stripe_payment_intent_id=payload.get("payment_intent"),
            amount=payload.get("amount"),
            currency=payload.get("currency"),
        ),
    )
    if grant_id is not None:
        record_audit(
            ctx.session,
            actor=ACTOR,
            action="wallet.credited",
            subject_type="customer",
            subject_id=customer_id,
            data={"tokens": int(tokens), "grant_id": grant_id, "session": payload["session_id"]},
        )
    # A refund handled before this credit waited for it: take it back now, in this transaction.
    refunds = apply_pending_refunds(ctx, payment_intent) if grant_id and payment_intent else []
    return {
        "customer_id": customer_id,
        "grant_id": grant_id,
        "tokens": int(tokens),
        "refunds": refunds,
    }


def _metadata_customer(metadata: dict[str, Any]) -> int | None:
    value = str(metadata.get("customer_id") or "")
    return int(value) if value.isdigit() else None
