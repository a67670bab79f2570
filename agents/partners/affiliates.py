"""Affiliate use cases: create, track a click, attribute a signup, review, statistics.

Callers own the transaction. Money moves elsewhere: commissions in `conversions`/`clawbacks`
(tasks from billing), payouts through `agents.payouts` behind the approval gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from agents.partners import repository as repo
from agents.partners.codes import new_click_id, new_referral_code, normalize_code
from agents.partners.commission import check_rate
from agents.partners.earnings import money_stats
from agents.partners.fraud import ReferralFacts, review_flags
from agents.partners.inputs import checked_email, customer_id_of
from agents.partners.postings import post_clawback, post_commission
from agents.payouts.payees import ensure_payee
from core.clock import utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.settings import Settings
from db.audit import record_audit
from db.models import Affiliate, PartnerCommission, Referral, ReferralClick
from db.models.partners import CommissionStatus, PartnerKind, ReviewStatus
from db.statements import insert_ignore

_CODE_ATTEMPTS = 5


def create_affiliate(
    session: Session,
    *,
    name: str,
    email: str,
    settings: Settings,
    actor: str,
    rate_bps: int | None = None,
    recurring_months: int = 0,
    customer: str | None = None,
    origin: str | None = None,
) -> Affiliate:
    """A new affiliate with a fresh random code; one affiliate per e-mail address."""
    name, email = name.strip(), checked_email(email)
    if not name:
        raise InvalidInput("an affiliate needs a name", code="name_required")
    try:
        rate = check_rate(settings.affiliate_commission_bps if rate_bps is None else rate_bps)
    except ValueError as error:
        raise InvalidInput(str(error), code="bad_rate") from error
    if not 0 <= recurring_months <= 120:
        raise InvalidInput("recurring_months is 0..120", code="bad_recurring_months")
    if repo.affiliate_by_email(session, email) is not None:
        raise Conflict(f"{email} is already an affiliate", code="affiliate_exists")
    customer_id = customer_id_of(session, customer) if customer else None
    now = utcnow()
    for _ in range(_CODE_ATTEMPTS):  # a collision of 60-bit codes is near impossible; be sure
        affiliate_id = insert_ignore(
            session,
            Affiliate,
            {
                "name": name,
                "email": email,
                "customer_id": customer_id,
                "referral_code": new_referral_code(),
                "commission_rate_bps": rate,
                "recurring_months": recurring_months,
                "status": "active",
                "created_at": now,
                "updated_at": now,
            },
        )
        if affiliate_id is not None:
            break
    else:
        raise Conflict("could not find a free referral code", code="code_exhausted")
    affiliate = session.get(Affiliate, affiliate_id)
    assert affiliate is not None
    ensure_payee(session, kind=PartnerKind.AFFILIATE, ref=str(affiliate.id), name=name, email=email)
    record_audit(
        session,
        actor=actor,
        action="affiliate.created",
        subject_type="affiliate",
        subject_id=affiliate.id,
        origin=origin,
        data={"rate_bps": rate, "recurring_months": recurring_months},
    )
    return affiliate


def get_affiliate(session: Session, affiliate_id: int) -> Affiliate:
    affiliate = session.get(Affiliate, affiliate_id)
    if affiliate is None:
        raise NotFound(f"no affiliate {affiliate_id}")
    return affiliate


def list_affiliates(session: Session) -> Sequence[Affiliate]:
    return session.scalars(select(Affiliate).order_by(Affiliate.id)).all()


def _active_affiliate(session: Session, code: str) -> Affiliate:
    affiliate = repo.affiliate_by_code(session, normalize_code(code))
    if affiliate is None or affiliate.status != "active":
        raise NotFound("no active affiliate has this referral code", code="unknown_referral_code")
    return affiliate


def record_click(session: Session, *, code: str, landing_url: str | None = None) -> ReferralClick:
    """A visit through a referral link; its click id is handed back to name the signup."""
    affiliate = _active_affiliate(session, code)
    click = ReferralClick(
        affiliate_id=affiliate.id,
        click_id=new_click_id(),
        landing_url=(landing_url or "")[:2048] or None,
        created_at=utcnow(),
    )
    session.add(click)
    session.flush()
    return click


def attribute_signup(
    session: Session,
    *,
    settings: Settings,
    source: str,
    code: str | None = None,
    click_id: str | None = None,
    stripe_customer_id: str | None = None,
    email: str | None = None,
) -> Referral:
    """Attribute a signup to the affiliate of `code` or `click_id`; the first attribution wins.

    The same attribution again returns the existing referral; another affiliate's is refused.
    """
    affiliate = _affiliate_for_signup(session, settings, code, click_id)
    stripe_customer_id = (stripe_customer_id or "").strip() or None
    email = checked_email(email) if email else None
    if not stripe_customer_id and not email:
        raise InvalidInput("a signup names a customer or an e-mail", code="customer_required")
    customer = (
        repo.customer_by_stripe_id(session, stripe_customer_id) if stripe_customer_id else None
    )
    customer_id = customer.id if customer else None
    email = email or (customer.email if customer else None)
    existing = repo.referral_of(
        session, customer_id=customer_id, stripe_customer_id=stripe_customer_id, email=email
    )
    if existing is None:
        now = utcnow()
        flags = review_flags(
            ReferralFacts(affiliate.email, affiliate.customer_id, email, customer_id)
        )
        insert_ignore(
            session,
            Referral,
            {
                "affiliate_id": affiliate.id,
                "customer_id": customer_id,
                "stripe_customer_id": stripe_customer_id,
                "email": email,
                "source": source,
                "click_id": click_id,
                "attributed_at": now,
                "window_ends_at": now + timedelta(days=settings.affiliate_attribution_days),
                "review_status": ReviewStatus.FLAGGED if flags else ReviewStatus.CLEAR,
                "review_reason": ", ".join(flags) or None,
                "created_at": now,
            },
        )
        existing = repo.referral_of(
            session, customer_id=customer_id, stripe_customer_id=stripe_customer_id, email=email
        )
        assert existing is not None
    if existing.affiliate_id != affiliate.id:
        raise Conflict(
            "this customer was already referred by another affiliate", code="already_referred"
        )
    return existing


def _affiliate_for_signup(
    session: Session, settings: Settings, code: str | None, click_id: str | None
) -> Affiliate:
    if click_id:
        click = session.scalars(
            select(ReferralClick).where(ReferralClick.click_id == click_id)
        ).first()
        if click is None:
            raise NotFound("unknown click id", code="unknown_click")
        window = timedelta(days=settings.affiliate_attribution_days)
        if utcnow() - click.created_at > window:
            raise Conflict("the click is older than the attribution window", code="window_passed")
        affiliate = get_affiliate(session, click.affiliate_id)
        if code and normalize_code(code) != affiliate.referral_code:
            raise InvalidInput("the code and the click name different affiliates", code="mismatch")
        if affiliate.status != "active":
            raise NotFound("the click's affiliate is not active", code="unknown_referral_code")
        return affiliate
    if not code:
        raise InvalidInput("a signup needs a referral code or a click id", code="code_required")
    return _active_affiliate(session, code)


def review_referral(
    session: Session,
    referral_id: int,
    *,
    operator: str,
    clear: bool,
    note: str | None = None,
    origin: str | None = None,
) -> Referral:
    """An operator clears a flagged referral (its held commissions post) or rejects it."""
    referral = session.scalars(
        select(Referral).where(Referral.id == referral_id).with_for_update()
    ).first()
    if referral is None:
        raise NotFound(f"no referral {referral_id}")
    if referral.review_status != ReviewStatus.FLAGGED:
        raise Conflict(f"referral {referral_id} is {referral.review_status}", code="not_flagged")
    who = operator.strip().lower()
    if not who:
        raise InvalidInput("the operator's name is required", code="operator_required")
    referral.review_status = ReviewStatus.CLEARED if clear else ReviewStatus.REJECTED
    referral.reviewed_by, referral.reviewed_at = who, utcnow()
    for commission in repo.commissions_of_referral(session, referral.id):
        if commission.status == CommissionStatus.HELD:
            _settle_held(session, commission, post=clear)
    record_audit(
        session,
        actor=who,
        action="referral.cleared" if clear else "referral.rejected",
        subject_type="referral",
        subject_id=referral.id,
        origin=origin,
        data={"affiliate_id": referral.affiliate_id, "reason": referral.review_reason},
        detail=note,
    )
    return referral


def _settle_held(session: Session, commission: PartnerCommission, *, post: bool) -> None:
    """A held commission and its held clawbacks: posted to the journal, or refused."""
    status = CommissionStatus.EARNED if post else CommissionStatus.REJECTED
    commission.status = status
    if post:
        post_commission(session, commission)
    for clawback in repo.clawbacks_of(session, commission.id):
        clawback.status = status
        if post:
            post_clawback(session, clawback, commission)


def affiliate_stats(session: Session, affiliate_id: int) -> dict[str, Any]:
    """Clicks, signups, conversions, and per currency: earned (net of clawbacks), held, paid."""
    affiliate = get_affiliate(session, affiliate_id)
    clicks = session.scalar(
        select(func.count())
        .select_from(ReferralClick)
        .where(ReferralClick.affiliate_id == affiliate_id)
    )
    signups, conversions, flagged = session.execute(
        select(
            func.count(),
            func.count(Referral.converted_at),
            func.coalesce(func.sum(case((Referral.review_status == ReviewStatus.FLAGGED, 1))), 0),
        ).where(Referral.affiliate_id == affiliate_id)
    ).one()
    return {
        "affiliate_id": affiliate.id,
        "referral_code": affiliate.referral_code,
        "clicks": int(clicks or 0),
        "signups": int(signups),
        "conversions": int(conversions),
        "flagged": int(flagged),
        "money": money_stats(session, PartnerKind.AFFILIATE, affiliate.id),
    }
