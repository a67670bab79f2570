"""`moneta tasks list|show|retry`."""

from __future__ import annotations

import typer

from core.errors import MonetaError
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_json, emit_table, fail
from orchestrator.relay import relay_once
from orchestrator.task_admin import get_task, list_tasks, retry_task, task_row

app = typer.Typer(no_args_is_help=True)

COLUMNS = ("id", "kind", "agent", "status", "attempts", "created_at", "last_error")


@app.command("list")
def list_command(
    status: str | None = typer.Option(None, help="pending, running, done or dead"),
    agent: str | None = typer.Option(None),
    kind: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List tasks, newest first."""
    runtime = cli_runtime()
    with runtime.database.transaction() as session:
        rows = [
            task_row(t)
            for t in list_tasks(session, status=status, agent=agent, kind=kind, limit=limit)
        ]
    emit_table(rows, COLUMNS, as_json=as_json)


@app.command("show")
def show_command(task_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one task with its payload, result and last error."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            row = task_row(get_task(session, task_id), full=True)
    except MonetaError as exc:
        fail(exc.message)
    if as_json:
        emit_json(row)
        return
    for key, value in row.items():
        typer.echo(f"{key:>13}: {value}")


@app.command("retry")
def retry_command(
    task_id: int,
    reason: str = typer.Option(..., help="Why it is safe to retry now"),
    operator: str = typer.Option(..., help="Who retries it (audit log)"),
) -> None:
    """Put a dead task back in the queue with a fresh attempt budget."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            retry_task(session, task_id, actor=operator, reason=reason)
    except MonetaError as exc:
        fail(exc.message)
    relay_once(runtime.database, runtime.transport, runtime.settings)
    typer.echo(f"task {task_id} queued again")
