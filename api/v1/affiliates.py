"""/api/v1/affiliates: operators manage affiliates; `/track` is public (links and signups).

Management needs an operator bearer token (roles as on /ops); tracking a click or a signup
carries only the referral code or click id the visitor brought.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, StrictInt

from agents.partners import affiliates as service
from agents.partners.earnings import stats_view
from agents.partners.payouts import request_partner_payout
from agents.partners.views import affiliate_view, click_view, referral_view
from agents.payouts.service import payout_view
from api.auth.dependencies import Approver, Operator, Viewer, origin_of
from api.dependencies import RuntimeDep
from api.v1.public_limits import limit_affiliate_tracking
from core.errors import InvalidInput
from db.models.partners import PartnerKind
from orchestrator.outbox import submit

router = APIRouter(prefix="/api/v1/affiliates", tags=["affiliates"])


class AffiliateBody(BaseModel):
    name: str
    email: str
    commission_rate_bps: StrictInt | None = None
    recurring_months: StrictInt = 0
    customer: str | None = None  # the affiliate's own customer account, if any


class TrackBody(BaseModel):
    event: Literal["click", "signup"]
    code: str | None = None
    click_id: str | None = None
    landing_url: str | None = None
    customer: str | None = None  # Stripe customer id of the signup
    email: str | None = None


class ReviewBody(BaseModel):
    note: str | None = None


class PayoutBody(BaseModel):
    currency: str


@router.post("", status_code=201)
def create_affiliate(
    body: AffiliateBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        affiliate = service.create_affiliate(
            session,
            name=body.name,
            email=body.email,
            settings=runtime.settings,
            actor=who.username,
            rate_bps=body.commission_rate_bps,
            recurring_months=body.recurring_months,
            customer=body.customer,
            origin=origin_of(request),
        )
        return affiliate_view(affiliate)


@router.get("")
def list_affiliates(runtime: RuntimeDep, who: Viewer) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        return [affiliate_view(a) for a in service.list_affiliates(session)]


@router.post("/track", status_code=201, dependencies=[Depends(limit_affiliate_tracking)])
def track(body: TrackBody, runtime: RuntimeDep) -> dict[str, Any]:
    """Public, rate-limited per address: a click returns a click id; a signup attributes the
    customer (first one wins)."""
    with runtime.database.transaction() as session:
        if body.event == "click":
            if not body.code:
                raise InvalidInput("a click needs the referral code", code="code_required")
            return click_view(
                service.record_click(session, code=body.code, landing_url=body.landing_url)
            )
        referral = service.attribute_signup(
            session,
            settings=runtime.settings,
            source="api",
            code=body.code,
            click_id=body.click_id,
            stripe_customer_id=body.customer,
            email=body.email,
        )
        return {"referral_id": referral.id, "attributed_at": referral.attributed_at.isoformat()}


@router.get("/{affiliate_id}")
def show_affiliate(affiliate_id: int, runtime: RuntimeDep, who: Viewer) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        return affiliate_view(service.get_affiliate(session, affiliate_id))


@router.get("/{affiliate_id}/stats")
def affiliate_stats(affiliate_id: int, runtime: RuntimeDep, who: Viewer) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        stats = service.affiliate_stats(session, affiliate_id)
        return {**stats, "money": stats_view(stats["money"])}


@router.post("/referrals/{referral_id}/clear")
def clear_referral(
    referral_id: int, body: ReviewBody, request: Request, runtime: RuntimeDep, who: Approver
) -> dict[str, Any]:
    return _review(runtime, who.username, referral_id, True, body.note, origin_of(request))


@router.post("/referrals/{referral_id}/reject")
def reject_referral(
    referral_id: int, body: ReviewBody, request: Request, runtime: RuntimeDep, who: Approver
) -> dict[str, Any]:
    return _review(runtime, who.username, referral_id, False, body.note, origin_of(request))


def _review(
    runtime: Any, operator: str, referral_id: int, clear: bool, note: str | None, origin: str
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        referral = service.review_referral(
            session, referral_id, operator=operator, clear=clear, note=note, origin=origin
        )
        return referral_view(referral)


@router.post("/{affiliate_id}/payouts", status_code=201)
def request_payout(
    affiliate_id: int, body: PayoutBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    """Batch the affiliate's payable balance into one payout waiting for approval."""
    with runtime.database.transaction() as session:
        payout = request_partner_payout(
            session,
            kind=PartnerKind.AFFILIATE,
            partner_id=affiliate_id,
            currency=body.currency,
            requested_by=who.username,
            submit=submit,
            settings=runtime.settings,
            origin=origin_of(request),
        )
        return payout_view(payout)
