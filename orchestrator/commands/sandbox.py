"""`moneta sandbox pay-checkout`: pay an offline sandbox checkout as its page's button does."""

from __future__ import annotations

import httpx
import typer

from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import fail
from orchestrator.sandbox_webhooks import WebhookRefused, deliver_events
from tools.stripe.checkout_sandbox import SandboxCheckoutCalls
from tools.stripe.gateway import StripeNotFound, StripeRequestError

app = typer.Typer(no_args_is_help=True)


@app.command("pay-checkout")
def pay_checkout(
    session_id: str = typer.Argument(..., help="The Checkout Session id (cs_test_...)"),
    url: str | None = typer.Option(None, help="Base URL of the running API (webhooks go there)"),
) -> None:
    """Pay with the test card and deliver Stripe's events; paying again changes nothing."""
    runtime = cli_runtime()
    settings = runtime.settings
    sandbox = runtime.tools["stripe"]
    runtime.close()
    if not settings.sandbox_mode or not isinstance(sandbox, SandboxCheckoutCalls):
        fail("Stripe is configured: checkouts are paid on Stripe's own page")
    try:
        paid = sandbox.pay_checkout_session(session_id)
    except (StripeNotFound, StripeRequestError) as error:
        fail(str(error))
    target = f"{(url or settings.effective_public_url).rstrip('/')}/webhooks/stripe"
    try:
        with httpx.Client(timeout=30) as client:
            deliver_events(client, target, paid.events, settings.webhook_secrets[0])
    except WebhookRefused as error:
        fail(f"paid, but not delivered: {error}; start `moneta up` and run this again")
    session = paid.session
    typer.echo(
        f"{session['id']} {session['status']} ({session['payment_status']}): "
        f"customer {session['customer']}, "
        + (f"subscription {session['subscription']}" if session.get("subscription") else "")
        + (f"payment {session['payment_intent']}" if session.get("payment_intent") else "")
    )
    typer.echo(f"{len(paid.events)} events delivered to {target}")
    if session.get("success_url"):
        typer.echo(f"success_url: {session['success_url']}")
