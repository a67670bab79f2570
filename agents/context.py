"""What an agent is handed for one task. Built by the orchestrator; agents import only this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from core.settings import Settings
from db.session import Database
from tools.email.mailer import Mailer
from tools.stripe.gateway import StripeGateway


class Submit(Protocol):
    """Hand work to another agent, inside the current transaction (published after commit)."""

    def __call__(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        dedupe_key: str | None = None,
        available_at: datetime | None = None,
    ) -> int | None: ...


@dataclass(frozen=True)
class TaskInfo:
    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int


@dataclass
class AgentContext:
    """Session of the task's unit of work (commits with `done`), and the tools."""

    session: Session
    database: Database
    settings: Settings
    stripe: StripeGateway
    mailer: Mailer
    submit: Submit
    checkpointer_factory: Callable[[], Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


AgentHandler = Callable[[AgentContext, TaskInfo], dict[str, Any] | None]
