"""Stripe calls for coupons, promotion codes and tax rates (synced from operator config).

Only the protocol lives here, importing nothing of `tools.stripe`, so `gateway.py` can take it
as a base without an import cycle; `discount_client.py` and `discount_sandbox.py` implement it.
localstripe has coupons and tax rates (not their `max_redemptions`, `redeem_by`, `applies_to`,
`country` or `tax_type` parameters) but no promotion codes; the sandbox has all of them.
"""

from __future__ import annotations

from typing import Any, Protocol


class DiscountCalls(Protocol):
    def create_coupon(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """A coupon (`params` as Stripe takes them, `id` included), once per key."""
        ...

    def retrieve_coupon(self, coupon_id: str) -> dict[str, Any]:
        """One coupon; raises StripeNotFound."""
        ...

    def create_promotion_code(
        self, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """A customer-facing code for a coupon; Stripe refuses a second active one alike."""
        ...

    def deactivate_promotion_code(
        self, promotion_code_id: str, *, idempotency_key: str
    ) -> dict[str, Any]:
        """Switch a promotion code off (they cannot be deleted), once per key."""
        ...

    def create_tax_rate(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """A tax rate invoices can carry, once per key."""
        ...
