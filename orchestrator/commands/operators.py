"""`moneta operators create|list|disable|token`: the people who may use the console and /ops."""

from __future__ import annotations

import getpass
import sys

import typer

from core.errors import MonetaError
from db.repositories import operators as repo
from orchestrator.access import accounts
from orchestrator.access.credentials import totp_uri
from orchestrator.access.roles import ROLES
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_table, fail

app = typer.Typer(no_args_is_help=True)
CLI_ORIGIN = "cli"


def _actor() -> str:
    """CLI actions are audited under the shell user: whoever holds the database credentials."""
    return f"cli:{getpass.getuser()}"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("create")
def create_command(
    username: str,
    role: str = typer.Option("viewer", help=f"one of {', '.join(ROLES)}"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read it from stdin"),
    totp: bool = typer.Option(False, "--totp", help="require a one-time code at login"),
) -> None:
    """Create an operator; the first admin is made this way (`--role admin`)."""
    password = _read_password(password_stdin)
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            operator = accounts.create_operator(
                session,
                username=username,
                password=password,
                role=role,
                actor=_actor(),
                origin=CLI_ORIGIN,
                with_totp=totp,
            )
            secret = operator.totp_secret
            name = operator.username
    except MonetaError as exc:
        fail(exc.message)
    typer.echo(f"operator {name} created ({role})")
    if secret:
        typer.echo("add this to an authenticator app (shown once):")
        typer.echo(totp_uri(secret, name))


@app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Operators, their role, state and live API tokens."""
    runtime = cli_runtime()
    with runtime.database.transaction() as session:
        rows = [
            {
                "username": o.username,
                "role": o.role,
                "state": "disabled" if o.disabled_at else "active",
                "totp": bool(o.totp_secret),
                "last_login_at": o.last_login_at,
                "tokens": " ".join(
                    t.prefix for t in repo.tokens_of(session, o.id) if t.revoked_at is None
                ),
            }
            for o in repo.all_operators(session)
        ]
    emit_table(
        rows, ("username", "role", "state", "totp", "last_login_at", "tokens"), as_json=as_json
    )


@app.command("disable")
def disable_command(username: str) -> None:
    """Disable an operator: their sessions and tokens stop working at once."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            accounts.disable_operator(session, username, actor=_actor(), origin=CLI_ORIGIN)
    except MonetaError as exc:
        fail(exc.message)
    typer.echo(f"operator {username} disabled")


@app.command("token")
def token_command(
    username: str,
    role: str | None = typer.Option(None, help="narrower than the operator's role"),
    label: str | None = typer.Option(None, help="what the token is for"),
    revoke: str | None = typer.Option(None, help="revoke the token with this prefix instead"),
) -> None:
    """Issue an /ops API token (printed once), or revoke one by its prefix."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            if revoke:
                accounts.get_operator(session, username)
                accounts.revoke_token(session, revoke, actor=_actor(), origin=CLI_ORIGIN)
                secret = None
            else:
                _, secret = accounts.issue_token(
                    session, username, actor=_actor(), role=role, label=label, origin=CLI_ORIGIN
                )
    except MonetaError as exc:
        fail(exc.message)
    typer.echo(secret if secret else f"token {revoke} revoked")
