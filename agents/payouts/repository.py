"""The queries behind payouts: compare-and-set status moves and reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.payouts.rules import check_transition, is_open
from core.clock import utcnow
from core.errors import NotFound
from db.models import Payout
from db.statements import affected_rows


def open_key(party: str, currency: str) -> str:
    """The in-flight marker: one open payout per payee and currency (a unique column)."""
    return f"{party}:{currency.lower()}"


def move_status(session: Session, payout_id: int, source: str, target: str, **values: Any) -> bool:
    """Compare-and-set `source -> target`; a payout that ends releases its open key."""
    check_transition(source, target)
    if not is_open(target):
        values["open_key"] = None
    result = session.execute(
        update(Payout)
        .where(Payout.id == payout_id, Payout.status == source)
        .values(status=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session="fetch")
    )
    return affected_rows(result) == 1


def get_payout(session: Session, payout_id: int) -> Payout:
    payout = session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(f"no payout {payout_id}")
    return payout


def payout_for_approval(session: Session, approval_id: int) -> Payout | None:
    return session.scalars(select(Payout).where(Payout.approval_id == approval_id)).first()


def list_payouts(
    session: Session, *, status: str | None = None, party: str | None = None
) -> Sequence[Payout]:
    stmt = select(Payout).order_by(Payout.id.desc())
    if status is not None:
        stmt = stmt.where(Payout.status == status)
    if party is not None:
        stmt = stmt.where(Payout.party == party)
    return session.scalars(stmt).all()
