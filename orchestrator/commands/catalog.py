"""`moneta catalog validate|show`: check the catalog file; list its products and prices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agents.catalog.loader import CatalogError, load_catalog
from agents.catalog.models import (
    Catalog,
    PackagePrice,
    PerUnitPrice,
    Price,
    TieredGraduatedPrice,
    TieredVolumePrice,
)
from core.money import format_money
from orchestrator.commands.common import cli_settings
from orchestrator.commands.output import emit_json, emit_table

app = typer.Typer(no_args_is_help=True)
FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="Catalog YAML (default: MONETA_CATALOG, else the shipped one)"),
]


def _catalog(path: Path | None) -> Catalog:
    try:
        return load_catalog(path or cli_settings().catalog_file)
    except CatalogError as error:
        typer.secho(f"error: the catalog has {len(error.problems)} problem(s):", fg="red", err=True)
        for problem in error.problems:
            typer.secho(f"  {problem}", fg="red", err=True)
        raise typer.Exit(1) from None


@app.command("validate")
def validate_command(path: FileOption = None) -> None:
    """Check every product and price; exit 1 listing each problem by file, line and field."""
    catalog = _catalog(path)
    prices = sum(len(product.prices) for product in catalog.products)
    typer.echo(f"{catalog.source}: valid: {len(catalog.products)} products, {prices} prices")


@app.command("show")
def show_command(path: FileOption = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every price with its product, revenue model, amount and whether it is offered."""
    catalog = _catalog(path)
    if as_json:
        emit_json(catalog.model_dump(mode="json"))
        return
    offered = {price.key for price in catalog.offerable_prices()}
    rows = [
        _price_row(product.key, price, price.key in offered)
        for product in catalog.products
        for price in product.prices
    ]
    rows += [
        {"product": product.key, "price": "-", "model": "contact sales", "offered": True}
        for product in catalog.products
        if product.contact_sales
    ]
    columns = ("product", "price", "model", "amount", "interval", "lifecycle", "offered")
    emit_table(rows, columns, as_json=False)


def _price_row(product_key: str, price: Price, offered: bool) -> dict[str, Any]:
    return {
        "product": product_key,
        "price": price.key,
        "model": price.revenue_model,
        "amount": _amount(price),
        "interval": getattr(price, "interval", None),
        "lifecycle": price.lifecycle,
        "offered": offered,
    }


def _amount(price: Price) -> str:
    """The headline amount: money for whole minor units, minor units for fractional ones."""
    if isinstance(price, TieredGraduatedPrice | TieredVolumePrice):
        return f"{len(price.tiers)} tiers"
    if isinstance(price, PerUnitPrice):
        return f"{price.unit_amount} minor units {price.currency.upper()} each"
    money = format_money(price.unit_amount, price.currency)
    return f"{money} per {price.package_size}" if isinstance(price, PackagePrice) else money
