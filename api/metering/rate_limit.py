"""Per-customer rate limits in Redis: GCRA in one Lua script, so one round trip decides.

GCRA keeps one number per customer, the theoretical arrival time (TAT) of the next request.
Each admitted request pushes it one emission interval (1 / rate) ahead; a request is refused
while the TAT is more than `burst` intervals ahead of now. Redis's own clock is used, so API
processes with drifting clocks agree.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aredis
from redis.exceptions import NoScriptError

from agents.metering.meters import RateLimit
from orchestrator.loop_redis import LoopRedis

_MICROS = 1_000_000

# KEYS[1]: the customer's TAT; ARGV: emission interval (µs), burst.
# Returns {admitted (0/1), remaining, retry after (µs), until full again (µs)}.
GCRA = """
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - emission * burst
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / emission), 0, new_tat - now}
"""


@dataclass(frozen=True)
class RateDecision:
    admitted: bool
    limit: int  # the burst: requests admitted at once
    remaining: int
    retry_after_seconds: int  # 0 when admitted
    reset_seconds: int  # until the full burst is available again

    def headers(self) -> dict[str, str]:
        found = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.admitted:
            found["Retry-After"] = str(self.retry_after_seconds)
        return found


class GcraRateLimiter:
    """Decides one request of one subject (a customer id, or a named bucket such as a client
    address) against a `RateLimit`, awaiting Redis in the event loop."""

    def __init__(self, redis: LoopRedis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._sha = hashlib.sha1(GCRA.encode()).hexdigest()

    async def decide(self, subject: int | str, limit: RateLimit) -> RateDecision:
        return (await self.decide_many([(subject, limit)]))[0]

    async def decide_many(self, asks: Sequence[tuple[int | str, RateLimit]]) -> list[RateDecision]:
        """One decision per (subject, limit), in order, all in one pipelined round trip; asks
        for one subject are decided in their order, as if they had come one by one."""
        calls = [
            (
                f"{self._prefix}:ratelimit:{subject}",
                max(1, round(_MICROS / limit.per_second)),
                limit.burst,
            )
            for subject, limit in asks
        ]
        client = self._redis.client()
        replies = await self._pipelined(client, calls).execute(raise_on_error=False)
        lost = [n for n, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if lost:  # Redis lost the script (restart, flush): those calls did not run
            await client.script_load(GCRA)
            again = await self._pipelined(client, [calls[n] for n in lost]).execute()
            for n, reply in zip(lost, again, strict=True):
                replies[n] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return [_decision(reply, limit) for reply, (_, limit) in zip(replies, asks, strict=True)]

    def _pipelined(
        self, client: aredis.Redis, calls: list[tuple[str, int, int]]
    ) -> aredis.client.Pipeline:
        """The GCRA calls (key, emission, burst) by EVALSHA: no SCRIPT EXISTS round trip
        before them, as redis-py's pipelined `Script` makes on every execute."""
        pipe = client.pipeline(transaction=False)
        for key, emission, burst in calls:
            pipe.evalsha(self._sha, 1, key, emission, burst)
        return pipe


def _decision(reply: list[int], limit: RateLimit) -> RateDecision:
    admitted, remaining, retry_after, until_full = reply
    return RateDecision(
        admitted=bool(admitted),
        limit=limit.burst,
        remaining=int(remaining),
        retry_after_seconds=max(1, math.ceil(int(retry_after) / _MICROS)) if not admitted else 0,
        reset_seconds=math.ceil(int(until_full) / _MICROS),
    )
