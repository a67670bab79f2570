"""Taxes: EU VAT with reverse charge, US sales tax by state, product tax codes, or Stripe Tax.

`tax_for_customer` decides the rate for a customer's tax profile; `sync` creates the Stripe
tax rates invoices carry.
"""

from agents.taxes.decision import TaxDecision
from agents.taxes.service import tax_for_customer

__all__ = ["TaxDecision", "tax_for_customer"]
