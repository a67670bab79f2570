"""What endpoints get from the app: the runtime and this process's webhook counters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.metrics import WebhookCounters
from orchestrator.wiring import Runtime


def current_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def webhook_counters(request: Request) -> WebhookCounters:
    counters: WebhookCounters = request.app.state.webhook_counters
    return counters


RuntimeDep = Annotated[Runtime, Depends(current_runtime)]
CountersDep = Annotated[WebhookCounters, Depends(webhook_counters)]
