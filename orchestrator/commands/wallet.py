"""`moneta wallet show|grant`: read a customer's token wallet; ask for a grant (approval-gated)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import typer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agents.wallet import ledger
from agents.wallet.approvals import request_grant
from agents.wallet.service import TokenWallet
from core.clock import utcnow
from core.errors import MonetaError, NotFound
from core.money import format_money as money
from db.models import Customer
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_json, emit_table, fail
from orchestrator.outbox import submit
from orchestrator.wiring import Runtime

app = typer.Typer(no_args_is_help=True)
HISTORY_COLUMNS = ("at", "type", "tokens", "kind", "reference")


@contextmanager
def _runtime() -> Iterator[Runtime]:
    """The configured runtime; business errors become one clear line."""
    runtime = cli_runtime()
    try:
        yield runtime
    except MonetaError as error:
        fail(error.message)
    finally:
        runtime.close()


def customer_id_of(session: Session, reference: str) -> int:
    """Our customer id, from our id or a Stripe customer id."""
    matches = [Customer.stripe_customer_id == reference]
    if reference.isdigit():
        matches.append(Customer.id == int(reference))
    found = session.scalar(select(Customer.id).where(or_(*matches)))
    if found is None:
        raise NotFound(f"no customer {reference!r} (our id or Stripe customer id)")
    return int(found)


@app.command("show")
def show_command(
    customer: str = typer.Argument(..., help="Our customer id or Stripe customer id"),
    limit: int = typer.Option(20, min=1, max=1000, help="History entries to show"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Balance, tokens used per feature and recent history of one customer."""
    with _runtime() as runtime:
        with runtime.database.transaction() as session:
            customer_id = customer_id_of(session, customer)
        balance = TokenWallet(runtime.database, runtime.redis, runtime.settings).balance(
            customer_id
        )
        with runtime.database.transaction() as session:
            used = ledger.usage_by_feature(session, customer_id)
            entries = ledger.history(session, customer_id, limit)
    if as_json:
        emit_json(
            {"customer_id": customer_id, "balance": balance, "used": used, "history": entries}
        )
        return
    typer.echo(f"customer {customer_id}: {balance:,} tokens")
    for feature, tokens in sorted(used.items()):
        typer.echo(f"  used by {feature}: {tokens:,}")
    rows = [{**e, "kind": e.get("kind") or e.get("source")} for e in entries]
    emit_table(rows, HISTORY_COLUMNS, as_json=False)


@app.command("grant")
def grant_command(
    customer: str = typer.Argument(..., help="Our customer id or Stripe customer id"),
    tokens: int = typer.Option(..., min=1, help="Tokens to grant"),
    reason: str = typer.Option(..., help="Why the customer gets them"),
    requested_by: str = typer.Option(..., help="Who asks (cannot approve it too)"),
    expires_in_days: int | None = typer.Option(None, min=1, help="Grant lapses after N days"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ask for a token grant: a credit, so it waits for another operator's approval."""
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    with _runtime() as runtime, runtime.database.transaction() as session:
        approval = request_grant(
            session,
            customer_id=customer_id_of(session, customer),
            tokens=tokens,
            reason=reason,
            requested_by=requested_by,
            submit=submit,
            settings=runtime.settings,
            expires_at=expires,
            origin="cli",
        )
        answer = {
            "approval_id": approval.id,
            "status": approval.status,
            "tokens": tokens,
            "value": money(approval.amount, approval.currency),
            "required_approvals": approval.required_approvals,
        }
    if as_json:
        emit_json(answer)
        return
    typer.echo(
        f"approval {answer['approval_id']} pending: grant of {tokens:,} tokens "
        f"(worth {answer['value']}) needs {answer['required_approvals']} approver(s); "
        f"`moneta approvals approve {answer['approval_id']}` to credit it"
    )
