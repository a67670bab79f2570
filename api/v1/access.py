"""/api/v1/access/check and /api/v1/entitlements/{customer}: answers for the customer's app."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from agents.access.service import AccessResult
from api.v1.access_services import AccessDep
from api.v1.auth import CallerDep

router = APIRouter(prefix="/api/v1", tags=["access"])


class CheckBody(BaseModel):
    assets: list[str] = Field(min_length=1, max_length=100)
    action: str
    idempotency_key: str = Field(min_length=1, max_length=200)
    customer: str | None = None  # operators name the customer; a key checks for its own


@router.post("/access/check")
def check_access(
    body: CheckBody, request: Request, caller: CallerDep, access: AccessDep
) -> dict[str, Any]:
    """The decision; a cost in tokens is deducted in this same call (or the check is denied)."""
    customer_id = caller.customer(request, body.customer)
    return check_answer(access.check(customer_id, body.assets, body.action, body.idempotency_key))


def check_answer(result: AccessResult) -> dict[str, Any]:
    decision = result.decision
    return {
        "allowed": decision.allowed,
        "rule": decision.rule_id,
        "reason": decision.reason,
        "cost": decision.cost,
        "deducted": result.deducted,
        "replayed": result.replayed,
        "redirect": decision.redirect,
        "bundles": list(decision.bundles),
    }


@router.get("/entitlements/{customer}")
def entitlements(
    customer: str,
    request: Request,
    caller: CallerDep,
    access: AccessDep,
    feature: str | None = None,
) -> dict[str, Any]:
    """What the customer holds now (from the cache provisioning invalidates)."""
    customer_id = caller.customer(request, customer)
    snapshot = access.entitlements.snapshot(customer_id)
    answer: dict[str, Any] = {
        "customer_id": customer_id,
        "plan": snapshot.plan,
        "features": {f: {"limit": limit} for f, limit in sorted(snapshot.limits.items())},
    }
    if feature is not None:
        check = access.entitlements.check(customer_id, feature)
        answer["check"] = {"feature": feature, "allowed": check.allowed, "limit": check.limit}
    return answer
