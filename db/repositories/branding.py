"""The white-label branding that applies to a customer: their agency's, if they have one.

Read by the notification agent (every e-mail) and the customer-facing API (every response),
so it lives with the other shared reads, not in the partners agent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Agency, AgencyClient, WhiteLabelBrand


@dataclass(frozen=True)
class Branding:
    """Stored values, validated and CSS-sanitised on write (agents.partners.branding)."""

    agency_id: int
    name: str
    logo_url: str | None
    primary_color: str | None
    accent_color: str | None
    custom_domain: str | None
    custom_css: str | None
    email_from_name: str | None
    reply_to: str | None
    support_url: str | None

    def public(self) -> dict[str, Any]:
        """What a customer-facing response shows (the agency id stays internal)."""
        values = asdict(self)
        del values["agency_id"]
        return values


def branding_for_customer(session: Session, customer_id: int) -> Branding | None:
    """The branding of the active agency currently managing `customer_id`, else None."""
    row = session.scalars(
        select(WhiteLabelBrand)
        .join(AgencyClient, AgencyClient.agency_id == WhiteLabelBrand.agency_id)
        .join(Agency, Agency.id == WhiteLabelBrand.agency_id)
        .where(
            AgencyClient.customer_id == customer_id,
            AgencyClient.unlinked_at.is_(None),
            Agency.status == "active",
        )
    ).first()
    if row is None:
        return None
    return Branding(
        agency_id=row.agency_id,
        name=row.name,
        logo_url=row.logo_url,
        primary_color=row.primary_color,
        accent_color=row.accent_color,
        custom_domain=row.custom_domain,
        custom_css=row.custom_css,
        email_from_name=row.email_from_name,
        reply_to=row.reply_to,
        support_url=row.support_url,
    )
