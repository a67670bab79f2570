"""Moneta's own use of the middleware: its /api/ routes are metered and rate-limited."""

from __future__ import annotations

from fastapi import FastAPI

from agents.metering.meters import MeterCatalog, load_meters
from api.metering.admission import ApiAdmission, KeyCache, database_key_lookup
from api.metering.call_buffer import ApiCallRecorder
from api.metering.middleware import ApiUsageMiddleware
from api.metering.rate_limit import GcraRateLimiter
from orchestrator.wiring import Runtime

METERED_PREFIXES = ("/api/",)


def install_api_metering(app: FastAPI, runtime: Runtime) -> ApiCallRecorder:
    """Add the middleware over `runtime`'s database and Redis; returns the call recorder."""
    settings = runtime.settings

    def meters() -> MeterCatalog:
        return load_meters(settings.meters_file)

    admission = ApiAdmission(
        KeyCache(database_key_lookup(runtime.database), settings.api_key_cache_seconds),
        GcraRateLimiter(runtime.loop_redis, settings.redis_prefix),
        meters,
    )
    recorder = ApiCallRecorder(
        runtime.database,
        interval_ms=settings.usage_flush_interval_ms,
        max_calls=settings.usage_flush_max_calls,
    )
    app.add_middleware(
        ApiUsageMiddleware, admission=admission, recorder=recorder, prefixes=METERED_PREFIXES
    )
    app.state.api_call_recorder = recorder
    return recorder
