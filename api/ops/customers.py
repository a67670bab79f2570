"""/ops customers: search, and one customer's records and timeline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.auth.dependencies import require_role
from api.dependencies import RuntimeDep
from api.ops.records import record, records
from core.errors import NotFound
from db.models import Customer
from db.repositories.customer_view import customer_records, customer_timeline, search_customers
from orchestrator.access.roles import VIEWER

router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_role(VIEWER))])


@router.get("/customers")
def find_customers(runtime: RuntimeDep, q: str | None = None) -> list[dict[str, Any]]:
    """By e-mail or name (substring), Stripe customer id or our id."""
    with runtime.database.transaction() as session:
        return records(search_customers(session, q))


@router.get("/customers/{customer_id}")
def show_customer(customer_id: int, runtime: RuntimeDep) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        found = customer_records(session, customer)
        timeline = customer_timeline(session, customer)
        return {
            "customer": record(customer),
            "subscriptions": records(found.subscriptions),
            "invoices": records(found.invoices),
            "payments": records(found.payments),
            "refunds": records(found.refunds),
            "entitlements": records(found.entitlements),
            "notifications": records(found.notifications),
            "approvals": records(found.approvals),
            "timeline": [
                {"at": at.isoformat(), "what": what, "detail": detail}
                for at, what, detail in timeline
            ],
        }
