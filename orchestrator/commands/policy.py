"""`moneta policy validate|explain`: check a policy file; show how a request is decided."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agents.access.engine import PolicyEngine, UserContext
from agents.access.policy import PolicyError, load_policy
from core.errors import MonetaError
from orchestrator.commands.common import cli_settings
from orchestrator.commands.output import emit_json, emit_table, fail

app = typer.Typer(no_args_is_help=True)
FILE_HELP = "Policy YAML (default: MONETA_POLICY, else the shipped policy)"


def _engine(path: Path | None) -> PolicyEngine:
    try:
        return PolicyEngine(load_policy(path or cli_settings().policy))
    except PolicyError as error:
        typer.secho(f"error: {error.message.split(': ', 1)[0]} is invalid:", fg="red", err=True)
        for problem in error.problems:
            typer.secho(f"  - {problem}", fg="red", err=True)
        raise typer.Exit(1) from None


@app.command("validate")
def validate_command(path: Annotated[Path | None, typer.Argument(help=FILE_HELP)] = None) -> None:
    """Load and compile the file; list every problem, each naming its rule, asset or bundle."""
    engine = _engine(path)
    policy = engine.policy
    typer.echo(
        f"{policy.source}: valid: {len(policy.rules)} rules, {len(policy.assets)} assets, "
        f"{len(policy.bundles)} bundles"
    )
    for rule in policy.rules:
        outcome = "allow" if rule.outcome.allow else f"deny ({rule.outcome.reason})"
        typer.echo(f"  {rule.priority:>5}  {rule.id}: {outcome}")


@app.command("explain")
def explain_command(
    asset: str = typer.Option(..., help="Asset id from the registry"),
    action: str = typer.Option(..., help="read, download, execute or derive"),
    tier: str = typer.Option("free", help="The user's plan"),
    balance: int = typer.Option(0, help="The user's token balance"),
    entitlement: Annotated[
        list[str] | None, typer.Option(help="A feature the user holds (repeatable)")
    ] = None,
    path: Annotated[Path | None, typer.Option("--file", help=FILE_HELP)] = None,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Which rule decides for this user, asset and action, and why each other rule did not."""
    engine = _engine(path)
    user = UserContext(tier, balance, frozenset(entitlement or ()))
    try:
        decision = engine.decide(user, [asset], action)
        traces = engine.explain(user, asset, action)
    except MonetaError as error:
        fail(error.message)
    rows = [
        {
            "priority": t.priority,
            "rule": t.rule_id,
            "verdict": t.verdict,
            "why": "; ".join(t.failed) or ("condition holds" if t.verdict == "decided" else ""),
        }
        for t in traces
    ]
    if as_json:
        emit_json(
            {"decision": decision.__dict__ | {"bundles": list(decision.bundles)}, "rules": rows}
        )
        return
    verdict = "allowed" if decision.allowed else f"denied ({decision.reason})"
    cost = f", costs {decision.cost} tokens" if decision.cost else ""
    typer.echo(
        f"{action} {asset} as {tier} with {balance} tokens: {verdict} by {decision.rule_id}{cost}"
    )
    emit_table(rows, ("priority", "rule", "verdict", "why"), as_json=False)
