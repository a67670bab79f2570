"""Agency use cases: create, link and unlink client accounts, performance metrics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.analytics.metrics import PAYING, SubscriptionState, monthly_amount
from agents.partners.commission import check_rate
from agents.partners.earnings import money_stats
from agents.partners.inputs import checked_email, customer_id_of
from agents.payouts.payees import ensure_payee
from core.clock import utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.settings import Settings
from db.audit import record_audit
from db.models import Agency, AgencyClient, Subscription
from db.models.partners import PartnerKind
from db.statements import insert_ignore

CHURN_WINDOW_DAYS = 30


def create_agency(
    session: Session,
    *,
    name: str,
    email: str,
    settings: Settings,
    actor: str,
    rate_bps: int | None = None,
    origin: str | None = None,
) -> Agency:
    name = name.strip()
    if not name:
        raise InvalidInput("an agency needs a name", code="name_required")
    try:
        rate = check_rate(settings.agency_commission_bps if rate_bps is None else rate_bps)
    except ValueError as error:
        raise InvalidInput(str(error), code="bad_rate") from error
    now = utcnow()
    agency = Agency(
        name=name,
        email=checked_email(email),
        commission_rate_bps=rate,
        status="active",
        created_at=now,
        updated_at=now,
    )
    session.add(agency)
    session.flush()
    ensure_payee(session, kind=PartnerKind.AGENCY, ref=str(agency.id), name=name, email=email)
    record_audit(
        session,
        actor=actor,
        action="agency.created",
        subject_type="agency",
        subject_id=agency.id,
        origin=origin,
        data={"rate_bps": rate},
    )
    return agency


def get_agency(session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"no agency {agency_id}")
    return agency


def list_agencies(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).order_by(Agency.id)).all()


def link_client(
    session: Session, agency_id: int, customer: str, *, actor: str, origin: str | None = None
) -> AgencyClient:
    """Put a customer under an agency; a customer managed by another agency is refused."""
    agency = get_agency(session, agency_id)
    customer_id = customer_id_of(session, customer)
    now = utcnow()
    insert_ignore(
        session,
        AgencyClient,
        {"agency_id": agency.id, "customer_id": customer_id, "linked_at": now},
    )
    link = session.scalars(
        select(AgencyClient).where(AgencyClient.customer_id == customer_id).with_for_update()
    ).one()
    if link.unlinked_at is not None:  # a former client, of this agency or another: re-link
        link.agency_id, link.linked_at, link.unlinked_at = agency.id, now, None
    elif link.agency_id != agency.id:
        raise Conflict("this customer is managed by another agency", code="client_of_other")
    record_audit(
        session,
        actor=actor,
        action="agency.client_linked",
        subject_type="agency",
        subject_id=agency.id,
        origin=origin,
        data={"customer_id": customer_id},
    )
    return link


def unlink_client(
    session: Session, agency_id: int, customer: str, *, actor: str, origin: str | None = None
) -> None:
    customer_id = customer_id_of(session, customer)
    moved = session.execute(
        update(AgencyClient)
        .where(
            AgencyClient.agency_id == agency_id,
            AgencyClient.customer_id == customer_id,
            AgencyClient.unlinked_at.is_(None),
        )
        .values(unlinked_at=utcnow())
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"customer {customer} is not a client of agency {agency_id}")
    record_audit(
        session,
        actor=actor,
        action="agency.client_unlinked",
        subject_type="agency",
        subject_id=agency_id,
        origin=origin,
        data={"customer_id": customer_id},
    )


def agency_metrics(session: Session, agency_id: int) -> dict[str, Any]:
    """Clients, MRR under management (per currency), and churn over the last 30 days.

    Churn: clients who held a paying subscription and, within the window, saw their last one
    end, over clients paying now plus those churned.
    """
    agency = get_agency(session, agency_id)
    client_ids = list(
        session.scalars(
            select(AgencyClient.customer_id).where(
                AgencyClient.agency_id == agency.id, AgencyClient.unlinked_at.is_(None)
            )
        )
    )
    subscriptions = (
        session.scalars(select(Subscription).where(Subscription.customer_id.in_(client_ids))).all()
        if client_ids
        else []
    )
    since = utcnow() - timedelta(days=CHURN_WINDOW_DAYS)
    mrr: dict[str, int] = defaultdict(int)
    paying: set[int] = set()
    ended: set[int] = set()
    for sub in subscriptions:
        if sub.status in PAYING:
            mrr[sub.currency] += monthly_amount(_state(sub))
            paying.add(sub.customer_id)
        elif _ended_since(sub.ended_at or sub.canceled_at, since):
            ended.add(sub.customer_id)
    churned = ended - paying
    base = len(paying) + len(churned)
    return {
        "agency_id": agency.id,
        "clients": len(client_ids),
        "paying_clients": len(paying),
        "mrr": dict(sorted(mrr.items())),
        "churned_clients_30d": len(churned),
        "churn_rate_30d": f"{(Decimal(len(churned)) / base if base else Decimal(0)):.6f}",
        "money": money_stats(session, PartnerKind.AGENCY, agency.id),
    }


def _ended_since(moment: datetime | None, since: datetime) -> bool:
    return moment is not None and moment >= since


def _state(sub: Subscription) -> SubscriptionState:
    return SubscriptionState(
        customer_id=sub.customer_id,
        status=sub.status,
        plan=sub.plan,
        currency=sub.currency,
        unit_amount=sub.unit_amount,
        quantity=sub.quantity,
        interval=sub.interval,
        interval_count=sub.interval_count,
        percent_off=Decimal(sub.discount_percent_off) if sub.discount_percent_off else None,
        amount_off=sub.discount_amount_off,
    )
