"""The Redis side of a deduction: a Lua reservation against a cached balance.

The cache only speeds the hot path up (refusals and replays without a database write); the
database's conditional update decides. A missing key is rebuilt from the database, so Redis can
be flushed at any time; a key that drifted (a crash between reserve and commit, a credit) is
dropped and rebuilt, and expires on its own after `BALANCE_TTL_SECONDS` in any case.
"""

from __future__ import annotations

from typing import Any

import redis

BALANCE_TTL_SECONDS = 300
SEEN_TTL_SECONDS = 86_400

MISS = -1  # no cached balance: rebuild it from the database
SEEN = -2  # this idempotency key was reserved before: let the database replay its outcome
SHORT = -3  # the cached balance cannot cover the request

_RESERVE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
local balance = redis.call('GET', KEYS[1])
if not balance then return -1 end
balance = tonumber(balance)
local tokens = tonumber(ARGV[1])
if balance < tokens then return -3 end
redis.call('DECRBY', KEYS[1], tokens)
redis.call('SET', KEYS[2], tokens, 'EX', tonumber(ARGV[2]))
return balance - tokens
"""

_RELEASE = """
if redis.call('DEL', KEYS[2]) == 1 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
end
return 1
"""


class BalanceReservations:
    """Reserve and release tokens in Redis, keyed per customer under the Moneta prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._reserve: Any = client.register_script(_RESERVE)
        self._release: Any = client.register_script(_RELEASE)

    def balance_key(self, customer_id: int) -> str:
        # Hash tag: a customer's keys live on one Redis Cluster slot, as Lua needs.
        return f"{self.prefix}:wallet:{{{customer_id}}}:balance"

    def seen_key(self, customer_id: int, idempotency_key: str) -> str:
        return f"{self.prefix}:wallet:{{{customer_id}}}:seen:{idempotency_key}"

    def reserve(self, customer_id: int, tokens: int, idempotency_key: str) -> int:
        """The balance left after reserving, or MISS, SEEN or SHORT."""
        keys = [self.balance_key(customer_id), self.seen_key(customer_id, idempotency_key)]
        return int(self._reserve(keys=keys, args=[tokens, SEEN_TTL_SECONDS]))

    def release(self, customer_id: int, tokens: int, idempotency_key: str) -> None:
        """Undo a reservation the database refused (only once per key)."""
        keys = [self.balance_key(customer_id), self.seen_key(customer_id, idempotency_key)]
        self._release(keys=keys, args=[tokens])

    def rebuild(self, customer_id: int, balance: int) -> None:
        """Seed the cache from the database's balance unless another caller already did."""
        self.client.set(self.balance_key(customer_id), balance, nx=True, ex=BALANCE_TTL_SECONDS)

    def forget(self, customer_id: int) -> None:
        """Drop a cached balance known to be stale; the next deduction rebuilds it."""
        self.client.delete(self.balance_key(customer_id))
