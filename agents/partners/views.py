"""Partners as plain dicts for the REST API and `--json` CLI output."""

from __future__ import annotations

from typing import Any

from db.models import Affiliate, Agency, AgencyClient, Referral, ReferralClick, WhiteLabelBrand


def affiliate_view(a: Affiliate) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "email": a.email,
        "customer_id": a.customer_id,
        "referral_code": a.referral_code,
        "commission_rate_bps": a.commission_rate_bps,
        "recurring_months": a.recurring_months,
        "status": a.status,
        "created_at": a.created_at.isoformat(),
    }


def click_view(c: ReferralClick) -> dict[str, Any]:
    return {"click_id": c.click_id, "created_at": c.created_at.isoformat()}


def referral_view(r: Referral) -> dict[str, Any]:
    return {
        "id": r.id,
        "affiliate_id": r.affiliate_id,
        "customer_id": r.customer_id,
        "stripe_customer_id": r.stripe_customer_id,
        "source": r.source,
        "attributed_at": r.attributed_at.isoformat(),
        "window_ends_at": r.window_ends_at.isoformat(),
        "converted_at": r.converted_at.isoformat() if r.converted_at else None,
        "review_status": r.review_status,
        "review_reason": r.review_reason,
    }


def agency_view(a: Agency) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "email": a.email,
        "commission_rate_bps": a.commission_rate_bps,
        "status": a.status,
        "created_at": a.created_at.isoformat(),
    }


def client_view(c: AgencyClient) -> dict[str, Any]:
    return {
        "agency_id": c.agency_id,
        "customer_id": c.customer_id,
        "linked_at": c.linked_at.isoformat(),
    }


def branding_view(b: WhiteLabelBrand) -> dict[str, Any]:
    return {
        "agency_id": b.agency_id,
        "name": b.name,
        "logo_url": b.logo_url,
        "primary_color": b.primary_color,
        "accent_color": b.accent_color,
        "custom_domain": b.custom_domain,
        "custom_css": b.custom_css,
        "email_from_name": b.email_from_name,
        "reply_to": b.reply_to,
        "support_url": b.support_url,
        "updated_at": b.updated_at.isoformat(),
    }
