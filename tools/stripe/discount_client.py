"""Coupons, promotion codes and tax rates over stripe-python (real Stripe or localstripe)."""

from __future__ import annotations

from typing import Any

from tools.stripe.client_base import ClientBase, translated_errors


class ClientDiscountCalls(ClientBase):
    def create_coupon(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        with translated_errors():
            coupon = self._client.v1.coupons.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return coupon.to_dict()

    def retrieve_coupon(self, coupon_id: str) -> dict[str, Any]:
        with translated_errors():
            return self._client.v1.coupons.retrieve(coupon_id).to_dict()

    def create_promotion_code(
        self, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        with translated_errors():
            code = self._client.v1.promotion_codes.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return code.to_dict()

    def deactivate_promotion_code(
        self, promotion_code_id: str, *, idempotency_key: str
    ) -> dict[str, Any]:
        with translated_errors():
            code = self._client.v1.promotion_codes.update(
                promotion_code_id, {"active": False}, {"idempotency_key": idempotency_key}
            )
        return code.to_dict()

    def create_tax_rate(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        with translated_errors():
            rate = self._client.v1.tax_rates.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return rate.to_dict()
