"""The `moneta` command: assembles the sub-commands each area defines."""

from __future__ import annotations

import typer

from orchestrator.commands import (
    analytics,
    apikeys,
    approvals,
    approved_actions,
    catalog,
    checkout,
    copilot,
    discounts,
    dunning,
    invoices,
    ledger,
    operators,
    partners,
    payouts,
    policy,
    processes,
    sandbox,
    subscriptions,
    system,
    tasks,
    taxes,
    usage,
    wallet,
)

app = typer.Typer(no_args_is_help=True, help="Moneta: monetization run by agents, money by humans.")
system.register(app)
copilot.register(app)
app.add_typer(tasks.app, name="tasks", help="Inspect and retry tasks.")
app.add_typer(approvals.app, name="approvals", help="Decide pending money actions.")
approved_actions.register(approvals.app)
app.add_typer(approvals.refunds_app, name="refunds", help="Request refunds (approval-gated).")
app.add_typer(analytics.app, name="analytics", help="Daily metrics and backfills.")
app.add_typer(operators.app, name="operators", help="Operator accounts and API tokens.")
app.add_typer(partners.affiliates_app, name="affiliates", help="Affiliates and referrals.")
app.add_typer(partners.agencies_app, name="agencies", help="Agencies, clients, branding.")
app.add_typer(processes.app, name="processes", help="Monetized processes and their usage.")
app.add_typer(payouts.app, name="payouts", help="Payouts to payees (approval-gated).")
app.add_typer(ledger.app, name="ledger", help="The double-entry journal: balances, check.")
app.add_typer(usage.app, name="usage", help="Record, show and check metered usage.")
app.add_typer(apikeys.app, name="apikeys", help="Customers' API keys (shown once).")
app.add_typer(wallet.app, name="wallet", help="AI-token wallets; grants are approval-gated.")
app.add_typer(policy.app, name="policy", help="Validate and explain the access policy.")
app.add_typer(catalog.app, name="catalog", help="Validate and show the product catalog.")
app.add_typer(dunning.app, name="dunning", help="Dunning cases of unpaid invoices.")
app.add_typer(invoices.app, name="invoices", help="Mirrored invoices and the estimate.")
app.add_typer(checkout.app, name="checkout", help="Open Stripe Checkout for a catalog price.")
app.add_typer(discounts.app, name="discounts", help="Coupons and promotion codes: check, sync.")
app.add_typer(taxes.app, name="taxes", help="Tax rates, customers' tax profiles, quotes.")
app.add_typer(subscriptions.app, name="subscriptions", help="Preview and change subscriptions.")
app.add_typer(sandbox.app, name="sandbox", help="The offline Stripe sandbox: pay checkouts.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
