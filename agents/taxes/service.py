"""`tax_for_customer`: the tax decision for one customer, with its synced Stripe tax rate."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from agents.taxes.decision import TaxDecision, decide_tax
from agents.taxes.loader import taxes_of
from agents.taxes.profiles import tax_profile
from core.settings import Settings
from db.repositories.discounts import active_synced_objects

TAX_RATE_KIND = "tax_rate"


def tax_for_customer(
    session: Session, settings: Settings, customer_id: int, tax_code: str | None
) -> TaxDecision:
    """What tax `customer_id` pays on a product of `tax_code` (None: the default code)."""
    decision = decide_tax(taxes_of(settings), tax_profile(session, customer_id), tax_code)
    if decision.region is None or decision.rate is None:
        return decision
    synced = active_synced_objects(session, TAX_RATE_KIND, decision.region)
    if not synced:
        return decision
    return replace(decision, stripe_tax_rate_id=synced[-1].stripe_id)
