"""Operator config files on the CLI: load one (problems by file:line), put it on Stripe."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer

from agents.config_file import ConfigFileError
from agents.config_sync import SyncReport
from core.errors import MonetaError
from db.session import Database
from orchestrator.commands.common import cli_settings
from orchestrator.commands.output import emit_table, fail
from orchestrator.wiring import build_stripe
from tools.stripe.gateway import StripeGateway, StripeGatewayError, StripeRequestError

T = TypeVar("T")


def loaded(load: Callable[[], T]) -> T:
    """`load()`, or exit 1 listing every problem of the file it read."""
    try:
        return load()
    except ConfigFileError as error:
        typer.secho(f"error: {len(error.problems)} problem(s):", fg="red", err=True)
        for problem in error.problems:
            typer.secho(f"  {problem}", fg="red", err=True)
        raise typer.Exit(1) from None


def sync_to_stripe(sync: Callable[[Database, StripeGateway], SyncReport], *, as_json: bool) -> None:
    """Run `sync` against the configured Stripe (or sandbox) and print what it did."""
    settings = cli_settings()
    database = Database(settings.effective_database_url)
    gateway = build_stripe(settings)
    try:
        report = sync(database, gateway)
    except (StripeGatewayError, StripeRequestError) as error:
        fail(f"{error}; fix it and run the sync again to carry on")
    except MonetaError as error:
        fail(f"{error.message} ({error.code})")
    finally:
        database.dispose()
    rows = [vars(item) for item in report.items]
    emit_table(rows, ("kind", "key", "outcome", "stripe_id"), as_json=as_json)
    if not as_json:
        created = len(report.created())
        typer.echo(f"{gateway.label}: {created} created, {len(rows) - created} unchanged")
