"""One validated, immutable price model per revenue model; amounts in minor units of `currency`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from agents.pricing.errors import PricingError
from agents.pricing.money import check_currency

Interval = Literal["month", "year"]
BlockRounding = Literal["up", "down"]


def _minor_amount(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PricingError(f"{name} must be integer minor units, got {value!r}", code="bad_price")
    if value < 0:
        raise PricingError(f"{name} must not be negative, got {value}", code="negative_price")


def _unit_amount(name: str, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise PricingError(f"{name} must be a finite Decimal, got {value!r}", code="bad_price")
    if value < 0:
        raise PricingError(f"{name} must not be negative, got {value}", code="negative_price")


@dataclass(frozen=True)
class _Priced:
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)


@dataclass(frozen=True)
class FixedPrice(_Priced):
    """A one-time charge of `unit_amount` per item (a setup fee, a token pack)."""

    unit_amount: int

    def __post_init__(self) -> None:
        super().__post_init__()
        _minor_amount("unit_amount", self.unit_amount)


@dataclass(frozen=True)
class RecurringPrice(_Priced):
    """`unit_amount` per item every `interval` (a subscription seat)."""

    unit_amount: int
    interval: Interval

    def __post_init__(self) -> None:
        super().__post_init__()
        _minor_amount("unit_amount", self.unit_amount)
        if self.interval not in ("month", "year"):
            raise PricingError(f"unknown interval {self.interval!r}", code="bad_interval")


@dataclass(frozen=True)
class PerUnitPrice(_Priced):
    """`unit_amount` (possibly a fraction of a minor unit) per unit of usage."""

    unit_amount: Decimal

    def __post_init__(self) -> None:
        super().__post_init__()
        _unit_amount("unit_amount", self.unit_amount)


@dataclass(frozen=True)
class Tier:
    """Units up to `up_to` (None: no bound) cost `unit_amount` each, plus `flat_amount` once."""

    up_to: int | None
    unit_amount: Decimal = Decimal(0)
    flat_amount: int = 0

    def __post_init__(self) -> None:
        if self.up_to is not None and (
            not isinstance(self.up_to, int) or isinstance(self.up_to, bool) or self.up_to < 1
        ):
            raise PricingError(
                f"tier up_to must be a positive integer, got {self.up_to!r}", code="bad_tiers"
            )
        _unit_amount("tier unit_amount", self.unit_amount)
        _minor_amount("tier flat_amount", self.flat_amount)


@dataclass(frozen=True)
class _TieredPrice(_Priced):
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_tiers(self.tiers)


@dataclass(frozen=True)
class TieredGraduatedPrice(_TieredPrice):
    """Each tier prices the units that fall inside it."""


@dataclass(frozen=True)
class TieredVolumePrice(_TieredPrice):
    """The tier the whole quantity reaches prices every unit."""


@dataclass(frozen=True)
class PackagePrice(_Priced):
    """`unit_amount` per block of `package_size` units; a partial block rounds `up` or `down`."""

    unit_amount: int
    package_size: int
    rounding: BlockRounding = "up"

    def __post_init__(self) -> None:
        super().__post_init__()
        _minor_amount("unit_amount", self.unit_amount)
        if not isinstance(self.package_size, int) or self.package_size < 1:
            raise PricingError(
                f"package_size must be a positive integer, got {self.package_size!r}",
                code="bad_package",
            )
        if self.rounding not in ("up", "down"):
            raise PricingError(f"unknown block rounding {self.rounding!r}", code="bad_package")


Price = (
    FixedPrice
    | RecurringPrice
    | PerUnitPrice
    | TieredGraduatedPrice
    | TieredVolumePrice
    | PackagePrice
)


def _check_tiers(tiers: tuple[Tier, ...]) -> None:
    """At least one tier, bounds strictly increasing, and only the last one open (`up_to=None`)."""
    if not isinstance(tiers, tuple) or not tiers:
        raise PricingError("a tiered price needs a non-empty tuple of tiers", code="bad_tiers")
    *bounded, last = tiers
    if last.up_to is not None:
        raise PricingError(
            f"the last tier must be open (up_to=None), got up_to={last.up_to}", code="bad_tiers"
        )
    previous = 0
    for index, tier in enumerate(bounded):
        if tier.up_to is None:
            raise PricingError(f"only the last tier may be open; tier {index} is", code="bad_tiers")
        if tier.up_to <= previous:
            raise PricingError(
                f"tier {index} up_to={tier.up_to} must exceed the previous bound {previous}",
                code="bad_tiers",
            )
        previous = tier.up_to
