"""`moneta checkout create`: open a Stripe Checkout Session for a customer and print its URL."""

from __future__ import annotations

from typing import Annotated

import typer

from agents.checkout.rules import CheckoutRequest
from agents.checkout.service import start_checkout
from orchestrator.commands.common import unit_of_work
from orchestrator.commands.output import emit_json

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create_command(
    customer: Annotated[int, typer.Option("--customer", help="Moneta customer id")],
    price: Annotated[str, typer.Option("--price", help="Catalog price key, e.g. pro_monthly")],
    quantity: Annotated[int, typer.Option("--quantity")] = 1,
    promotion_code: Annotated[str | None, typer.Option("--promotion-code")] = None,
    trial_days: Annotated[
        int | None, typer.Option("--trial-days", help="Override the price's trial (0: none)")
    ] = None,
    request_key: Annotated[
        str | None, typer.Option("--request-key", help="Same key, same session (retries)")
    ] = None,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate the purchase (price on offer, currency, one trial per customer) and open it."""
    request = CheckoutRequest(
        customer_id=customer,
        price_key=price,
        quantity=quantity,
        promotion_code=promotion_code,
        trial_days=trial_days,
        request_key=request_key,
    )
    with unit_of_work() as (runtime, session):
        started = start_checkout(session, runtime.tools["stripe"], runtime.settings, request)
    if as_json:
        emit_json(started.__dict__)
        return
    trial = f", {started.trial_days}-day trial" if started.trial_days else ""
    typer.echo(f"{started.mode} checkout {started.session_id} for {started.price_key}{trial}")
    typer.echo(started.url or "(Stripe returned no URL)")
