"""Customers' tax profiles: set by an operator, read when a sale is taxed."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.taxes.decision import TaxProfile
from agents.taxes.vat_ids import EU_COUNTRIES, normalize_vat_id, valid_vat_id
from core.errors import InvalidInput, NotFound
from db.models import Customer, CustomerTaxProfile


def set_tax_profile(session: Session, customer_id: int, profile: TaxProfile) -> TaxProfile:
    """Create or replace `customer_id`'s profile after checking it; returns it normalized."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    clean = normalized_profile(profile)
    row = session.scalar(
        select(CustomerTaxProfile).where(CustomerTaxProfile.customer_id == customer_id)
    )
    if row is None:
        row = CustomerTaxProfile(customer_id=customer_id)
        session.add(row)
    row.country, row.state, row.postal_code = clean.country, clean.state, clean.postal_code
    row.vat_id, row.is_business = clean.vat_id, clean.is_business
    session.flush()
    return clean


def tax_profile(session: Session, customer_id: int) -> TaxProfile | None:
    row = session.scalar(
        select(CustomerTaxProfile).where(CustomerTaxProfile.customer_id == customer_id)
    )
    if row is None:
        return None
    return TaxProfile(row.country, row.state, row.postal_code, row.vat_id, row.is_business)


def normalized_profile(profile: TaxProfile) -> TaxProfile:
    """Upper-case codes; refuse a bad country, a US profile without state, a malformed VAT id."""
    country = profile.country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput(f"{profile.country!r} is not an ISO country code", code="bad_country")
    state = profile.state.strip().upper() if profile.state else None
    if country == "US" and (state is None or not re.fullmatch(r"[A-Z]{2}", state)):
        raise InvalidInput("a US tax profile needs a two-letter state", code="bad_state")
    vat_id = normalize_vat_id(profile.vat_id) if profile.vat_id else None
    if vat_id is not None:
        if country not in EU_COUNTRIES:
            raise InvalidInput("VAT ids are taken for EU countries only", code="bad_vat_id")
        if not valid_vat_id(vat_id, country):
            raise InvalidInput(
                f"{vat_id} is not the format of a {country} VAT id (format checked only: "
                "no VIES lookup is possible here)",
                code="bad_vat_id",
            )
    postal = profile.postal_code.strip() if profile.postal_code else None
    return TaxProfile(country, state, postal, vat_id, profile.is_business)
