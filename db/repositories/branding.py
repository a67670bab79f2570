"""The white-label branding that applies to a customer: their agency's, if they have one.

Read by the notification agent (every e-mail) and the customer-facing API (every response),
so it lives with the other shared reads, not in the partners agent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from db.models import Agency, AgencyClient, WhiteLabelBrand
from db.statements import execute_prebuilt


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
    row = execute_prebuilt(session, _BRANDING_OF_CUSTOMER, {"customer_id": customer_id}).first()
    return None if row is None else Branding(**row._mapping)


# Read as plain columns, not a WhiteLabelBrand entity: it runs for every customer e-mail.
_BRANDING_OF_CUSTOMER = (
    select(*(WhiteLabelBrand.__table__.c[f.name] for f in fields(Branding)))
    .join(AgencyClient, AgencyClient.agency_id == WhiteLabelBrand.agency_id)
    .join(Agency, Agency.id == WhiteLabelBrand.agency_id)
    .where(
        AgencyClient.customer_id == bindparam("customer_id"),
        AgencyClient.unlinked_at.is_(None),
        Agency.status == "active",
    )
)
