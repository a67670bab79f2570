"""`python -m bench --quick` runs every benchmark end to end and records the table."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, REDIS_URL
from tests.support.processes import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (PG_URL and REDIS_URL), reason="the benchmarks measure PostgreSQL + a Redis server"
    ),
]


@pytest.fixture
def bench_url() -> Iterator[URL]:
    """A database of its own next to the test one (the harness truncates what it runs on),
    which the harness creates and this fixture drops."""
    assert PG_URL
    test_database = make_url(PG_URL)
    url = test_database.set(database=f"{test_database.database}_bench")
    yield url
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


# The harness's own limit comes first, so a hang shows what the benchmarks printed until then.
HARNESS_SECONDS = 360


@pytest.mark.timeout(HARNESS_SECONDS + 60)
def test_quick_benchmarks_do_all_their_work_and_write_the_table(
    bench_url: URL, tmp_path: Path
) -> None:
    assert REDIS_URL
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONETA_", "STRIPE_"))}
    env.update(
        MONETA_DATABASE_URL=bench_url.render_as_string(hide_password=False),
        MONETA_REDIS_URL=REDIS_URL,
    )
    out = tmp_path / "benchmarks.md"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            # ~50-70 s alone on 2 cores; generous so a busy machine does not fail the check.
            timeout=HARNESS_SECONDS,
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the quick benchmarks ran over {HARNESS_SECONDS} s:\n{_text(hung.stdout)}")
    assert done.returncode == 0, done.stdout + done.stderr
    table = out.read_text()
    for row in (
        "intake | accepted webhooks/s",
        "intake | p99 latency",
        "queue | Moneta end-to-end",
        "queue | Dramatiq",
        "queue | raw Redis Streams",
        "burst | renewals/s",
        "burst | tasks done by agent notification",
        "usage |",
        "access |",
        "aggregate |",
    ):
        assert f"| {row}" in table, row
    assert "| PostgreSQL |" in table and "| Cores |" in table


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""
