"""The Redis side of deductions: Lua reservations against a cached balance, many per call.

The cache only speeds the hot path up (refusals and replays without a database write); the
database's conditional update decides. A missing key is rebuilt from the database, so Redis can
be flushed at any time; a key that drifted (a crash between reserve and commit, a credit) is
dropped and rebuilt, and expires on its own after `BALANCE_TTL_SECONDS` in any case.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.exceptions import NoScriptError

BALANCE_TTL_SECONDS = 300
SEEN_TTL_SECONDS = 86_400

MISS = -1  # no cached balance: rebuild it from the database
SEEN = -2  # this idempotency key was reserved before: let the database replay its outcome
SHORT = -3  # the cached balance cannot cover the request

# KEYS[1] the balance, KEYS[2..] the seen keys of the requests; ARGV[1] the seen TTL, ARGV[2..]
# the tokens asked. Each request in order gets SEEN, SHORT or the balance left after it.
_RESERVE_MANY = """
local out = {}
local balance = redis.call('GET', KEYS[1])
if not balance then
  for i = 2, #KEYS do out[i - 1] = -1 end
  return out
end
balance = tonumber(balance)
local reserved = 0
for i = 2, #KEYS do
  local tokens = tonumber(ARGV[i])
  if redis.call('EXISTS', KEYS[i]) == 1 then
    out[i - 1] = -2
  elseif balance < tokens then
    out[i - 1] = -3
  else
    balance = balance - tokens
    reserved = reserved + tokens
    redis.call('SET', KEYS[i], tokens, 'EX', tonumber(ARGV[1]))
    out[i - 1] = balance
  end
end
if reserved > 0 then redis.call('DECRBY', KEYS[1], reserved) end
return out
"""

_RELEASE = """
if redis.call('DEL', KEYS[2]) == 1 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
end
return 1
"""

Ask = tuple[int, str]
"""(tokens, idempotency key) of one deduction"""


class BalanceReservations:
    """Reserve and release tokens in Redis, keyed per customer under the Moneta prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._reserve_many: Any = client.register_script(_RESERVE_MANY)
        self._release: Any = client.register_script(_RELEASE)

    def balance_key(self, customer_id: int) -> str:
        # Hash tag: a customer's keys live on one Redis Cluster slot, as Lua needs.
        return f"{self.prefix}:wallet:{{{customer_id}}}:balance"

    def seen_key(self, customer_id: int, idempotency_key: str) -> str:
        return f"{self.prefix}:wallet:{{{customer_id}}}:seen:{idempotency_key}"

    def reserve_many(self, asks: dict[int, list[Ask]]) -> dict[int, list[int]]:
        """For each customer's asks, in order, the balance left after it, or MISS, SEEN or
        SHORT; one Lua call per customer, all in one round trip."""
        calls = []
        for customer_id, wanted in asks.items():
            keys = [self.balance_key(customer_id)]
            keys += [self.seen_key(customer_id, key) for _tokens, key in wanted]
            calls.append((keys, [SEEN_TTL_SECONDS, *(tokens for tokens, _key in wanted)]))
        replies = self._run(self._reserve_many, calls)
        return {
            customer_id: [int(held) for held in reply]
            for customer_id, reply in zip(asks, replies, strict=True)
        }

    def release_many(self, held: list[tuple[int, Ask]]) -> None:
        """Undo reservations the database refused (each only once per key), in one round trip."""
        calls = [
            ([self.balance_key(customer_id), self.seen_key(customer_id, key)], [tokens])
            for customer_id, (tokens, key) in held
        ]
        self._run(self._release, calls)

    def _run(self, script: Any, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        """`script` once per (keys, args), pipelined by EVALSHA: no SCRIPT EXISTS round trip
        first, as redis-py's pipelined scripts make. A script Redis lost (restart, flush) is
        loaded and the calls are made again: a call that answered NOSCRIPT did not run, and
        running a reservation or release twice is harmless (its seen key answers SEEN)."""
        try:
            return list(self._pipelined(script, calls).execute())
        except NoScriptError:
            self.client.script_load(script.script)
            return list(self._pipelined(script, calls).execute())

    def _pipelined(self, script: Any, calls: list[tuple[list[str], list[Any]]]) -> Any:
        pipe = self.client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        return pipe

    def rebuild(self, customer_id: int, balance: int) -> None:
        """Seed the cache from the database's balance unless another caller already did."""
        self.client.set(self.balance_key(customer_id), balance, nx=True, ex=BALANCE_TTL_SECONDS)

    def forget(self, customer_ids: set[int]) -> None:
        """Drop cached balances known to be stale; the next deduction rebuilds them."""
        if customer_ids:
            self.client.delete(*(self.balance_key(customer_id) for customer_id in customer_ids))
