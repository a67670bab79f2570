"""/api/v1/white-label: operators set an agency's branding; a customer reads the one that
applies to them (their portal renders with it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from agents.partners.branding import BrandingInput
from agents.partners.views import branding_view
from agents.partners.white_label import get_branding, set_branding
from api.auth.dependencies import Operator, Viewer, origin_of
from api.dependencies import RuntimeDep
from api.v1.auth import CallerDep
from db.repositories.branding import branding_for_customer

router = APIRouter(prefix="/api/v1/white-label", tags=["white-label"])


class BrandingBody(BaseModel):
    name: str
    logo_url: str | None = None
    primary_color: str | None = None
    accent_color: str | None = None
    custom_domain: str | None = None
    custom_css: str | None = None
    email_from_name: str | None = None
    reply_to: str | None = None
    support_url: str | None = None


@router.get("")
def my_branding(
    request: Request, runtime: RuntimeDep, caller: CallerDep, customer: str | None = None
) -> dict[str, Any]:
    """The branding for the calling customer (an operator names one); null when unbranded."""
    customer_id = caller.customer(request, customer)
    with runtime.database.transaction() as session:
        branding = branding_for_customer(session, customer_id)
    return {"customer_id": customer_id, "branding": branding.public() if branding else None}


@router.put("/{agency_id}")
def put_branding(
    agency_id: int, body: BrandingBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        brand = set_branding(
            session,
            agency_id,
            BrandingInput(**body.model_dump()),
            actor=who.username,
            origin=origin_of(request),
        )
        return branding_view(brand)


@router.get("/{agency_id}")
def show_branding(agency_id: int, runtime: RuntimeDep, who: Viewer) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        return branding_view(get_branding(session, agency_id))
