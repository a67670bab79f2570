"""Payout use cases: request (approval-gated), retry after a failed transfer, give up, read.

Callers own the transaction and pass `submit` (orchestrator.outbox.submit), so the payout
row, its approval and the task that starts its graph commit together.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from agents.approvals import repository as approvals
from agents.approvals.service import SubmitTask, open_money_approval, operator_identity
from agents.ledger_journal.accounts import payable_account
from agents.ledger_journal.balances import balances, payable_balance, recent_credits
from agents.payouts import repository as repo
from agents.payouts.payees import ON_HOLD, RETIRED, find_payee
from agents.payouts.rules import (
    APPROVED,
    CANCELED,
    FAILED,
    PENDING_APPROVAL,
    STATUSES,
    quote_payout,
)
from core.clock import utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.money import format_money
from core.settings import Settings, get_settings
from db.audit import record_audit
from db.models import ApprovalStatus, MonetizedProcess, Payee, Payout
from db.statements import insert_ignore


def create_payout(
    session: Session,
    *,
    requested_by: str,
    submit: SubmitTask,
    party: str | None = None,
    process_id: int | None = None,
    currency: str | None = None,
    amount: int | None = None,
    settings: Settings | None = None,
    origin: str | None = None,
) -> Payout:
    """Ask to pay a payee (by `party`, or a process's owner) their payable balance.

    The whole available balance unless `amount` is given; held back: what was credited within
    the refund window. Refuses unknown, retired and held payees, amounts over the balance or
    under the minimum, and a second payout while one for the same payee and currency is open.
    """
    settings = settings or get_settings()
    if operator_identity(requested_by) == "":
        raise InvalidInput("the requester's name is required", code="requester_required")
    if (party is None) == (process_id is None):
        raise InvalidInput("name a payee or a process, not both", code="payee_required")
    if process_id is not None:
        process = session.get(MonetizedProcess, process_id)
        if process is None:
            raise NotFound(f"no process {process_id}", code="unknown_process")
        payee = find_payee(session, _owner_party(session, process), lock=True)
        currency = currency or process.currency
    else:
        assert party is not None
        payee = find_payee(session, party.strip(), lock=True)
    account = payable_account(payee.kind)
    currency = (currency or _only_currency(session, account, payee.party)).lower()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput("a payout needs a 3-letter currency", code="currency_required")
    if payee.status == RETIRED:
        raise Conflict(f"{payee.party} is retired: nothing is paid to it", code="payee_retired")
    if payee.status == ON_HOLD:
        raise Conflict(f"{payee.party} is on hold for review", code="payee_on_hold")

    window_start = utcnow() - timedelta(days=settings.payout_reserve_days)
    quote = quote_payout(
        balance=payable_balance(session, account, payee.party, currency),
        recent_credits=recent_credits(session, account, payee.party, currency, window_start),
        requested=amount,
        minimum=settings.payout_minimum,
        fee_bps=settings.payout_fee_bps,
    )
    now = utcnow()
    payout_id = insert_ignore(
        session,
        Payout,
        {
            "payee_id": payee.id,
            "party": payee.party,
            "account": str(account),
            "process_id": process_id,
            "currency": currency,
            "balance": quote.balance,
            "reserve": quote.reserve,
            "amount": quote.amount,
            "fee": quote.fee,
            "net": quote.net,
            "status": PENDING_APPROVAL,
            "open_key": repo.open_key(payee.party, currency),
            "requested_by": operator_identity(requested_by),
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        },
    )
    if payout_id is None:
        raise Conflict(
            f"a payout to {payee.party} in {currency.upper()} is already in flight",
            code="payout_in_flight",
        )
    payout = repo.get_payout(session, int(payout_id))
    approval = open_money_approval(
        session,
        action="payout",
        subject_type="payout",
        subject_id=str(payout.id),
        amount=quote.net,
        currency=currency,
        reason=_reason(payout),
        requested_by=requested_by,
        submit=submit,
        settings=settings,
        origin=origin,
        audit_data={"party": payee.party, "amount": quote.amount, "fee": quote.fee},
    )
    payout.approval_id = approval.id
    payout.idempotency_key = f"payout:{payout.id}"
    submit(
        session,
        "payout.start",
        {"approval_id": approval.id},
        dedupe_key=f"payout-start:{payout.id}",
    )
    return payout


def _only_currency(session: Session, account: str, party_name: str) -> str:
    """The one currency `party_name` is owed money in; ask for one when it is several or none."""
    owed = {row.currency for row in balances(session, account=account, party=party_name)}
    if not owed:
        raise Conflict(f"nothing is payable to {party_name}", code="nothing_payable")
    if len(owed) > 1:
        raise InvalidInput(
            f"{party_name} is owed money in {sorted(owed)}: name the currency",
            code="currency_required",
        )
    return owed.pop()


def _owner_party(session: Session, process: MonetizedProcess) -> str:
    owner = session.get(Payee, process.owner_id)
    if owner is None:
        raise NotFound(f"process {process.id} has no owner", code="unknown_payee")
    return owner.party


def _reason(payout: Payout) -> str:
    def money(amount: int) -> str:
        return format_money(amount, payout.currency)

    return (
        f"payout to {payout.party}: {money(payout.amount)} from a payable of "
        f"{money(payout.balance)} (reserve {money(payout.reserve)}), fee {money(payout.fee)}, "
        f"net {money(payout.net)}"
    )


def retry_payout(
    session: Session,
    payout_id: int,
    *,
    operator: str,
    submit: SubmitTask,
    origin: str | None = None,
) -> Payout:
    """failed -> approved and run the transfer again, under the same idempotency key."""
    payout = repo.get_payout(session, payout_id)
    attempt = payout.attempts + 1
    if not repo.move_status(session, payout_id, FAILED, APPROVED, attempts=attempt, error=None):
        raise Conflict(f"payout {payout_id} is {payout.status}, not failed", code="not_failed")
    record_audit(
        session,
        actor=operator_identity(operator),
        action="payout.retried",
        subject_type="payout",
        subject_id=payout_id,
        origin=origin,
        data={"attempt": attempt, "idempotency_key": payout.idempotency_key},
    )
    submit(
        session,
        "payout.resume",
        {"approval_id": payout.approval_id},
        dedupe_key=f"payout-retry:{payout_id}:{attempt}",
    )
    return repo.get_payout(session, payout_id)


def cancel_payout(
    session: Session, payout_id: int, *, operator: str, reason: str, origin: str | None = None
) -> Payout:
    """Give up a failed payout: its balance stays payable and a new payout may be asked for."""
    if not reason.strip():
        raise InvalidInput("a reason is required", code="reason_required")
    payout = repo.get_payout(session, payout_id)
    if not repo.move_status(session, payout_id, FAILED, CANCELED, error=reason.strip()):
        raise Conflict(f"payout {payout_id} is {payout.status}, not failed", code="not_failed")
    if payout.approval_id is not None:
        approvals.move_status(
            session,
            payout.approval_id,
            ApprovalStatus.APPROVED,
            ApprovalStatus.FAILED,
            error=f"payout canceled: {reason.strip()}",
        )
    record_audit(
        session,
        actor=operator_identity(operator),
        action="payout.canceled",
        subject_type="payout",
        subject_id=payout_id,
        origin=origin,
        detail=reason.strip(),
    )
    return repo.get_payout(session, payout_id)


def list_payouts(
    session: Session, *, status: str | None = None, party: str | None = None
) -> list[Payout]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; one of {STATUSES}", code="unknown_status")
    return list(repo.list_payouts(session, status=status, party=party))


def payout_view(payout: Payout) -> dict[str, Any]:
    """A payout as JSON-ready data: one shape for the CLI's --json and the REST API."""
    return {
        "id": payout.id,
        "party": payout.party,
        "account": payout.account,
        "process_id": payout.process_id,
        "currency": payout.currency,
        "balance": payout.balance,
        "reserve": payout.reserve,
        "amount": payout.amount,
        "fee": payout.fee,
        "net": payout.net,
        "status": payout.status,
        "method": payout.method,
        "approval_id": payout.approval_id,
        "idempotency_key": payout.idempotency_key,
        "transfer_id": payout.transfer_id,
        "entry_id": payout.entry_id,
        "requested_by": payout.requested_by,
        "error": payout.error,
        "attempts": payout.attempts,
        "created_at": payout.created_at.isoformat(),
        "paid_at": payout.paid_at.isoformat() if payout.paid_at else None,
    }
