"""The one error of the pricing engine: bad prices, quantities, periods or currency mixes."""

from __future__ import annotations

from core.errors import InvalidInput


class PricingError(InvalidInput):
    """Refused input, with a machine-readable `code` (e.g. `bad_tiers`, `currency_mismatch`)."""
