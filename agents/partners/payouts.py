"""Commission payouts: a payout of the partner's payable account through `agents.payouts`,
which puts it behind the approval gate and executes it once on approval."""

from __future__ import annotations

from sqlalchemy.orm import Session

from agents.approvals.service import SubmitTask
from agents.partners.affiliates import get_affiliate
from agents.partners.agencies import get_agency
from agents.partners.postings import partner_party
from agents.payouts.service import create_payout
from core.errors import InvalidInput
from core.settings import Settings
from db.models import Payout
from db.models.partners import PartnerKind


def request_partner_payout(
    session: Session,
    *,
    kind: str,
    partner_id: int,
    currency: str,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings,
    origin: str | None = None,
) -> Payout:
    """Batch everything the partner is owed in `currency` into one approval-gated payout."""
    if kind == PartnerKind.AFFILIATE:
        get_affiliate(session, partner_id)
    elif kind == PartnerKind.AGENCY:
        get_agency(session, partner_id)
    else:
        raise InvalidInput(f"unknown partner kind {kind!r}", code="bad_kind")
    return create_payout(
        session,
        requested_by=requested_by,
        submit=submit,
        party=partner_party(kind, partner_id),
        currency=currency,
        settings=settings,
        origin=origin,
    )
