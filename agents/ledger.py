"""The external-call ledger: claim an idempotency key, in its own commit, before calling out.

Stripe forgets idempotency keys after about a day and approvals can wait longer, so this
table, not Stripe, is what makes a money call happen once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.errors import RetryableError
from db.models import ExternalCall, ExternalCallStatus
from db.session import Database
from db.statements import affected_rows, execute_prebuilt, insert_ignore

FRESH = "fresh"  # first claim: no earlier attempt can have reached the outside
RETAKEN = "retaken"  # an earlier attempt failed or died: it may have reached the outside
DONE = "done"  # the call succeeded before: reuse `response`


@dataclass(frozen=True)
class Claim:
    """What `claim_call` found; `attempt` identifies our claim when settling it."""

    key: str
    state: str
    attempt: int
    response: dict[str, Any] | None = None


def claim_call(
    database: Database,
    *,
    key: str,
    service: str,
    operation: str,
    request: dict[str, Any],
    stale_after: timedelta,
) -> Claim:
    """Claim `key` in a transaction of its own; raises RetryableError while another live
    worker holds it."""
    with database.transaction() as session:
        return claim_call_in(
            session,
            key=key,
            service=service,
            operation=operation,
            request=request,
            stale_after=stale_after,
        )


def claim_call_in(
    session: Session,
    *,
    key: str,
    service: str,
    operation: str,
    request: dict[str, Any],
    stale_after: timedelta,
) -> Claim:
    """`claim_call` in the caller's transaction: the claim holds once that commits, so the
    caller must commit before calling out."""
    now = utcnow()
    created = insert_ignore(
        session,
        ExternalCall,
        {
            "idempotency_key": key,
            "service": service,
            "operation": operation,
            "status": ExternalCallStatus.CLAIMED,
            "request": request,
            "attempts": 1,
            "claimed_at": now,
        },
    )
    if created is not None:
        return Claim(key, FRESH, 1)
    call = session.scalars(select(ExternalCall).where(ExternalCall.idempotency_key == key)).one()
    if call.status == ExternalCallStatus.SUCCEEDED:
        return Claim(key, DONE, call.attempts, call.response)
    if call.status == ExternalCallStatus.CLAIMED and call.claimed_at > now - stale_after:
        raise RetryableError(f"{key} is being called by another worker")
    # Failed, or claimed by a worker that died: take it over, one taker wins (attempts CAS).
    # Read before the UPDATE: the ORM writes the new value back onto `call`.
    next_attempt = call.attempts + 1
    taken = session.execute(
        update(ExternalCall)
        .where(
            ExternalCall.idempotency_key == key,
            ExternalCall.status == call.status,
            ExternalCall.attempts == call.attempts,
        )
        .values(
            status=ExternalCallStatus.CLAIMED,
            claimed_at=now,
            attempts=next_attempt,
            error=None,
        )
    )
    if affected_rows(taken) != 1:
        raise RetryableError(f"{key} was taken over concurrently")
    return Claim(key, RETAKEN, next_attempt)


def complete_call(database: Database, claim: Claim, response: dict[str, Any]) -> None:
    """Store the outside world's answer: later claims of the key reuse it."""
    with database.transaction() as session:
        complete_call_in(session, claim, response)


def complete_call_in(session: Session, claim: Claim, response: dict[str, Any]) -> None:
    """`complete_call` in the caller's transaction, to commit with the caller's own record."""
    _settle(session, claim, status=ExternalCallStatus.SUCCEEDED, response=response, error=None)


def fail_call(database: Database, claim: Claim, error: str) -> None:
    """Release our claim with the reason; the next claim retakes it."""
    with database.transaction() as session:
        _settle(session, claim, status=ExternalCallStatus.FAILED, response=None, error=error[:4000])


def _settle(
    session: Session,
    claim: Claim,
    *,
    status: str,
    response: dict[str, Any] | None,
    error: str | None,
) -> None:
    """Settle only a claim that is still ours: a worker that took it over keeps it."""
    execute_prebuilt(
        session,
        _SETTLE,
        {
            "claim_key": claim.key,
            "claim_attempt": claim.attempt,
            "status": status,
            "response": response,
            "error": error,
            "completed_at": utcnow(),
        },
    )


# Once per external call settled (every e-mail).
_SETTLE = (
    update(ExternalCall)
    .where(
        ExternalCall.idempotency_key == bindparam("claim_key"),
        ExternalCall.status == ExternalCallStatus.CLAIMED,
        ExternalCall.attempts == bindparam("claim_attempt"),
    )
    .values(
        status=bindparam("status"),
        response=bindparam("response"),
        error=bindparam("error"),
        completed_at=bindparam("completed_at"),
    )
)
