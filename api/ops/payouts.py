"""/ops/payouts: list, request, show, retry and cancel payouts; decisions go through
/ops/approvals like every money action. The requester is the token's operator."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, StrictInt

from agents.ledger_journal.balances import balances
from agents.ledger_journal.check import check_ledger
from agents.payouts import repository as repo
from agents.payouts import service
from agents.payouts.payees import list_payees, payee_view, update_payee
from api.auth.dependencies import Approver, Operator, origin_of, require_role
from api.dependencies import RuntimeDep
from orchestrator.access.roles import VIEWER
from orchestrator.outbox import submit

router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_role(VIEWER))])


class PayoutBody(BaseModel):
    party: str | None = None  # owner:alice, affiliate:7, agency:3
    process_id: StrictInt | None = None
    currency: str | None = None
    amount: StrictInt | None = None  # minor units; the available balance when left out


class CancelBody(BaseModel):
    reason: str


class PayeeBody(BaseModel):
    status: str | None = None  # active | on_hold | retired
    stripe_account_id: str | None = None
    fee_bps: StrictInt | None = None


@router.get("/payouts")
def list_payouts(
    runtime: RuntimeDep, status: str | None = None, party: str | None = None
) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        return [
            service.payout_view(p)
            for p in service.list_payouts(session, status=status, party=party)
        ]


@router.post("/payouts", status_code=201)
def create_payout(
    body: PayoutBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        payout = service.create_payout(
            session,
            requested_by=who.username,
            submit=submit,
            party=body.party,
            process_id=body.process_id,
            currency=body.currency,
            amount=body.amount,
            settings=runtime.settings,
            origin=origin_of(request),
        )
        return service.payout_view(payout)


@router.get("/payouts/{payout_id}")
def show_payout(payout_id: int, runtime: RuntimeDep) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        return service.payout_view(repo.get_payout(session, payout_id))


@router.post("/payouts/{payout_id}/retry")
def retry_payout(
    payout_id: int, request: Request, runtime: RuntimeDep, who: Approver
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        payout = service.retry_payout(
            session, payout_id, operator=who.username, submit=submit, origin=origin_of(request)
        )
        return service.payout_view(payout)


@router.post("/payouts/{payout_id}/cancel")
def cancel_payout(
    payout_id: int, body: CancelBody, request: Request, runtime: RuntimeDep, who: Approver
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        payout = service.cancel_payout(
            session, payout_id, operator=who.username, reason=body.reason, origin=origin_of(request)
        )
        return service.payout_view(payout)


@router.get("/payees")
def payees(runtime: RuntimeDep, kind: str | None = None) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        return [payee_view(p) for p in list_payees(session, kind)]


@router.patch("/payees/{party}")
def change_payee(
    party: str, body: PayeeBody, request: Request, runtime: RuntimeDep, who: Approver
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        payee = update_payee(
            session,
            party,
            actor=who.username,
            status=body.status,
            stripe_account_id=body.stripe_account_id,
            fee_bps=body.fee_bps,
            origin=origin_of(request),
        )
        return payee_view(payee)


@router.get("/ledger/balances")
def ledger_balances(
    runtime: RuntimeDep, account: str | None = None, party: str | None = None
) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        return [
            {"account": b.account, "party": b.party, "currency": b.currency, "balance": b.balance}
            for b in balances(session, account=account, party=party)
        ]


@router.get("/ledger/check")
def ledger_check(runtime: RuntimeDep) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        return check_ledger(session).as_dict()
