"""The PostgreSQL database and Redis the benchmarks run against, and how to reset them."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

import db.models  # noqa: F401  (registers every table on the metadata)
from db.base import Base
from db.migrate import upgrade
from db.models import StripeEvent, Task
from db.session import Database

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/moneta_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
REDIS_PREFIX = "moneta-bench"
WEBHOOK_SECRET = "whsec_moneta_bench"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class StoredCounts:
    events: int
    tasks_by_status: dict[str, int]

    @property
    def tasks(self) -> int:
        return sum(self.tasks_by_status.values())

    def status(self, status: str) -> int:
        return self.tasks_by_status.get(status, 0)


@dataclass(frozen=True)
class BenchTarget:
    """Where the benchmarks write; everything in it is erased between runs."""

    database_url: str
    redis_url: str
    data_dir: Path

    @classmethod
    def from_env(cls, data_dir: Path) -> BenchTarget:
        """MONETA_DATABASE_URL / MONETA_REDIS_URL if set, else `moneta_bench` and Redis db 12."""
        database_url = os.environ.get("MONETA_DATABASE_URL") or DEFAULT_DATABASE_URL
        name = make_url(database_url).database or ""
        # Each run truncates every table: refuse a database that may hold real data.
        if not any(word in name for word in ("bench", "test")):
            raise SystemExit(
                f"refusing to truncate database {name!r}: benchmark databases must have "
                "'bench' or 'test' in their name"
            )
        redis_url = os.environ.get("MONETA_REDIS_URL") or DEFAULT_REDIS_URL
        return cls(database_url, redis_url, data_dir)

    @cached_property
    def database(self) -> Database:
        """One small pool for resets and count polls, closed by `close()`."""
        return Database(self.database_url, pool_size=1)

    def close(self) -> None:
        if "database" in self.__dict__:
            self.database.dispose()

    def prepare(self) -> None:
        """Create the database if it is missing, then migrate it to head."""
        url = make_url(self.database_url)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
        upgrade(self.database_url)

    def reset(self) -> None:
        """Empty every table and delete the benchmark's Redis keys (and nothing else).

        Only tables the database has: a model whose migration is still being written is not
        the benchmark's concern (tests/integration/test_migrations.py is where drift fails).
        """
        with self.database.engine.begin() as connection:
            existing = set(
                connection.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            )
            names = [t.name for t in Base.metadata.sorted_tables if t.name in existing]
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        client = redis.Redis.from_url(self.redis_url)
        keys = list(client.scan_iter(f"{REDIS_PREFIX}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()

    def child_env(self) -> dict[str, str]:
        """The environment of a `moneta` process serving this target; no MONETA_/STRIPE_
        setting of the caller's leaks into it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MONETA_", "STRIPE_"))}
        env.update(
            MONETA_DATA_DIR=str(self.data_dir),
            MONETA_DATABASE_URL=self.database_url,
            MONETA_REDIS_URL=self.redis_url,
            MONETA_REDIS_PREFIX=REDIS_PREFIX,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            PYTHONPATH=str(ROOT),
        )
        return env

    def counts(self) -> StoredCounts:
        """Inbox rows and tasks by status, as the database has them now."""
        with self.database.transaction() as session:
            events = session.scalar(select(func.count()).select_from(StripeEvent)) or 0
            rows = session.execute(select(Task.status, func.count()).group_by(Task.status))
            by_status = {status: count for status, count in rows.tuples()}
        return StoredCounts(events, by_status)

    def versions(self) -> dict[str, str]:
        with self.database.engine.connect() as connection:
            postgres = connection.scalar(text("SHOW server_version")) or "?"
        client = redis.Redis.from_url(self.redis_url)
        redis_version = str(client.info("server")["redis_version"])
        client.close()
        python = sys.version.split()[0]
        return {"Python": python, "PostgreSQL": postgres, "Redis": redis_version}
