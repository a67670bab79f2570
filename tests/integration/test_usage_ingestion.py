"""POST /api/v1/usage over a real database: duplicates once, bad events named, periods right."""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.metering.ingest import EventOutcome, Report, record_reports, record_reports_at_once
from agents.metering.meters import MeterCatalog, load_meters
from api.v1 import usage_writer as writer_module
from api.v1.usage_writer import usage_writer
from core.clock import frozen
from db.autocommit import AsyncConnection, AutocommitConnections
from db.models import Customer, UsageEvent
from db.session import Database
from tests.support.metering import AppFactory, make_api_key, make_customer
from tests.support.operators import make_operator

NOW = datetime(2026, 3, 1, 0, 2, tzinfo=UTC)


@pytest.fixture
def client(metering_app: AppFactory) -> TestClient:
    return TestClient(metering_app())


def _count(database: Database, **where: object) -> int:
    with database.transaction() as s:
        stmt = select(func.count()).select_from(UsageEvent)
        for column, value in where.items():
            stmt = stmt.where(getattr(UsageEvent, column) == value)
        return int(s.scalar(stmt) or 0)


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_one_event_is_counted_and_its_resend_acknowledged_but_not_counted(
    client: TestClient, database: Database
) -> None:
    customer = make_customer(database)
    key = make_api_key(database, customer)
    event = {"metric": "ai_tokens", "quantity": 1200, "idempotency_key": "gen-1"}
    first = client.post("/api/v1/usage", json=event, headers=_auth(key))
    again = client.post("/api/v1/usage", json=event, headers=_auth(key))
    assert (first.status_code, first.json()["status"], first.json()["counted"]) == (
        202,
        "accepted",
        True,
    )
    assert (again.status_code, again.json()["status"], again.json()["counted"]) == (
        202,
        "duplicate",
        False,
    )
    assert _count(database, customer_id=customer) == 1


def test_duplicates_across_concurrent_batches_are_counted_once(
    client: TestClient, database: Database
) -> None:
    customer = make_customer(database)
    key = make_api_key(database, customer)
    batch = {
        "events": [
            {"metric": "api_calls", "quantity": 1, "idempotency_key": f"call-{i}"}
            for i in range(200)
        ]
    }

    def post(_: int) -> dict[str, object]:
        response = client.post("/api/v1/usage", json=batch, headers=_auth(key))
        assert response.status_code == 202
        return response.json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))
    assert sum(a["accepted"] for a in answers) == 200  # type: ignore[misc]
    assert sum(a["duplicates"] for a in answers) == 7 * 200  # type: ignore[misc]
    assert _count(database, customer_id=customer) == 200


def test_a_batch_stores_the_good_events_and_names_the_bad_ones(
    client: TestClient, database: Database
) -> None:
    customer = make_customer(database)
    other = make_customer(database)
    key = make_api_key(database, customer)
    events = [
        {"metric": "api_calls", "quantity": 3, "idempotency_key": "ok-1"},
        {"metric": "api_calls", "quantity": 3},
        {"metric": "telepathy", "quantity": 1, "idempotency_key": "bad-metric"},
        {"metric": "api_calls", "quantity": "many", "idempotency_key": "bad-qty"},
        {"metric": "api_calls", "quantity": -2, "idempotency_key": "negative"},
        {"customer": "cus_nobody", "metric": "api_calls", "idempotency_key": "who"},
        {"customer": str(other), "metric": "api_calls", "idempotency_key": "not-mine"},
        {"metric": "storage_gb", "quantity": "1.5", "idempotency_key": "ok-2"},
        {"metric": "api_calls", "quantity": 1, "idempotency_key": "ok-1"},
    ]
    response = client.post("/api/v1/usage", json={"events": events}, headers=_auth(key))
    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (2, 1)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (1, "missing_idempotency_key"),
        (2, "unknown_metric"),
        (3, "bad_quantity"),
        (4, "negative_quantity"),
        (5, "unknown_customer"),
        (6, "forbidden_customer"),
    ]
    assert _count(database, customer_id=customer) == 2
    assert _count(database, customer_id=other) == 0


def test_a_batch_is_stored_exactly_as_sent(client: TestClient, database: Database) -> None:
    """Quantities keep every digit (never a float), times their instant, properties their
    nesting, through the batch insert's one JSON parameter."""
    customer = make_customer(database)
    key = make_api_key(database, customer)
    sent_at = datetime.now(UTC) - timedelta(minutes=5)
    offset = sent_at.astimezone(timezone(timedelta(hours=-7)))
    events = [
        {
            "metric": "storage_gb",
            "quantity": "0.123456",
            "idempotency_key": "exact-1",
            "timestamp": offset.isoformat(),
            "properties": {"region": "eu", "tags": ["a", "b"]},
        },
        {"metric": "storage_gb", "quantity": "12345678.9", "idempotency_key": "exact-2"},
    ]

    response = client.post("/api/v1/usage", json={"events": events}, headers=_auth(key))

    assert response.json()["accepted"] == 2, response.json()["rejected"]
    with database.transaction() as s:
        stored = {
            row.idempotency_key: row
            for row in s.scalars(select(UsageEvent).where(UsageEvent.customer_id == customer))
        }
    assert stored["exact-1"].quantity == Decimal("0.123456")
    assert stored["exact-2"].quantity == Decimal("12345678.9")
    assert stored["exact-1"].occurred_at == sent_at
    assert stored["exact-1"].properties == {"region": "eu", "tags": ["a", "b"]}
    assert stored["exact-2"].properties == {}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"events": []}, 422, "bad_batch"),
        ({"events": [{"metric": "api_calls"}] * 1001}, 422, "batch_too_large"),
        ({"metric": "api_calls", "quantity": 1}, 422, "missing_idempotency_key"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_code(
    client: TestClient, database: Database, body: dict[str, object], status: int, code: str
) -> None:
    key = make_api_key(database, make_customer(database))
    response = client.post("/api/v1/usage", json=body, headers=_auth(key))
    assert response.status_code == status
    assert code in response.text
    assert _count(database) == 0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"metric": "api_calls",', "application/json"),  # not JSON
        (b'["metric", "api_calls"]', "application/json"),  # JSON, not an object
        (b"metric=api_calls&idempotency_key=k", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_that_is_not_one_json_object_gets_the_routes_validation_answer(
    client: TestClient, database: Database, content: bytes, content_type: str
) -> None:
    """The raw single-event path hands these to the FastAPI route, body replayed."""
    key = make_api_key(database, make_customer(database))
    headers = {**_auth(key), "Content-Type": content_type}

    response = client.post("/api/v1/usage", content=content, headers=headers)

    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    assert response.headers["x-ratelimit-limit"]  # admitted by the key's middleware as usual
    assert _count(database) == 0


def test_without_or_with_a_wrong_key_nothing_is_stored(
    client: TestClient, database: Database
) -> None:
    event = {"customer": "1", "metric": "api_calls", "idempotency_key": "k"}
    assert client.post("/api/v1/usage", json=event).status_code == 401
    assert client.post("/api/v1/usage", json=event, headers=_auth("mck_00_nope")).status_code == 401
    assert _count(database) == 0


def test_an_operator_reports_for_any_customer_by_stripe_id(
    client: TestClient, database: Database
) -> None:
    customer = make_customer(database, stripe_id="cus_metered")
    token = make_operator(database, "olga", "operator")
    viewer = make_operator(database, "vera", "viewer")
    event = {"customer": "cus_metered", "metric": "exports", "idempotency_key": "exp-1"}
    assert client.post("/api/v1/usage", json=event, headers=_auth(viewer)).status_code == 403
    assert client.post("/api/v1/usage", json=event, headers=_auth(token)).status_code == 202
    assert _count(database, customer_id=customer, metric="exports") == 1


def test_late_and_early_events_land_in_their_own_period(
    client: TestClient, database: Database
) -> None:
    """At 00:02 on 1 March: 30 days back is January, 3 minutes ahead is March, 10 minutes
    ahead is refused, 36 days back is refused."""
    customer = make_customer(database)
    key = make_api_key(database, customer)
    stamps = {
        "jan": NOW - timedelta(days=30),
        "feb-last": NOW - timedelta(minutes=3),
        "mar-first": NOW + timedelta(minutes=3),
        "too-late": NOW + timedelta(minutes=10),
        "too-old": NOW - timedelta(days=36),
    }
    events = [
        {
            "metric": "ai_tokens",
            "quantity": 10,
            "idempotency_key": name,
            "timestamp": at.isoformat(),
        }
        for name, at in stamps.items()
    ]
    with frozen(NOW):
        body = client.post("/api/v1/usage", json={"events": events}, headers=_auth(key)).json()
        assert [r["code"] for r in body["rejected"]] == ["timestamp_in_future", "timestamp_too_old"]
        used = {
            period: client.get(
                "/api/v1/usage",
                params={"metric": "ai_tokens", "period": period},
                headers=_auth(key),
            ).json()["meters"][0]["used"]
            for period in ("2026-01", "2026-02", "2026-03")
        }
    assert used == {"2026-01": "10", "2026-02": "10", "2026-03": "10"}


def test_concurrent_single_events_share_commits_each_answered_for_its_own_caller(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = make_customer(database), make_customer(database)
    batches = _count_batches(monkeypatch)
    writer = usage_writer(database, None)
    reports = [
        (first, {"metric": "ai_tokens", "quantity": 10, "idempotency_key": f"a-{n}"})
        for n in range(60)
    ]
    reports += [(second, {"metric": "ai_tokens", "quantity": 5, "idempotency_key": "a-0"})]
    reports += [(first, {"metric": "ai_tokens", "quantity": 10, "idempotency_key": "a-0"})]
    reports += [(second, {"metric": "ai_tokens", "quantity": 1, "customer": str(first)})]

    async def report_all() -> list[dict[str, object]]:
        outcomes = await asyncio.gather(*(writer.submit(report) for report in reports))
        return [outcome.as_dict() for outcome in outcomes]

    answers = asyncio.run(report_all())

    assert [a["status"] for a in answers[:60]] == ["accepted"] * 60
    assert answers[60]["status"] == "accepted"  # the same key, another customer's
    assert answers[61]["status"] == "duplicate"
    assert answers[62]["status"] == "rejected"  # a key reports its own customer only
    assert {a["index"] for a in answers} == {0}
    assert (_count(database, customer_id=first), _count(database, customer_id=second)) == (60, 1)
    assert sum(batches) == len(reports)
    assert len(batches) <= 10  # one statement (PostgreSQL) or transaction per batch waiting


def _count_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the usage writer records, on either path."""
    batches: list[int] = []

    def portable(session: Session, meters: MeterCatalog, reports: list[Report]) -> object:
        batches.append(len(reports))
        return record_reports(session, meters, reports)

    async def at_once(
        connection: AsyncConnection, meters: MeterCatalog, reports: list[Report]
    ) -> object:
        batches.append(len(reports))
        return await record_reports_at_once(connection, meters, reports)

    monkeypatch.setattr(writer_module, "record_reports", portable)
    monkeypatch.setattr(writer_module, "record_reports_at_once", at_once)
    return batches


PATHS = ["portable", "at_once"]


def _record(database: Database, path: str, reports: list[Report]) -> list[str]:
    """The reports through `record_reports` (one transaction) or, on PostgreSQL,
    `record_reports_at_once` (one autocommit statement): each event's status or code."""
    meters = load_meters()
    if path == "portable":
        with database.transaction() as session:
            outcomes = record_reports(session, meters, reports)
    else:
        if database.dialect != "postgresql":
            pytest.skip("the one-statement path is PostgreSQL's")

        async def at_once(connection: AsyncConnection) -> list[EventOutcome]:
            return await record_reports_at_once(connection, meters, reports)

        outcomes = asyncio.run(AutocommitConnections(database.url).run(at_once))
    assert [outcome.index for outcome in outcomes] == list(range(len(reports)))
    return [outcome.code or outcome.status for outcome in outcomes]


@pytest.mark.parametrize("path", PATHS)
def test_each_report_is_checked_against_its_own_caller_on_either_path(
    database: Database, path: str
) -> None:
    """Many callers in one batch: repeats of a (customer, key) inside it and across batches
    are duplicates however the customer is named, the first one's values are stored, and a
    bad, unknown, deleted or foreign customer is refused without stopping the others."""
    first = make_customer(database, stripe_id="cus_first")
    second = make_customer(database)
    gone = make_customer(database, stripe_id="cus_gone")
    with database.transaction() as s:
        s.get_one(Customer, gone).deleted_at = datetime.now(UTC)

    def event(key: str, quantity: int = 1, **fields: object) -> dict[str, object]:
        return {"metric": "ai_tokens", "quantity": quantity, "idempotency_key": key, **fields}

    reports: list[Report] = [
        (first, event("k1", 10)),
        (first, event("k1", 20, customer="cus_first")),
        (first, event("k1", 30, customer=str(first))),
        (second, event("k1", 40)),
        (second, event("k2", customer=str(first))),
        (first, event("k3", customer="cus_nobody")),
        (None, event("k4", 50, customer="cus_first")),
        (None, event("k5")),
        (first, event("k6", customer=str(gone))),
        (None, event("k7", customer="cus_gone")),
        (first, {"metric": "telepathy", "idempotency_key": "k8"}),
        (first, event("k9", customer=f"0{first}")),
        (None, event("k10", customer="9" * 20)),
        (None, event("k11", customer="\u00b2")),  # a digit to str.isdigit, not to int()
        (None, event("k1", 60, customer=str(second))),
        (first, event("k4")),
    ]
    expected = [
        "accepted",
        "duplicate",
        "duplicate",
        "accepted",
        "forbidden_customer",
        "unknown_customer",
        "accepted",
        "missing_customer",
        "unknown_customer",
        "unknown_customer",
        "unknown_metric",
        "unknown_customer",
        "unknown_customer",
        "unknown_customer",
        "duplicate",
        "duplicate",
    ]

    assert _record(database, path, reports) == expected
    resent = ["duplicate" if status == "accepted" else status for status in expected]
    assert _record(database, path, reports) == resent

    with database.transaction() as s:
        stored = {
            (row.customer_id, row.idempotency_key): row.quantity
            for row in s.scalars(select(UsageEvent))
        }
    assert stored == {
        (first, "k1"): Decimal(10),
        (second, "k1"): Decimal(40),
        (first, "k4"): Decimal(50),
    }


@pytest.mark.parametrize("path", PATHS)
def test_racing_batches_in_any_order_count_each_key_once(database: Database, path: str) -> None:
    """Eight writers with the same 50 keys, each in its own order: every key is counted by
    exactly one of them, and none fails (rows are inserted in one order: no deadlock)."""
    customer = make_customer(database)
    keys = [f"race-{n}" for n in range(50)]

    def write(seed: int) -> list[str]:
        order = random.Random(seed).sample(keys, len(keys))
        reports: list[Report] = [
            (customer, {"metric": "ai_tokens", "idempotency_key": key}) for key in order
        ]
        return _record(database, path, reports)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [status for statuses in pool.map(write, range(8)) for status in statuses]

    assert (answers.count("accepted"), answers.count("duplicate")) == (50, 7 * 50)
    assert _count(database, customer_id=customer) == 50


def test_an_integer_beyond_64_bits_is_stored_exactly(
    client: TestClient, database: Database
) -> None:
    """An integer beyond 64 bits in properties: orjson would read it as a float and refuses
    to write it, so the body is parsed and the row written by the stdlib's JSON."""
    customer = make_customer(database)
    key = make_api_key(database, customer)
    huge = 2**64 + 1
    body = f'{{"metric": "exports", "idempotency_key": "big", "properties": {{"n": {huge}}}}}'

    response = client.post(
        "/api/v1/usage",
        content=body.encode(),
        headers={**_auth(key), "Content-Type": "application/json"},
    )

    assert (response.status_code, response.json()["status"]) == (202, "accepted")
    with database.transaction() as s:
        stored = s.scalars(select(UsageEvent).where(UsageEvent.customer_id == customer)).one()
    assert stored.properties == {"n": huge}
