"""Console customers: search, then one customer's records and timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.auth.dependencies import ConsoleViewer
from api.console.rendering import render
from api.dependencies import RuntimeDep
from core.errors import NotFound
from db.models import Customer
from db.repositories.customer_view import customer_records, customer_timeline, search_customers

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
    return render(request, "customer.html", me, r=records, c=customer, timeline=timeline)
