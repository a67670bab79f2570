"""The Stripe calls of the catalog sync and checkout: products, prices (or Plans), customers.

Only the protocol lives here, importing nothing of `tools.stripe`, so `gateway.py` can take it
as a base without an import cycle; `catalog_client.py` and `catalog_sandbox.py` implement it.
Prices take the Prices API shape everywhere.
"""

from __future__ import annotations

from typing import Any, Protocol


class CatalogCalls(Protocol):
    def create_product(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Create a product (`name`, `description`, `metadata`, `active`), once per key."""
        ...

    def update_product(
        self, product_id: str, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """Change a product's mutable fields; raises StripeNotFound for an unknown id."""
        ...

    def create_price(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Create a price (Prices API params); a Plan where the server has no Prices."""
        ...

    def update_price(
        self, price_id: str, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """Change a price's `active`, `nickname` or `metadata` (a Plan's where need be)."""
        ...

    def create_customer(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Create a customer (`email`, `name`, `metadata`), once per key."""
        ...
