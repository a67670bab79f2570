"""The runtime's Redis, reached from the event loop by redis-py's asyncio client.

The API's hot paths (rate decisions, publishing new tasks) await Redis in the loop instead of
hopping to a worker thread and back for the blocking client: per round trip, about half the
CPU. An asyncio connection serves only the loop that opened it, and a server runs one loop,
but a test client may run each request in a loop of its own: so there is one client per loop.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import redis
import redis.asyncio as aredis

# What a blocking client's connections carry over to the asyncio client: where and as whom.
_CARRIED = ("db", "username", "password", "socket_timeout", "socket_connect_timeout")
_ASYNC_OPTIONS = frozenset(inspect.signature(aredis.Redis).parameters)


def asyncio_twin(client: redis.Redis) -> aredis.Redis:
    """An asyncio client of the same server and database as `client` (TCP, TLS or a unix
    socket such as the embedded Redis's)."""
    pool = client.connection_pool
    settings = pool.connection_kwargs
    carried: dict[str, Any] = {k: settings[k] for k in _CARRIED if k in settings}
    if issubclass(pool.connection_class, redis.UnixDomainSocketConnection):
        return aredis.Redis(unix_socket_path=settings["path"], **carried)
    if issubclass(pool.connection_class, redis.SSLConnection):
        tls = {k: v for k, v in settings.items() if k.startswith("ssl_") and k in _ASYNC_OPTIONS}
        carried |= {"ssl": True, **tls}
    return aredis.Redis(host=settings["host"], port=settings["port"], **carried)


class LoopRedis:
    """`client()`: the running loop's asyncio client, made on first use. Clients of loops that
    have closed are dropped when the next one is made (a closed loop cannot close them; their
    sockets go with them)."""

    def __init__(self, client: redis.Redis) -> None:
        self._sync = client
        self._clients: dict[asyncio.AbstractEventLoop, aredis.Redis] = {}

    def client(self) -> aredis.Redis:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            self._clients = {k: v for k, v in self._clients.items() if not k.is_closed()}
            found = self._clients[loop] = asyncio_twin(self._sync)
        return found

    async def aclose(self) -> None:
        """Close the running loop's client (at the app's shutdown)."""
        found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found.aclose()
