"""`moneta ask "..."`: the operator copilot from the shell (proposals only, never execution)."""

from __future__ import annotations

import getpass

import typer

from agents.copilot.service import CopilotAnswer, ask
from core.errors import MonetaError
from core.money import format_money as money
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_json, fail
from orchestrator.outbox import submit
from tools.llm.factory import model_from


def ask_command(
    request: str = typer.Argument(..., help='What you want, in plain words: "refund ..."'),
    thread: str | None = typer.Option(None, "--thread", help="Continue this conversation"),
    operator: str = typer.Option(getpass.getuser(), help="Who asks (cannot approve it too)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ask the copilot; actions it proposes wait in `moneta approvals list` for a human."""
    runtime = cli_runtime()
    try:
        answer = ask(
            runtime.database,
            runtime.settings,
            text=request,
            operator=operator,
            submit=submit,
            model=model_from(runtime.tools, runtime.settings),
            checkpointer_factory=runtime.tools["checkpointer_factory"],
            thread_id=thread,
        )
    except MonetaError as error:
        fail(error.message)
    finally:
        runtime.close()
    if as_json:
        emit_json(answer.as_dict())
    else:
        _print_answer(answer)


def _print_answer(answer: CopilotAnswer) -> None:
    if answer.notice:
        typer.echo(f"({answer.notice})")
    typer.echo(answer.reply)
    for p in answer.proposals:
        amount = money(p["amount"], p["currency"]) if p["currency"] != "xxx" else "-"
        typer.echo(
            f"  proposed: approval {p['approval_id']} {p['action']} {amount} on {p['subject']}, "
            f"pending {p['required_approvals']} approver(s)"
        )
    typer.echo(f"[thread {answer.thread_id}; source {answer.source}]")


def register(app: typer.Typer) -> None:
    app.command("ask")(ask_command)
