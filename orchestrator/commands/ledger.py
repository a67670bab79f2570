"""`moneta ledger balances|entries|check`: the double-entry journal, read and proven sound."""

from __future__ import annotations

import typer

from agents.ledger_journal.balances import balances, list_entries
from agents.ledger_journal.check import check_ledger
from agents.ledger_journal.views import entry_view
from core.money import format_money
from orchestrator.commands.common import unit_of_work
from orchestrator.commands.output import emit_json, emit_table

app = typer.Typer(no_args_is_help=True)


@app.command("balances")
def balances_command(
    account: str | None = typer.Option(None, help="e.g. owner_payable"),
    party: str | None = typer.Option(None, help="e.g. owner:alice"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Balances derived from the postings, as each account's side reads them."""
    with unit_of_work() as (_, session):
        rows = [
            {
                "account": b.account,
                "party": b.party,
                "currency": b.currency,
                "balance": b.balance,
                "shown": format_money(b.balance, b.currency),
            }
            for b in balances(session, account=account, party=party)
        ]
    if as_json:
        emit_json([{k: v for k, v in row.items() if k != "shown"} for row in rows])
    else:
        emit_table(rows, ("account", "party", "shown"), as_json=False)


@app.command("entries")
def entries_command(
    kind: str | None = typer.Option(None, help="payment, refund, usage, payout, ..."),
    party: str | None = typer.Option(None),
    limit: int = typer.Option(50),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Journal entries with their postings, newest first."""
    with unit_of_work() as (_, session):
        views = [
            entry_view(session, e)
            for e in list_entries(session, kind=kind, party=party, limit=limit)
        ]
    if as_json:
        emit_json(views)
        return
    for view in views:
        typer.echo(f"#{view['id']} {view['kind']} {view['dedupe_key']}  {view['occurred_at']}")
        for p in view["postings"]:
            side = "Dr" if p["amount"] > 0 else "Cr"
            amount = format_money(abs(p["amount"]), p["currency"])
            typer.echo(f"    {side} {p['account']:<20} {p['party'] or '-':<24} {amount}")


@app.command("check")
def check_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Prove every entry balances and the ledger agrees with payments, refunds and payouts."""
    with unit_of_work() as (_, session):
        report = check_ledger(session)
    if as_json:
        emit_json(report.as_dict())
    else:
        typer.echo(report.summary())
        for difference in report.differences:
            typer.echo(f"  {difference}")
    if not report.ok:
        raise typer.Exit(1)
