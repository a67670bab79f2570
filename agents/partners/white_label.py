"""White-label branding per agency: set (validated, CSS sanitised), read, remove."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.partners.agencies import get_agency
from agents.partners.branding import BrandingInput, validated_branding
from core.clock import utcnow
from core.errors import Conflict, NotFound
from db.audit import record_audit
from db.models import WhiteLabelBrand


def set_branding(
    session: Session,
    agency_id: int,
    raw: BrandingInput,
    *,
    actor: str,
    origin: str | None = None,
) -> WhiteLabelBrand:
    """Create or replace the agency's branding; a domain another agency uses is refused."""
    agency = get_agency(session, agency_id)
    values = validated_branding(raw)
    domain = values["custom_domain"]
    if domain is not None:
        owner = session.scalar(
            select(WhiteLabelBrand.agency_id).where(WhiteLabelBrand.custom_domain == domain)
        )
        if owner is not None and owner != agency.id:
            raise Conflict(f"{domain} is used by another agency", code="domain_taken")
    brand = session.scalars(
        select(WhiteLabelBrand).where(WhiteLabelBrand.agency_id == agency.id)
    ).first()
    now = utcnow()
    if brand is None:
        brand = WhiteLabelBrand(agency_id=agency.id, created_at=now)
        session.add(brand)
    for name, value in values.items():
        setattr(brand, name, value)
    brand.updated_at = now
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="white_label.updated",
        subject_type="agency",
        subject_id=agency.id,
        origin=origin,
        data={k: v for k, v in values.items() if k != "custom_css"},
    )
    return brand


def get_branding(session: Session, agency_id: int) -> WhiteLabelBrand:
    brand = session.scalars(
        select(WhiteLabelBrand).where(WhiteLabelBrand.agency_id == agency_id)
    ).first()
    if brand is None:
        raise NotFound(f"agency {agency_id} has no white-label branding")
    return brand
