"""The relay: re-publish tasks that are due but may not be in Redis (lost push, flush,
retry backoff over, lease of a dead worker expired).

A task published a while ago and still pending is usually just waiting in a long stream: while
its agent's stream still holds undelivered messages, the relay leaves such tasks alone, so a
backlog is not doubled exactly when the system is behind. Once the stream is drained (or lost
with a Redis flush or restart), whatever is still pending is sent again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from core.clock import utcnow
from core.settings import Settings
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.routes import ROUTES
from orchestrator.transport import StreamTransport


def relay_once(
    database: Database, transport: StreamTransport, settings: Settings, *, limit: int = 5000
) -> int:
    """Publish one batch of due tasks; returns how many were published."""
    now = utcnow()
    stale = now - timedelta(seconds=settings.relay_republish_after_seconds)
    queued = [agent for agent, n in transport.backlog(set(ROUTES.values())).items() if n > 0]
    due = or_(
        and_(
            Task.status == TaskStatus.PENDING,
            Task.available_at <= now,
            or_(
                Task.published_at.is_(None),
                and_(Task.published_at < stale, Task.agent.not_in(queued)),
            ),
        ),
        and_(
            Task.status == TaskStatus.RUNNING,
            Task.lease_until < now,
            or_(Task.published_at.is_(None), Task.published_at < stale),
        ),
    )
    with database.transaction() as session:
        rows = session.execute(
            select(Task.id, Task.agent).where(due).order_by(Task.id).limit(limit)
        ).all()
        if not rows:
            return 0
        ids = [r.id for r in rows]
        session.execute(update(Task).where(Task.id.in_(ids)).values(published_at=now))
    transport.publish((r.agent, r.id) for r in rows)
    return len(rows)


def relay_all(database: Database, transport: StreamTransport, settings: Settings) -> int:
    """Relay until nothing is due (used by tests and after a Redis loss)."""
    total = 0
    while (n := relay_once(database, transport, settings)) > 0:
        total += n
    return total
