"""`moneta catalog validate|show|sync`: check the catalog file, list it, put it on Stripe."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from agents.catalog.loader import CatalogError, load_catalog
from agents.catalog.models import Catalog, Price
from agents.catalog.offers import headline
from agents.catalog.sync import plan_catalog_sync, sync_catalog
from agents.catalog.sync_plan import Step
from db.session import Database
from orchestrator.commands.common import cli_settings
from orchestrator.commands.output import emit_json, emit_table, fail
from orchestrator.wiring import build_stripe
from tools.stripe.gateway import StripeGatewayError

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


@app.command("sync")
def sync_command(
    path: FileOption = None,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; write nothing"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create or update the catalog's Stripe products and prices; archive what changed or left.

    Idempotent: a second run with an unchanged file reports everything unchanged.
    """
    catalog = _catalog(path)
    settings = cli_settings()
    database = Database(settings.effective_database_url)
    try:
        if dry_run:
            steps, target = plan_catalog_sync(database, catalog), "dry run, nothing written"
        else:
            gateway = build_stripe(settings)
            steps, target = sync_catalog(database, gateway, catalog).steps, gateway.label
    except StripeGatewayError as error:
        fail(f"{error}; run the sync again to carry on")
    finally:
        database.dispose()
    columns = ("kind", "key", "product", "outcome", "stripe_id", "note")
    emit_table([_step_row(step) for step in steps], columns, as_json=as_json)
    if not as_json:
        outcomes = Counter(step.outcome for step in steps)
        typer.echo(f"{target}: " + ", ".join(f"{n} {o}" for o, n in outcomes.items()))
    if failed := [step for step in steps if step.outcome == "failed"]:
        fail(f"{len(failed)} Stripe write(s) refused; see the notes above")


def _step_row(step: Step) -> dict[str, Any]:
    return {
        "kind": step.kind,
        "key": step.key,
        "product": step.product_key,
        "outcome": step.outcome,
        "stripe_id": step.stripe_id,
        "note": step.note,
    }


def _price_row(product_key: str, price: Price, offered: bool) -> dict[str, Any]:
    return {
        "product": product_key,
        "price": price.key,
        "model": price.revenue_model,
        "amount": headline(price),
        "interval": getattr(price, "interval", None),
        "lifecycle": price.lifecycle,
        "offered": offered,
    }
