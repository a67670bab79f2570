"""Products and prices as typed, immutable values; one price model per revenue model."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import NotFound

Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$")]
Currency = Annotated[str, Field(pattern=r"^[a-z]{3}$")]
Lifecycle = Literal["draft", "active", "paused", "retired"]
ProductType = Literal["service", "content", "license", "subscription"]
Interval = Literal["month", "year"]
# Amounts are minor units of the price's currency; per-unit amounts may be fractions of one.
MinorUnits = Annotated[int, Field(ge=0)]
UnitAmount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _PriceBase(_Strict):
    key: Key
    currency: Currency
    lifecycle: Lifecycle = "active"
    nickname: str = ""


class _UsagePrice(_PriceBase):
    """A price of metered usage: `meter` names the metric, billed each `interval` if set."""

    meter: Key
    interval: Interval | None = None


class FixedPrice(_PriceBase):
    """A one-time charge (a token pack, a setup fee)."""

    revenue_model: Literal["fixed"]
    unit_amount: MinorUnits


class RecurringPrice(_PriceBase):
    """A subscription charge every `interval`."""

    revenue_model: Literal["recurring"]
    unit_amount: MinorUnits
    interval: Interval
    # Free days a first subscription starts with (one trial per customer); none by default.
    trial_days: Annotated[int, Field(ge=1, le=730)] | None = None


class PerUnitPrice(_UsagePrice):
    revenue_model: Literal["per_unit"]
    unit_amount: UnitAmount


class Tier(_Strict):
    """Units up to `up_to` (None: no upper bound) cost `unit_amount` each plus `flat_amount`."""

    up_to: Annotated[int, Field(ge=1)] | None
    unit_amount: UnitAmount = Decimal(0)
    flat_amount: MinorUnits = 0


class _TieredPrice(_UsagePrice):
    tiers: Annotated[tuple[Tier, ...], Field(min_length=1)]


class TieredGraduatedPrice(_TieredPrice):
    """Each tier prices the units that fall inside it."""

    revenue_model: Literal["tiered_graduated"]


class TieredVolumePrice(_TieredPrice):
    """The tier the total quantity reaches prices every unit."""

    revenue_model: Literal["tiered_volume"]


class PackagePrice(_UsagePrice):
    """`unit_amount` per block of `package_size` units; a partial block rounds up or down."""

    revenue_model: Literal["package"]
    unit_amount: MinorUnits
    package_size: Annotated[int, Field(ge=1)]
    rounding: Literal["up", "down"] = "up"


Price = Annotated[
    FixedPrice
    | RecurringPrice
    | PerUnitPrice
    | TieredGraduatedPrice
    | TieredVolumePrice
    | PackagePrice,
    Field(discriminator="revenue_model"),
]
REVENUE_MODELS = (
    "fixed",
    "per_unit",
    "tiered_graduated",
    "tiered_volume",
    "package",
    "recurring",
)


class Product(_Strict):
    """Something sold. `contact_sales` products (custom deals) carry no public price."""

    key: Key
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    type: ProductType
    lifecycle: Lifecycle = "active"
    contact_sales: bool = False
    # The plan every customer holds without a paying subscription: features and limits, no price.
    free_plan: bool = False
    # Stripe's product tax code (`txcd_...`); must be one of the tax file's `tax_codes`.
    tax_code: Annotated[str, Field(pattern=r"^txcd_\d{8}$")] | None = None
    features: dict[str, bool] = Field(default_factory=dict)
    limits: dict[str, Annotated[int, Field(ge=0)] | None] = Field(default_factory=dict)
    prices: tuple[Price, ...] = ()

    def offerable_prices(self) -> tuple[Price, ...]:
        """Prices a new customer may buy: active prices of an active product."""
        if self.lifecycle != "active":
            return ()
        return tuple(p for p in self.prices if p.lifecycle == "active")


class Catalog(_Strict):
    """The validated catalog; keys of products and of prices are each unique."""

    products: tuple[Product, ...]
    source: str

    def product(self, key: str) -> Product:
        for product in self.products:
            if product.key == key:
                return product
        raise NotFound(f"unknown product {key!r}", code="unknown_product")

    def price(self, key: str) -> Price:
        """The price named `key` whatever its lifecycle: existing subscriptions keep theirs."""
        return self._find_price(key)[1]

    def product_of(self, price_key: str) -> Product:
        return self._find_price(price_key)[0]

    def offerable_prices(self) -> tuple[Price, ...]:
        """Every price a new customer may buy, in file order."""
        return tuple(p for product in self.products for p in product.offerable_prices())

    def _find_price(self, key: str) -> tuple[Product, Price]:
        for product in self.products:
            for price in product.prices:
                if price.key == key:
                    return product, price
        raise NotFound(f"unknown price {key!r}", code="unknown_price")
