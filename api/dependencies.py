"""What endpoints get from the app: the runtime and this process's webhook counters.

The dependencies are `async def` because they only read app state: FastAPI runs a plain
`def` dependency in the thread pool, a thread hop per request that cost ~17% of intake CPU.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.metrics import WebhookCounters
from orchestrator.wiring import Runtime


def current_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _runtime_dependency(request: Request) -> Runtime:
    return current_runtime(request)


async def webhook_counters(request: Request) -> WebhookCounters:
    counters: WebhookCounters = request.app.state.webhook_counters
    return counters


RuntimeDep = Annotated[Runtime, Depends(_runtime_dependency)]
CountersDep = Annotated[WebhookCounters, Depends(webhook_counters)]
