"""Worker process: N threads reading the agents' streams, each running tasks to completion."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from agents.context import AgentHandler
from core.stop_signals import StopSignals
from orchestrator.lease import LeaseKeeper
from orchestrator.relay import relay_once
from orchestrator.runtime import TaskRunner
from orchestrator.transport import Message
from orchestrator.wiring import Runtime, load_handler

log = logging.getLogger(__name__)


class Worker:
    """Consumes `agents`' streams with `concurrency` threads until `stop()`."""

    def __init__(
        self,
        runtime: Runtime,
        agents: list[str],
        *,
        concurrency: int = 4,
        batch: int = 16,
        relay: bool = True,
        handlers: dict[str, AgentHandler] | None = None,
        name: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.agents = agents
        self.concurrency = concurrency
        self.batch = batch
        self.relay = relay
        self.handlers = handlers or {a: load_handler(a) for a in agents}
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self.leases = LeaseKeeper(runtime.database, runtime.settings.task_lease_seconds)
        self._threads: list[threading.Thread] = []
        self.processed = 0
        self._count_lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.concurrency):
            self._spawn(self._consume, f"{self.name}:{i}")
        if self.relay:
            self._spawn(self._relay_loop, f"{self.name}:relay")
        self._spawn(lambda _name: self.leases.run(self._stop), f"{self.name}:leases")

    def _spawn(self, target: Callable[[str], None], consumer: str) -> None:
        thread = threading.Thread(target=target, args=(consumer,), name=consumer, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Ask threads to finish their current task and exit."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def run_forever(self) -> None:
        """Run until SIGTERM/SIGINT, then finish in-flight tasks and return."""
        signals = StopSignals()
        self.start()
        signals.wait()
        self.stop()
        self.join()

    def _consume(self, consumer: str) -> None:
        runner = TaskRunner(
            self.runtime.database,
            self.runtime.settings,
            consumer,
            self.runtime.tools,
            self.handlers,
            self.leases,
        )
        transport = self.runtime.transport
        min_idle_ms = self.runtime.settings.task_lease_seconds * 1000
        rounds = 0
        while not self._stop.is_set():
            try:
                messages = transport.read(self.agents, consumer, count=self.batch, block_ms=1000)
                rounds += 1
                if not messages and rounds % 10 == 0:
                    for agent in self.agents:
                        messages.extend(
                            transport.autoclaim(agent, consumer, min_idle_ms=min_idle_ms)
                        )
                for agent, batch in _by_agent(messages).items():
                    if self._stop.is_set():
                        break  # unread rest stays pending: autoclaim or the relay picks it up
                    ran = runner.claim_and_run(agent, [task_id for _mid, task_id in batch])
                    with self._count_lock:
                        self.processed += ran
                    transport.ack(agent, [message_id for message_id, _tid in batch])
            except Exception:
                log.exception("consumer %s: loop error; continuing", consumer)
                self._stop.wait(1.0)

    def _relay_loop(self, _name: str) -> None:
        interval = self.runtime.settings.relay_interval_seconds
        while not self._stop.wait(interval):
            try:
                relay_once(self.runtime.database, self.runtime.transport, self.runtime.settings)
            except Exception:
                log.exception("relay failed; will retry")


def _by_agent(messages: list[Message]) -> dict[str, list[tuple[str, int]]]:
    """(message id, task id) pairs of one read, grouped by agent, in arrival order."""
    grouped: dict[str, list[tuple[str, int]]] = {}
    for agent, message_id, task_id in messages:
        grouped.setdefault(agent, []).append((message_id, task_id))
    return grouped
