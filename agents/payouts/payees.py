"""Payees: who Moneta owes money to, their hold status and where their money goes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.ledger_journal.accounts import PAYEE_KINDS, party
from core.clock import utcnow
from core.errors import InvalidInput, NotFound
from db.audit import record_audit
from db.models import Payee
from db.statements import insert_ignore

ACTIVE, ON_HOLD, RETIRED = "active", "on_hold", "retired"
PAYEE_STATUSES = (ACTIVE, ON_HOLD, RETIRED)


def ensure_payee(
    session: Session,
    *,
    kind: str,
    ref: str,
    name: str | None = None,
    email: str | None = None,
) -> Payee:
    """The payee `kind:ref`, created on first use (concurrent callers get the same row)."""
    if kind not in PAYEE_KINDS:
        raise InvalidInput(f"unknown payee kind {kind!r}; one of {PAYEE_KINDS}", code="bad_kind")
    ref = ref.strip()
    if not ref or len(ref) > 128:
        raise InvalidInput("a payee needs a reference of 1-128 characters", code="bad_ref")
    now = utcnow()
    insert_ignore(
        session,
        Payee,
        {
            "kind": kind,
            "ref": ref,
            "party": party(kind, ref),
            "name": name,
            "email": email,
            "status": ACTIVE,
            "created_at": now,
            "updated_at": now,
        },
    )
    payee = session.scalars(select(Payee).where(Payee.kind == kind, Payee.ref == ref)).one()
    return payee


def find_payee(session: Session, party_name: str, *, lock: bool = False) -> Payee:
    """The payee whose party is `party_name` (`owner:alice`); NotFound otherwise."""
    stmt = select(Payee).where(Payee.party == party_name)
    if lock:
        stmt = stmt.with_for_update()
    payee = session.scalars(stmt).first()
    if payee is None:
        raise NotFound(f"no payee {party_name!r}", code="unknown_payee")
    return payee


def update_payee(
    session: Session,
    party_name: str,
    *,
    actor: str,
    status: str | None = None,
    stripe_account_id: str | None = None,
    fee_bps: int | None = None,
    origin: str | None = None,
) -> Payee:
    """Put a payee on hold or back, retire it, set its Connect account or its fee, audited."""
    payee = find_payee(session, party_name, lock=True)
    changes: dict[str, object] = {}
    if status is not None:
        if status not in PAYEE_STATUSES:
            raise InvalidInput(f"status is one of {PAYEE_STATUSES}", code="bad_status")
        changes["status"] = status
    if stripe_account_id is not None:
        if stripe_account_id and not stripe_account_id.startswith("acct_"):
            raise InvalidInput("a Connect account id starts with acct_", code="bad_account")
        changes["stripe_account_id"] = stripe_account_id or None
    if fee_bps is not None:
        if not 0 <= fee_bps <= 10_000:
            raise InvalidInput("the fee is 0-10000 basis points", code="bad_fee")
        changes["fee_bps"] = fee_bps
    for name, value in changes.items():
        setattr(payee, name, value)
    payee.updated_at = utcnow()
    record_audit(
        session,
        actor=actor,
        action="payee.updated",
        subject_type="payee",
        subject_id=payee.party,
        origin=origin,
        data={k: v for k, v in changes.items()},
    )
    return payee


def list_payees(session: Session, kind: str | None = None) -> Sequence[Payee]:
    stmt = select(Payee).order_by(Payee.id)
    if kind is not None:
        stmt = stmt.where(Payee.kind == kind)
    return session.scalars(stmt).all()


def payee_view(payee: Payee) -> dict[str, Any]:
    return {
        "party": payee.party,
        "kind": payee.kind,
        "ref": payee.ref,
        "name": payee.name,
        "email": payee.email,
        "status": payee.status,
        "fee_bps": payee.fee_bps,
        "stripe_account_id": payee.stripe_account_id,
    }
