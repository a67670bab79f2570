"""Per-client-address rate limits for the public /api/v1 routes (no key to limit by).

Uses the metering middleware's GCRA limiter over Redis, so every API process shares one
bucket per address and one round trip decides.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from agents.metering.meters import RateLimit
from api.auth.dependencies import client_address
from api.dependencies import current_runtime
from api.metering.rate_limit import GcraRateLimiter

_LIMITER_STATE = "public_rate_limiter"


def _limiter(request: Request) -> GcraRateLimiter:
    limiter: GcraRateLimiter | None = getattr(request.app.state, _LIMITER_STATE, None)
    if limiter is None:
        runtime = current_runtime(request)
        limiter = GcraRateLimiter(runtime.loop_redis, runtime.settings.redis_prefix)
        setattr(request.app.state, _LIMITER_STATE, limiter)
    return limiter


async def limit_affiliate_tracking(request: Request) -> None:
    """429 with Retry-After once an address exceeds the tracking rate (clicks and signups)."""
    settings = current_runtime(request).settings
    limit = RateLimit(settings.affiliate_track_per_second, settings.affiliate_track_burst)
    decision = await _limiter(request).decide(f"affiliate-track:{client_address(request)}", limit)
    if not decision.admitted:
        raise HTTPException(
            status_code=429,
            detail=f"rate limit reached; retry in {decision.retry_after_seconds}s",
            headers=decision.headers(),
        )
