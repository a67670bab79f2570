"""The `moneta` command: assembles the sub-commands each area defines."""

from __future__ import annotations

import typer

from orchestrator.commands import analytics, approvals, copilot, operators, system, tasks

app = typer.Typer(no_args_is_help=True, help="Moneta: monetization run by agents, money by humans.")
system.register(app)
copilot.register(app)
app.add_typer(tasks.app, name="tasks", help="Inspect and retry tasks.")
app.add_typer(approvals.app, name="approvals", help="Decide pending money actions.")
app.add_typer(approvals.refunds_app, name="refunds", help="Request refunds (approval-gated).")
app.add_typer(analytics.app, name="analytics", help="Daily metrics and backfills.")
app.add_typer(operators.app, name="operators", help="Operator accounts and API tokens.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
