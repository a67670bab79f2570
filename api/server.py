"""Run the HTTP edge under uvicorn (`moneta api`)."""

from __future__ import annotations

from functools import partial

import uvicorn

from api.app import app_from_settings
from core.settings import Settings

WORKER_HEALTHCHECK_SECONDS = 30


def serve(
    runtime_settings: Settings,
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
) -> None:
    """Serve until SIGTERM/SIGINT; host and port default to the settings' api_host/api_port.

    With `workers` > 1 uvicorn forks that many processes sharing the socket; each builds its
    own app from the environment (the settings object cannot cross the fork).
    """
    app: object = partial(app_from_settings, runtime_settings)
    if workers > 1:
        app = "api.app:app_from_env"
    uvicorn.run(
        app,  # type: ignore[arg-type]
        factory=True,
        workers=workers,
        host=host or runtime_settings.api_host,
        port=port or runtime_settings.api_port,
        # Webhook outcomes are counted in /metrics; a log line per request costs throughput.
        access_log=False,
        # uvicorn kills a worker that does not answer its supervisor's ping within this time;
        # its 5 s default killed workers still starting on a loaded 2-core machine, over and
        # over. A hung worker is still replaced, only later.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
