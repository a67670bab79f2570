"""The `approvals.expire` task: pending approvals past their deadline become expired."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agents.approvals import repository as repo
from agents.approvals.service import expire
from agents.context import AgentContext
from core.clock import utcnow


def expire_due_approvals(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Expire every overdue pending approval in the task's unit of work; report which."""

    def submit_here(
        session: Session, kind: str, payload: dict[str, Any], *, dedupe_key: str | None = None
    ) -> int | None:
        return ctx.submit(kind, payload, dedupe_key=dedupe_key)

    now = utcnow()
    expired = [
        approval.id
        for approval in repo.pending_due(ctx.session, now)
        if expire(ctx.session, approval, now=now, submit=submit_here)
    ]
    return {"expired": expired}
