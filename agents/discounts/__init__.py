"""Coupons and promotion codes: the operator's file, validation with reasons, redemptions, sync.

`validate_code` is what checkout and the customer API ask; redemptions are counted when
Stripe reports a code used (`stripe_events`); `sync` puts the file on Stripe.
"""

from agents.discounts.validation import CodeCheck, validate_code

__all__ = ["CodeCheck", "validate_code"]
