"""`orchestrator.loop_redis`: an asyncio client of the runtime's Redis, one per event loop."""

from __future__ import annotations

import asyncio

import redis
import redis.asyncio as aredis

from orchestrator.loop_redis import LoopRedis, asyncio_twin


def _target(client: aredis.Redis) -> tuple[str, dict[str, object]]:
    pool = client.connection_pool
    kept = ("host", "port", "path", "db", "username", "password", "ssl_cert_reqs")
    return pool.connection_class.__name__, {
        k: v for k, v in pool.connection_kwargs.items() if k in kept
    }


def test_the_twin_reaches_the_same_server_and_database_as_whom() -> None:
    tcp = asyncio_twin(redis.Redis.from_url("redis://ops:secret@10.0.0.7:6390/3"))
    tls = asyncio_twin(redis.Redis.from_url("rediss://10.0.0.7:6390/2?ssl_cert_reqs=none"))
    unix = asyncio_twin(redis.Redis.from_url("unix:///run/moneta/redis.sock?db=4"))

    assert _target(tcp) == (
        "Connection",
        {"host": "10.0.0.7", "port": 6390, "db": 3, "username": "ops", "password": "secret"},
    )
    assert _target(tls) == (
        "SSLConnection",
        {
            "host": "10.0.0.7",
            "port": 6390,
            "db": 2,
            "username": None,
            "password": None,
            "ssl_cert_reqs": "none",
        },
    )
    assert _target(unix) == (
        "UnixDomainSocketConnection",
        {"path": "/run/moneta/redis.sock", "db": 4, "username": None, "password": None},
    )


def test_each_loop_has_its_own_client_and_closed_loops_are_dropped() -> None:
    loop_redis = LoopRedis(redis.Redis.from_url("redis://127.0.0.1:6399/0"))

    async def twice() -> tuple[aredis.Redis, aredis.Redis]:
        return loop_redis.client(), loop_redis.client()

    first, again = asyncio.run(twice())
    second, _ = asyncio.run(twice())

    assert first is again  # one client per loop
    assert second is not first
    assert list(loop_redis._clients.values()) == [second]  # the first loop had closed

    async def closed_and_made_again() -> tuple[aredis.Redis, aredis.Redis]:
        closed = loop_redis.client()
        await loop_redis.aclose()
        return closed, loop_redis.client()

    closed, made_again = asyncio.run(closed_and_made_again())
    assert made_again is not closed
