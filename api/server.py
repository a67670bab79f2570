"""Run the HTTP edge under uvicorn (`moneta api`)."""

from __future__ import annotations

from functools import partial

import uvicorn

from api.app import app_from_settings
from core.settings import Settings


def serve(runtime_settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve until SIGTERM/SIGINT; host and port default to the settings' api_host/api_port."""
    uvicorn.run(
        partial(app_from_settings, runtime_settings),
        factory=True,
        host=host or runtime_settings.api_host,
        port=port or runtime_settings.api_port,
        # Webhook outcomes are counted in /metrics; a log line per request costs throughput.
        access_log=False,
    )
