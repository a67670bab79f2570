"""API keys (shown once, stored hashed, revocable), the GCRA rate limiter, and the metering
middleware on a plain Starlette app and on Moneta's own API."""

from __future__ import annotations

import asyncio
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import yaml
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from agents.metering.meters import DEFAULT_FILE, RateLimit, load_meters
from api.metering.admission import ApiAdmission, KeyCache, database_key_lookup
from api.metering.call_buffer import ApiCallRecorder
from api.metering.middleware import ApiUsageMiddleware
from api.metering.rate_limit import GcraRateLimiter, RateDecision
from core.settings import Settings
from db.models import ApiKey, UsageEvent
from db.session import Database
from orchestrator.cli import app as cli
from orchestrator.loop_redis import LoopRedis
from tests.support.metering import AppFactory, make_api_key, make_customer
from tests.support.operators import make_operator


def _api_calls(database: Database, customer_id: int) -> tuple[int, int]:
    """(calls counted, rows written) of the customer's api_calls."""
    with database.transaction() as s:
        total, rows = s.execute(
            select(func.coalesce(func.sum(UsageEvent.quantity), 0), func.count()).where(
                UsageEvent.customer_id == customer_id, UsageEvent.metric == "api_calls"
            )
        ).one()
    return int(total), int(rows)


def _meters_with_burst(tmp_path: Path, burst: int) -> Path:
    document = yaml.safe_load(DEFAULT_FILE.read_text())
    document["rate_limits"] = {"default": {"per_second": 0.01, "burst": burst}}
    path = tmp_path / "meters.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_key_is_shown_once_stored_hashed_and_revoked_over_ops(
    metering_app: AppFactory, database: Database
) -> None:
    client = TestClient(metering_app(api_key_cache_seconds=0.0))
    customer = make_customer(database)
    operator = {"Authorization": f"Bearer {make_operator(database, 'olga', 'operator')}"}
    created = client.post(
        f"/ops/customers/{customer}/api-keys", json={"label": "ci"}, headers=operator
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    listed = client.get(f"/ops/customers/{customer}/api-keys", headers=operator).json()
    assert [k["prefix"] for k in listed] == [created.json()["prefix"]]
    assert secret not in json.dumps(listed)
    with database.transaction() as s:
        row = s.scalars(select(ApiKey)).one()
        assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in json.dumps([row.prefix, row.key_hash, row.label])

    key = {"X-API-Key": secret}
    assert client.get("/api/v1/usage", headers=key).status_code == 200
    revoked = client.post(f"/ops/api-keys/{row.prefix}/revoke", headers=operator)
    assert revoked.json()["status"] == "revoked"
    refused = client.get("/api/v1/usage", headers=key)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"


def test_apikeys_cli_creates_lists_and_revokes(cli_env: CliRunner, database: Database) -> None:
    customer = make_customer(database)
    created = cli_env.invoke(cli, ["apikeys", "create", "--customer", str(customer), "--json"])
    assert created.exit_code == 0, created.output
    prefix = json.loads(created.output)["prefix"]
    listed = cli_env.invoke(cli, ["apikeys", "list", "--customer", str(customer), "--json"])
    assert [k["status"] for k in json.loads(listed.output)] == ["active"]
    assert "secret" not in listed.output
    assert cli_env.invoke(cli, ["apikeys", "revoke", prefix]).exit_code == 0
    listed = cli_env.invoke(cli, ["apikeys", "list", "--customer", str(customer), "--json"])
    assert [k["status"] for k in json.loads(listed.output)] == ["revoked"]
    missing = cli_env.invoke(cli, ["apikeys", "create", "--customer", "999999"])
    assert missing.exit_code == 1 and "no customer" in missing.output


def test_usage_cli_records_once_and_shows_the_total(cli_env: CliRunner, database: Database) -> None:
    customer = make_customer(database, stripe_id="cus_cli_usage")
    record = ["usage", "record", "--customer", "cus_cli_usage", "--metric", "ai_tokens"]
    first = cli_env.invoke(cli, [*record, "--quantity", "250", "--idempotency-key", "k1", "--json"])
    again = cli_env.invoke(cli, [*record, "--quantity", "250", "--idempotency-key", "k1", "--json"])
    assert json.loads(first.output)["status"] == "accepted"
    assert json.loads(again.output)["status"] == "duplicate"
    bad = cli_env.invoke(cli, [*record, "--quantity", "-3", "--idempotency-key", "k2"])
    assert bad.exit_code == 1 and "negative_quantity" in bad.output
    shown = cli_env.invoke(
        cli, ["usage", "show", "--customer", str(customer), "--metric", "ai_tokens", "--json"]
    )
    assert json.loads(shown.output)[0]["used"] == "250"


def test_the_limiter_admits_exactly_the_burst_under_concurrency(
    redis_client: redis.Redis, settings: Settings
) -> None:
    """Threads, each deciding in event loops of its own (one client per loop), and
    concurrent decisions within one loop, share one bucket."""
    limiter = GcraRateLimiter(LoopRedis(redis_client), settings.redis_prefix)
    limit = RateLimit(per_second=0.01, burst=25)  # one more every 100 s: no refill meanwhile

    async def together(count: int) -> list[RateDecision]:
        return await asyncio.gather(*(limiter.decide(7, limit) for _ in range(count)))

    with ThreadPoolExecutor(max_workers=16) as pool:
        decisions = list(pool.map(lambda _: asyncio.run(limiter.decide(7, limit)), range(30)))
    decisions += asyncio.run(together(30))

    admitted = [d for d in decisions if d.admitted]
    assert len(admitted) == 25
    assert sorted(d.remaining for d in admitted) == list(range(25))
    refused = [d for d in decisions if not d.admitted]
    assert all(d.retry_after_seconds >= 1 and d.remaining == 0 for d in refused)
    assert asyncio.run(limiter.decide(8, limit)).admitted  # another customer's own bucket


def test_pipelined_decisions_are_taken_in_order_as_if_one_by_one(
    redis_client: redis.Redis, settings: Settings
) -> None:
    limiter = GcraRateLimiter(LoopRedis(redis_client), settings.redis_prefix)
    limit = RateLimit(per_second=0.01, burst=5)

    decisions = asyncio.run(limiter.decide_many([(9, limit)] * 7 + [(10, limit)]))

    assert [d.admitted for d in decisions] == [True] * 5 + [False] * 2 + [True]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert asyncio.run(limiter.decide(9, limit)).retry_after_seconds >= 1  # still full


def test_decisions_go_on_when_redis_lost_the_script_and_none_is_counted_twice(
    redis_client: redis.Redis, settings: Settings
) -> None:
    """The script is called by its SHA alone; after a SCRIPT FLUSH (or a restart) the calls
    Redis refused are made again once it is loaded, and only those."""
    limiter = GcraRateLimiter(LoopRedis(redis_client), settings.redis_prefix)
    limit = RateLimit(per_second=0.01, burst=5)
    assert [d.remaining for d in asyncio.run(limiter.decide_many([(11, limit)] * 2))] == [4, 3]

    redis_client.script_flush()
    decisions = asyncio.run(limiter.decide_many([(11, limit)] * 4))

    assert [d.admitted for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]


def _plain_app(database: Database, redis_client: redis.Redis, settings: Settings) -> FastAPI:
    """Any FastAPI app, not Moneta's: the middleware is all it shares."""
    app = FastAPI()

    @app.get("/api/ok")
    def ok() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/api/moved")
    def moved() -> RedirectResponse:
        return RedirectResponse("/api/ok", status_code=302)

    @app.get("/api/broken")
    def broken() -> None:
        raise RuntimeError("boom")

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    admission = ApiAdmission(
        KeyCache(database_key_lookup(database), ttl=5.0),
        GcraRateLimiter(LoopRedis(redis_client), settings.redis_prefix),
        lambda: load_meters(),
    )
    recorder = ApiCallRecorder(database, interval_ms=60_000, max_calls=1_000_000)
    app.add_middleware(ApiUsageMiddleware, admission=admission, recorder=recorder)
    return app


def test_middleware_counts_successes_only_skips_health_and_flushes_at_shutdown(
    database: Database, redis_client: redis.Redis, settings: Settings
) -> None:
    customer = make_customer(database)
    key = {"X-API-Key": make_api_key(database, customer)}
    with TestClient(
        _plain_app(database, redis_client, settings), raise_server_exceptions=False
    ) as c:
        statuses = [
            c.get("/api/ok", headers=key).status_code,
            c.get("/api/ok", headers=key).status_code,
            c.get("/api/moved", headers=key, follow_redirects=False).status_code,
            c.get("/api/missing", headers=key).status_code,
            c.get("/api/broken", headers=key).status_code,
            c.get("/healthz", headers=key).status_code,
            c.get("/docs", headers=key).status_code,
            c.get("/api/ok").status_code,  # no key: served, not attributed
        ]
        assert _api_calls(database, customer) == (0, 0)  # buffered, not one write per call
    assert statuses == [200, 200, 302, 404, 500, 200, 200, 200]
    assert _api_calls(database, customer) == (3, 1)  # written at shutdown, in one row


def test_moneta_api_answers_429_with_rate_headers_past_the_burst(
    metering_app: AppFactory, database: Database, tmp_path: Path
) -> None:
    app = metering_app(meters_file=_meters_with_burst(tmp_path, 3))
    client = TestClient(app)
    customer = make_customer(database)
    key = {"Authorization": f"Bearer {make_api_key(database, customer)}"}
    answers = [client.get("/api/v1/usage", headers=key) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    refused = answers[3]
    assert int(refused.headers["Retry-After"]) >= 1 and refused.json()["code"] == "rate_limited"
    assert int(answers[0].headers["X-RateLimit-Reset"]) >= 1
    assert client.get("/healthz", headers=key).status_code == 200  # never limited
    assert app.state.api_call_recorder.flush() == 3
    assert _api_calls(database, customer) == (3, 1)


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
def test_an_unknown_key_is_refused_before_the_route(metering_app: AppFactory, header: str) -> None:
    client = TestClient(metering_app())
    value = "mck_deadbeef_nope" if header == "X-API-Key" else "Bearer mck_deadbeef_nope"
    answer = client.get("/api/v1/usage", headers={header: value})
    assert answer.status_code == 401 and "API key" in answer.json()["detail"]
