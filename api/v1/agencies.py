"""/api/v1/agencies: agencies, their client accounts, metrics and payouts (operators only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, StrictInt

from agents.partners import agencies as service
from agents.partners.earnings import stats_view
from agents.partners.payouts import request_partner_payout
from agents.partners.views import agency_view, client_view
from agents.payouts.service import payout_view
from api.auth.dependencies import Operator, Viewer, origin_of
from api.dependencies import RuntimeDep
from db.models.partners import PartnerKind
from orchestrator.outbox import submit

router = APIRouter(prefix="/api/v1/agencies", tags=["agencies"])


class AgencyBody(BaseModel):
    name: str
    email: str
    commission_rate_bps: StrictInt | None = None


class ClientBody(BaseModel):
    customer: str  # our customer id or the Stripe customer id


class PayoutBody(BaseModel):
    currency: str


@router.post("", status_code=201)
def create_agency(
    body: AgencyBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        agency = service.create_agency(
            session,
            name=body.name,
            email=body.email,
            settings=runtime.settings,
            actor=who.username,
            rate_bps=body.commission_rate_bps,
            origin=origin_of(request),
        )
        return agency_view(agency)


@router.get("")
def list_agencies(runtime: RuntimeDep, who: Viewer) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        return [agency_view(a) for a in service.list_agencies(session)]


@router.get("/{agency_id}")
def show_agency(agency_id: int, runtime: RuntimeDep, who: Viewer) -> dict[str, Any]:
    """The agency with its performance: clients, MRR under management, churn, earnings."""
    with runtime.database.transaction() as session:
        metrics = service.agency_metrics(session, agency_id)
        view = agency_view(service.get_agency(session, agency_id))
        return {**view, "metrics": {**metrics, "money": stats_view(metrics["money"])}}


@router.post("/{agency_id}/clients", status_code=201)
def link_client(
    agency_id: int, body: ClientBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        link = service.link_client(
            session, agency_id, body.customer, actor=who.username, origin=origin_of(request)
        )
        return client_view(link)


@router.delete("/{agency_id}/clients/{customer}", status_code=204)
def unlink_client(
    agency_id: int, customer: str, request: Request, runtime: RuntimeDep, who: Operator
) -> None:
    with runtime.database.transaction() as session:
        service.unlink_client(
            session, agency_id, customer, actor=who.username, origin=origin_of(request)
        )


@router.post("/{agency_id}/payouts", status_code=201)
def request_payout(
    agency_id: int, body: PayoutBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        payout = request_partner_payout(
            session,
            kind=PartnerKind.AGENCY,
            partner_id=agency_id,
            currency=body.currency,
            requested_by=who.username,
            submit=submit,
            settings=runtime.settings,
            origin=origin_of(request),
        )
        return payout_view(payout)
