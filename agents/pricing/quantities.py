"""What a billable quantity may be: a whole or decimal number of units, never negative or absurd."""

from __future__ import annotations

from decimal import Decimal

from agents.pricing.errors import PricingError

Quantity = int | Decimal
# A quadrillion units with at most 12 decimals keeps every Decimal subtraction exact (28 digits).
MAX_QUANTITY = 10**15
MAX_DECIMALS = 12


def check_quantity(quantity: Quantity, *, whole: bool = False) -> Quantity:
    """`quantity` if billable; `whole` for items sold by the piece (one-time items, seats)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int | Decimal):
        raise PricingError(
            f"quantity must be an int or Decimal, got {quantity!r}", code="bad_quantity"
        )
    if isinstance(quantity, Decimal) and not quantity.is_finite():
        raise PricingError(f"quantity must be finite, got {quantity}", code="bad_quantity")
    if quantity < 0:
        raise PricingError(f"quantity must not be negative, got {quantity}", code="bad_quantity")
    if quantity > MAX_QUANTITY:
        raise PricingError(f"quantity {quantity} exceeds {MAX_QUANTITY:,}", code="bad_quantity")
    if isinstance(quantity, Decimal):
        exponent = quantity.as_tuple().exponent
        assert isinstance(exponent, int)  # finite, checked above
        if exponent < -MAX_DECIMALS:
            raise PricingError(
                f"quantity {quantity} has more than {MAX_DECIMALS} decimals", code="bad_quantity"
            )
        if whole and quantity != quantity.to_integral_value():
            raise PricingError(f"quantity must be whole, got {quantity}", code="bad_quantity")
    return quantity
