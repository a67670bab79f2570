"""The ledger agent: runs payout graphs and the daily invariant check of the journal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.context import AgentContext, TaskInfo
from agents.ledger_journal.check import check_ledger
from agents.notification.requests import notify
from agents.payouts.graph import advance_payout


def run_ledger_check(ctx: AgentContext, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Check the journal; on a mismatch the operators get one alert per scheduled run."""
    report = check_ledger(ctx.session)
    if not report.ok:
        differences = "\n".join(str(d) for d in report.differences[:10])
        notify(
            ctx,
            key=f"ledger_check:{payload.get('day') or 'manual'}",
            template="operator_alert",
            context={
                "title": "the ledger does not agree with itself or with Stripe",
                "detail": f"{report.summary()}\n\n{differences}\n\nRun: moneta ledger check",
            },
        )
    return report.as_dict()


HANDLERS: dict[str, Callable[[AgentContext, str, dict[str, Any]], dict[str, Any]]] = {
    "ledger.check": run_ledger_check,
    "payout.start": advance_payout,
    "payout.resume": advance_payout,
}


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    return HANDLERS[task.kind](ctx, task.kind, task.payload)
