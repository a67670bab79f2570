"""`moneta apikeys create|list|revoke`: customers' API keys (the secret is shown once)."""

from __future__ import annotations

import getpass

import typer

from core.errors import MonetaError
from orchestrator.access.api_keys import (
    api_key_view,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_json, emit_table, fail

app = typer.Typer(no_args_is_help=True)

COLUMNS = ("prefix", "status", "label", "created_by", "created_at", "revoked_at")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@app.command("create")
def create_command(
    customer: int = typer.Option(..., help="Our customer id"),
    label: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a key; its secret is printed now and never again."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            new = create_api_key(session, customer, actor=_actor(), label=label, origin="cli")
            view = {**api_key_view(new.key), "secret": new.secret}
    except MonetaError as error:
        fail(error.message)
    finally:
        runtime.close()
    if as_json:
        emit_json(view)
        return
    typer.echo(f"API key {view['prefix']} for customer {customer}:")
    typer.echo(f"  {new.secret}")
    typer.echo("Store it now: it is not shown again.")


@app.command("list")
def list_command(
    customer: int = typer.Option(..., help="Our customer id"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The customer's keys (prefixes only), revoked ones included."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            views = [api_key_view(key) for key in list_api_keys(session, customer)]
    except MonetaError as error:
        fail(error.message)
    finally:
        runtime.close()
    emit_table(views, COLUMNS, as_json=as_json)


@app.command("revoke")
def revoke_command(prefix: str) -> None:
    """Revoke a key by its prefix (mck_...); it stops working within the key cache time."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            view = api_key_view(revoke_api_key(session, prefix, actor=_actor(), origin="cli"))
    except MonetaError as error:
        fail(error.message)
    finally:
        runtime.close()
    typer.echo(f"API key {view['prefix']} revoked")
