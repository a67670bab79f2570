"""Queries over operators, their tokens, console sessions and login attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from db.models import LoginAttempt, Operator, OperatorSession, OperatorToken


def by_username(session: Session, username: str) -> Operator | None:
    return session.scalars(select(Operator).where(Operator.username == username)).first()


def all_operators(session: Session) -> Sequence[Operator]:
    return session.scalars(select(Operator).order_by(Operator.username)).all()


def tokens_of(session: Session, operator_id: int) -> Sequence[OperatorToken]:
    stmt = select(OperatorToken).where(OperatorToken.operator_id == operator_id)
    return session.scalars(stmt.order_by(OperatorToken.id)).all()


def active_token(session: Session, token_hash: str) -> tuple[OperatorToken, Operator] | None:
    """The unrevoked token with this hash and its enabled operator, or None."""
    row = session.execute(
        select(OperatorToken, Operator)
        .join(Operator, Operator.id == OperatorToken.operator_id)
        .where(
            OperatorToken.token_hash == token_hash,
            OperatorToken.revoked_at.is_(None),
            Operator.disabled_at.is_(None),
        )
    ).first()
    return None if row is None else (row[0], row[1])


def token_by_prefix(session: Session, prefix: str) -> OperatorToken | None:
    return session.scalars(select(OperatorToken).where(OperatorToken.prefix == prefix)).first()


def live_session(
    session: Session, token_hash: str, now: datetime
) -> tuple[OperatorSession, Operator] | None:
    """The unexpired, unrevoked console session with this hash and its enabled operator."""
    row = session.execute(
        select(OperatorSession, Operator)
        .join(Operator, Operator.id == OperatorSession.operator_id)
        .where(
            OperatorSession.token_hash == token_hash,
            OperatorSession.revoked_at.is_(None),
            OperatorSession.expires_at > now,
            Operator.disabled_at.is_(None),
        )
    ).first()
    return None if row is None else (row[0], row[1])


def revoke_sessions(session: Session, operator_id: int, now: datetime) -> None:
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator_id, OperatorSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_tokens(session: Session, operator_id: int, now: datetime) -> None:
    session.execute(
        update(OperatorToken)
        .where(OperatorToken.operator_id == operator_id, OperatorToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def recent_failures(
    session: Session, *, since: datetime, username: str, address: str
) -> tuple[int, int]:
    """Failed logins since `since`: (for this name, from this address)."""

    def count(*where: ColumnElement[bool]) -> int:
        stmt = select(func.count(LoginAttempt.id)).where(
            LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since, *where
        )
        return int(session.scalar(stmt) or 0)

    return count(LoginAttempt.username == username), count(LoginAttempt.address == address)
