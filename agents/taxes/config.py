"""Tax configuration as the operator writes it (`taxes.yaml`): regions, rates, product codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
UsState = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
TaxCodeKey = Annotated[str, Field(pattern=r"^txcd_\d{8}$")]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=4, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaxCode(_Strict):
    """A product tax code (Stripe's `txcd_...`); an exempt one is never taxed."""

    name: Annotated[str, Field(min_length=1)]
    exempt: bool = False


class EuVat(_Strict):
    """Standard VAT rate per EU member state; `inclusive` when prices already contain VAT."""

    inclusive: bool = False
    rates: dict[Country, Percent]


class UsSalesTax(_Strict):
    """Rates of the states where the seller collects; every other state is untaxed, and why."""

    inclusive: bool = False
    rates: dict[UsState, Percent] = Field(default_factory=dict)
    untaxed: dict[UsState, str] = Field(default_factory=dict)  # state -> reason
    otherwise: str = "no sales tax registration in this state"


class TaxConfig(_Strict):
    """The validated file. `stripe_automatic` hands every computation to Stripe Tax."""

    tax_mode: Literal["manual", "stripe_automatic"] = "manual"
    seller_country: Country
    tax_codes: dict[TaxCodeKey, TaxCode]
    default_tax_code: TaxCodeKey | None = None
    eu_vat: EuVat
    us_sales_tax: UsSalesTax = UsSalesTax()
    source: str = "<text>"
