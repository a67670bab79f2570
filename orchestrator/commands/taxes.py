"""`moneta taxes validate|show|sync|quote|profile`: the tax file and customers' tax profiles."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from agents.pricing.money import Money
from agents.pricing.taxes import TaxRate, apply_tax
from agents.taxes.config import TaxConfig
from agents.taxes.decision import REVERSE_CHARGE_REGION, TaxProfile
from agents.taxes.loader import load_taxes
from agents.taxes.profiles import set_tax_profile, tax_profile
from agents.taxes.service import TAX_RATE_KIND, tax_for_customer
from agents.taxes.sync import sync_tax_rates
from core.errors import MonetaError
from core.money import format_money, parse_amount
from db.repositories.discounts import active_synced_objects
from orchestrator.commands.common import cli_settings, unit_of_work
from orchestrator.commands.config_files import loaded, sync_to_stripe
from orchestrator.commands.output import emit_json, emit_table, fail

app = typer.Typer(no_args_is_help=True)
profile_app = typer.Typer(no_args_is_help=True)
app.add_typer(profile_app, name="profile", help="Customers' tax profiles.")
FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="Tax YAML (default: MONETA_TAXES, else the shipped one)"),
]


def _taxes(path: Path | None) -> TaxConfig:
    settings = cli_settings()
    return loaded(lambda: load_taxes(path or settings.tax_file, settings.catalog_file))


@app.command("validate")
def validate_command(path: FileOption = None) -> None:
    """Check the tax file, and the catalog's product tax codes against it."""
    config = _taxes(path)
    typer.echo(
        f"{config.source}: valid: mode {config.tax_mode}, seller in {config.seller_country}, "
        f"{len(config.eu_vat.rates)} EU VAT rates, {len(config.us_sales_tax.rates)} US states"
    )


@app.command("show")
def show_command(path: FileOption = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every rate by region, inclusive or not, with its Stripe tax rate id once synced."""
    config = _taxes(path)
    us = config.us_sales_tax
    rows: list[dict[str, Any]] = [
        {"region": c, "tax": "VAT", "percent": p, "inclusive": config.eu_vat.inclusive}
        for c, p in sorted(config.eu_vat.rates.items())
    ]
    rows.append({"region": REVERSE_CHARGE_REGION, "tax": "VAT", "percent": Decimal(0)})
    rows += [
        {"region": f"US-{s}", "tax": "sales tax", "percent": p, "inclusive": us.inclusive}
        for s, p in sorted(us.rates.items())
    ]
    rows += [
        {"region": f"US-{s}", "tax": "none", "percent": Decimal(0), "note": reason}
        for s, reason in sorted(us.untaxed.items())
    ]
    with unit_of_work() as (_, session):
        for row in rows:
            synced = active_synced_objects(session, TAX_RATE_KIND, row["region"])
            row["stripe_id"] = synced[-1].stripe_id if synced else None
    if not as_json:
        typer.echo(f"mode: {config.tax_mode}; seller country: {config.seller_country}")
    emit_table(
        rows, ("region", "tax", "percent", "inclusive", "stripe_id", "note"), as_json=as_json
    )


@app.command("sync")
def sync_command(path: FileOption = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """Create the Stripe tax rates that are missing or changed (a second run creates none)."""
    config = _taxes(path)
    sync_to_stripe(
        lambda database, gateway: sync_tax_rates(database, gateway, config), as_json=as_json
    )


@app.command("quote")
def quote_command(
    customer: int = typer.Option(..., "--customer"),
    amount: str = typer.Option(..., "--amount", help="e.g. 99.00, in --currency"),
    currency: str = typer.Option("usd", "--currency"),
    tax_code: str | None = typer.Option(None, "--tax-code", help="Default: the file's default"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The tax a customer pays on an amount: rate, reason, net, tax and gross."""
    currency = currency.lower()
    try:
        money = Money(parse_amount(amount, currency), currency)
    except MonetaError as error:
        fail(f"{error.message} ({error.code})")
    with unit_of_work() as (runtime, session):
        decision = tax_for_customer(session, runtime.settings, customer, tax_code)
    taxed = apply_tax(money, decision.rate or TaxRate(Decimal(0)))
    row = {
        "reason": decision.reason,
        "detail": decision.detail,
        "percent": decision.rate.percent if decision.rate else None,
        "reverse_charge": decision.reverse_charge,
        "automatic": decision.automatic,
        "net": None if decision.automatic else format_money(taxed.net.amount, currency),
        "tax": None if decision.automatic else format_money(taxed.tax.amount, currency),
        "gross": None if decision.automatic else format_money(taxed.gross.amount, currency),
    }
    if as_json:
        emit_json(row)
        return
    emit_table([row], tuple(row), as_json=False)


@profile_app.command("set")
def profile_set_command(
    customer: int = typer.Option(..., "--customer"),
    country: str = typer.Option(..., "--country", help="ISO code, e.g. DE, US"),
    state: str | None = typer.Option(None, "--state", help="US state, e.g. CA"),
    postal_code: str | None = typer.Option(None, "--postal-code"),
    vat_id: str | None = typer.Option(None, "--vat-id", help="EU VAT id (format-checked only)"),
    business: bool = typer.Option(False, "--business/--consumer"),
) -> None:
    """Set where and as what a customer is taxed (replaces the earlier profile)."""
    wanted = TaxProfile(country, state, postal_code, vat_id, business)
    with unit_of_work() as (_, session):
        saved = set_tax_profile(session, customer, wanted)
    kind = "business" if saved.is_business else "consumer"
    where = f"{saved.country}{'-' + saved.state if saved.state else ''}"
    typer.echo(f"customer {customer}: {kind} in {where}, VAT id {saved.vat_id or '-'}")


@profile_app.command("show")
def profile_show_command(customer: int = typer.Option(..., "--customer")) -> None:
    with unit_of_work() as (_, session):
        profile = tax_profile(session, customer)
    if profile is None:
        fail(f"customer {customer} has no tax profile")
    emit_json(vars(profile))
