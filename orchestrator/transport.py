"""Redis Streams transport: one stream and one consumer group per agent.

Only task ids travel through Redis; the task row in the database is the truth, so a lost
or duplicated message costs a re-publish or a failed conditional claim, never work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis
import redis.asyncio as aredis

log = logging.getLogger(__name__)

Message = tuple[str, str, int]  # (agent, stream message id, task id)


class StreamTransport:
    def __init__(self, client: redis.Redis, prefix: str = "moneta") -> None:
        self.redis = client
        self.prefix = prefix
        self._groups_ready: set[str] = set()

    def stream(self, agent: str) -> str:
        return f"{self.prefix}:stream:{{{agent}}}"

    def group(self, agent: str) -> str:
        return f"{self.prefix}:group:{agent}"

    def ensure_group(self, agent: str) -> None:
        try:
            self.redis.xgroup_create(self.stream(agent), self.group(agent), id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups_ready.add(agent)

    def publish(self, items: Iterable[tuple[str, int]]) -> None:
        """XADD each (agent, task id); one round trip for the lot."""
        pipe = self.redis.pipeline(transaction=False)
        if self._add_each(pipe, items):
            pipe.execute()

    async def publish_in_loop(self, client: aredis.Redis, items: Iterable[tuple[str, int]]) -> None:
        """`publish`, awaited in the event loop on `client` (an asyncio client of this
        transport's Redis, `orchestrator.loop_redis`)."""
        pipe = client.pipeline(transaction=False)
        if self._add_each(pipe, items):
            await pipe.execute()

    def _add_each(self, pipe: Any, items: Iterable[tuple[str, int]]) -> int:
        """Queue an XADD per (agent, task id) on `pipe`; how many."""
        count = 0
        for agent, task_id in items:
            pipe.xadd(self.stream(agent), {"t": str(task_id)})
            count += 1
        return count

    def read(
        self, agents: list[str], consumer: str, *, count: int = 10, block_ms: int = 1000
    ) -> list[Message]:
        """New messages for this consumer across the agents' streams.

        One pipelined, non-blocking XREADGROUP per stream first (one round trip for all); only
        when every stream is empty does it wait, stream by stream (a blocking XREADGROUP
        serves one group), returning as soon as one delivers. Blocking on each stream in turn
        while others had work cost a busy multi-agent worker up to `block_ms` per read.
        """
        for agent in agents:
            if agent not in self._groups_ready:
                self.ensure_group(agent)
        pipe = self.redis.pipeline(transaction=False)
        for agent in agents:
            pipe.xreadgroup(self.group(agent), consumer, {self.stream(agent): ">"}, count=count)
        messages: list[Message] = []
        for agent, reply in zip(agents, pipe.execute(raise_on_error=False), strict=True):
            messages.extend(self._messages(agent, reply))
        if messages or block_ms <= 0:
            return messages
        wait_ms = max(1, block_ms // len(agents))
        for agent in agents:
            try:
                reply = self.redis.xreadgroup(
                    self.group(agent),
                    consumer,
                    {self.stream(agent): ">"},
                    count=count,
                    block=wait_ms,
                )
            except redis.ResponseError as exc:
                reply = exc
            if messages := self._messages(agent, reply):
                return messages
        return []

    def _messages(self, agent: str, reply: Any) -> list[Message]:
        """The messages of one XREADGROUP reply; a missing group (Redis flushed or restarted)
        is recreated and yields none, any other error is raised."""
        if isinstance(reply, redis.ResponseError):
            if "NOGROUP" not in str(reply):
                raise reply
            self._groups_ready.discard(agent)
            self.ensure_group(agent)
            return []
        return _parse(agent, reply)

    def autoclaim(
        self, agent: str, consumer: str, *, min_idle_ms: int, count: int = 50
    ) -> list[Message]:
        """Take over messages that a dead consumer read but never acknowledged."""
        try:
            reply = self.redis.xautoclaim(
                self.stream(agent), self.group(agent), consumer, min_idle_ms, "0-0", count=count
            )
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):
                self.ensure_group(agent)
                return []
            raise
        entries = reply[1] if len(reply) > 1 else []
        return [(agent, _text(mid), int(fields[b"t"])) for mid, fields in entries if fields]

    def ack(self, agent: str, message_ids: list[str]) -> None:
        if message_ids:
            pipe = self.redis.pipeline(transaction=False)
            pipe.xack(self.stream(agent), self.group(agent), *message_ids)
            pipe.xdel(self.stream(agent), *message_ids)
            pipe.execute()

    def depth(self, agent: str) -> dict[str, int]:
        """Messages not yet delivered (lag) and delivered but unacknowledged (pending)."""
        try:
            groups = self.redis.xinfo_groups(self.stream(agent))
        except redis.ResponseError:
            return {"lag": 0, "pending": 0}
        for info in groups:
            if _text(info["name"]) == self.group(agent):
                return {"lag": int(info.get("lag") or 0), "pending": int(info.get("pending") or 0)}
        return {"lag": 0, "pending": 0}

    def backlog(self, agents: Iterable[str]) -> dict[str, int]:
        """Messages in each agent's stream not yet delivered to any consumer.

        Acked messages are deleted, so the stream holds exactly the undelivered ones plus the
        delivered-but-unacknowledged (XPENDING); the difference works on every Redis version.
        """
        names = list(agents)
        pipe = self.redis.pipeline(transaction=False)
        for agent in names:
            pipe.xlen(self.stream(agent))
            pipe.xpending(self.stream(agent), self.group(agent))
        replies = pipe.execute(raise_on_error=False)
        out: dict[str, int] = {}
        for i, agent in enumerate(names):
            length, pending = replies[2 * i], replies[2 * i + 1]
            delivered = pending.get("pending", 0) if isinstance(pending, dict) else 0
            out[agent] = (
                max(0, int(length or 0) - int(delivered or 0)) if isinstance(length, int) else 0
            )
        return out

    def ping(self) -> bool:
        return bool(self.redis.ping())


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _parse(agent: str, reply: Any) -> list[Message]:
    out: list[Message] = []
    for _stream, entries in reply or []:
        for mid, fields in entries:
            out.append((agent, _text(mid), int(fields[b"t"])))
    return out
