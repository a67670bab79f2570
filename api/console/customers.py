"""Console customers: search, then one customer's records and timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from agents.approvals.service import request_refund
from agents.wallet import ledger as wallet_ledger
from api.auth.dependencies import ConsoleOperator, ConsoleViewer, origin_of
from api.console.rendering import render
from api.dependencies import RuntimeDep
from core.errors import NotFound
from core.money import parse_amount
from db.models import Customer, Payment
from db.repositories.customer_view import customer_records, customer_timeline, search_customers
from orchestrator.outbox import submit

router = APIRouter(prefix="/console")


@router.get("/customers")
def customer_search(
    request: Request, runtime: RuntimeDep, me: ConsoleViewer, q: str | None = None
) -> Response:
    with runtime.database.transaction() as session:
        found = search_customers(session, q)
    return render(request, "customers.html", me, customers=found, q=q or "")


@router.get("/customers/{customer_id}")
def customer_page(
    customer_id: int, request: Request, runtime: RuntimeDep, me: ConsoleViewer
) -> Response:
    with runtime.database.transaction() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        records = customer_records(session, customer)
        timeline = customer_timeline(session, customer)
        wallet = {
            "balance": wallet_ledger.balance_of(session, customer_id),
            "by_feature": wallet_ledger.usage_by_feature(session, customer_id),
            "history": wallet_ledger.history(session, customer_id, limit=15),
        }
    return render(
        request, "customer.html", me, r=records, c=customer, timeline=timeline, wallet=wallet
    )


@router.post("/customers/{customer_id}/refunds")
def request_customer_refund(
    customer_id: int,
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleOperator,
    payment_id: Annotated[int, Form()],
    amount: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    """Ask for a refund of one of this customer's payments; an approver decides it."""
    with runtime.database.transaction() as session:
        payment = session.get(Payment, payment_id)
        if payment is None or payment.customer_id != customer_id:
            raise NotFound(f"customer {customer_id} has no payment {payment_id}")
        approval = request_refund(
            session,
            payment_ref=str(payment.id),
            amount=parse_amount(amount, payment.currency),
            reason=reason,
            requested_by=me.username,
            submit=submit,
            settings=runtime.settings,
            origin=origin_of(request),
        )
        approval_id = approval.id
    return RedirectResponse(f"/console/approvals/{approval_id}?done=requested", status_code=303)
