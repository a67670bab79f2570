"""`moneta processes register|list|show|activate|pause|resume|retire|usage|stats`."""

from __future__ import annotations

import json

import typer

from agents.processes import service
from core.money import format_money
from orchestrator.commands.common import unit_of_work
from orchestrator.commands.output import emit_json, emit_table, fail

app = typer.Typer(no_args_is_help=True)

COLUMNS = ("id", "name", "status", "revenue_model", "currency", "usage_count", "owner_id")


@app.command("register")
def register_command(
    owner: str = typer.Option(..., help="The owner's id (created as a payee on first use)"),
    name: str = typer.Option(...),
    product_type: str = typer.Option(..., help="service, content, license or subscription"),
    revenue_model: str = typer.Option(..., help="fixed, usage_based, tiered or subscription"),
    pricing: str = typer.Option(..., help="JSON, e.g. '{\"unit_amount\": 10}' (minor units)"),
    currency: str = typer.Option("usd"),
    description: str = typer.Option(""),
    actor: str = typer.Option("cli", help="Who registers it, for the audit log"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a process in draft."""
    try:
        prices = json.loads(pricing)
    except json.JSONDecodeError as error:
        fail(f"--pricing is not JSON: {error}")
    if not isinstance(prices, dict):
        fail("--pricing must be a JSON object")
    with unit_of_work() as (_, session):
        view = service.process_view(
            service.register_process(
                session,
                owner_ref=owner,
                name=name,
                product_type=product_type,
                revenue_model=revenue_model,
                pricing=prices,
                currency=currency,
                description=description,
                actor=actor,
            )
        )
    if as_json:
        emit_json(view)
    else:
        typer.echo(f"process {view['id']} registered (draft): {view['name']}")


@app.command("list")
def list_command(
    status: str | None = typer.Option(None), as_json: bool = typer.Option(False, "--json")
) -> None:
    """List processes."""
    with unit_of_work() as (_, session):
        views = [service.process_view(p) for p in service.list_processes(session, status)]
    emit_table(views, COLUMNS, as_json=as_json)


@app.command("show")
def show_command(process_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One process with its statistics (uses, revenue, fees, payouts)."""
    with unit_of_work() as (_, session):
        view = service.process_stats(session, process_id)
    if as_json:
        emit_json(view)
        return
    for key in ("name", "status", "revenue_model", "pricing", "usage_count", "usage_quantity"):
        typer.echo(f"{key:>16}: {view[key]}")
    for key in ("revenue", "fees", "owner_share", "payouts"):
        typer.echo(f"{key:>16}: {format_money(view[key], view['currency'])}")


def _transition(process_id: int, action: str, actor: str, as_json: bool) -> None:
    with unit_of_work() as (_, session):
        view = service.process_view(service.change_status(session, process_id, action, actor=actor))
    if as_json:
        emit_json(view)
    else:
        typer.echo(f"process {process_id} is now {view['status']}")


def _lifecycle_command(action: str) -> None:
    def command(
        process_id: int,
        actor: str = typer.Option("cli", help="Who, for the audit log"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        _transition(process_id, action, actor, as_json)

    command.__doc__ = f"{action.capitalize()} a process (refused unless the lifecycle allows it)."
    app.command(action)(command)


for _action in ("activate", "pause", "resume", "retire"):
    _lifecycle_command(_action)


@app.command("usage")
def usage_command(
    process_id: int,
    user: str = typer.Option(..., help="Who used the process"),
    key: str = typer.Option(..., help="Idempotency key: the same key is charged once"),
    quantity: int = typer.Option(1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record usage of an active process; its owner's revenue accrues in the ledger."""
    with unit_of_work() as (runtime, session):
        view = service.usage_view(
            service.record_usage(
                session,
                process_id,
                quantity=quantity,
                user_ref=user,
                idempotency_key=key,
                settings=runtime.settings,
            )
        )
    if as_json:
        emit_json(view)
        return
    seen = " (seen before: not charged again)" if view["duplicate"] else ""
    typer.echo(
        f"usage {view['id']}: {format_money(view['gross'], view['currency'])}, "
        f"fee {format_money(view['fee'], view['currency'])}{seen}"
    )


@app.command("stats")
def stats_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Processes, active ones, revenue, fees and payouts per currency."""
    with unit_of_work() as (_, session):
        stats = service.overall_stats(session)
    if as_json:
        emit_json(stats)
        return
    typer.echo(f"processes: {stats['processes']} ({stats['active']} active)")
    for currency, money in sorted(stats["by_currency"].items()):
        parts = ", ".join(f"{k} {format_money(v, currency)}" for k, v in sorted(money.items()))
        typer.echo(f"  {currency.upper()}: {parts}")
