"""Stripe webhook intake through the real app, database and Redis."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from core.clock import from_timestamp, frozen
from core.settings import Settings
from db.models import StripeEvent, Task
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.stripe_events import event, fixture, signed

SECRET = "whsec_test_primary"  # what the `settings` fixture configures
URL = "/webhooks/stripe"


@pytest.fixture
def runtime(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> Runtime:
    return Runtime(settings, database, redis_client, transport, {})


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def client_with(runtime: Runtime, **overrides: Any) -> TestClient:
    """A client for an app whose settings differ from the fixture's by `overrides`."""
    changed = Runtime(
        runtime.settings.model_copy(update=overrides),
        runtime.database,
        runtime.redis,
        runtime.transport,
        {},
    )
    return TestClient(create_app(changed))


def deliver(client: TestClient, body: bytes, signature: str | None) -> Any:
    """POST a delivery; the reply is httpx2's or httpx's Response, whichever TestClient uses."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post(URL, content=body, headers=headers)


def inbox(database: Database) -> list[StripeEvent]:
    with database.transaction() as session:
        return list(session.scalars(select(StripeEvent)))


def tasks(database: Database) -> list[Task]:
    with database.transaction() as session:
        return list(session.scalars(select(Task)))


def billing_messages(transport: StreamTransport) -> int:
    return int(transport.redis.xlen(transport.stream("billing")))


def assert_nothing_stored(database: Database, transport: StreamTransport) -> None:
    assert inbox(database) == []
    assert tasks(database) == []
    assert billing_messages(transport) == 0


def customer_created(**overrides: Any) -> dict[str, Any]:
    return event("customer.created", fixture("customer", **overrides))


def test_new_event_is_stored_byte_for_byte_and_queued_once(
    client: TestClient, database: Database, transport: StreamTransport
) -> None:
    evt = customer_created(name="Zoë Ångström")
    # Indented, non-ASCII, unsorted: anything re-serialised would differ from what was signed.
    body, signature = signed(json.dumps(evt, indent=3, ensure_ascii=False), SECRET)

    response = deliver(client, body, signature)

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    [row] = inbox(database)
    assert row.payload.encode("utf-8") == body
    assert (row.id, row.type, row.created) == (evt["id"], "customer.created", evt["created"])
    assert (row.livemode, row.api_version) == (False, evt["api_version"])
    [task] = tasks(database)
    assert (task.kind, task.agent, task.payload) == (
        "stripe.event",
        "billing",
        {"event_id": evt["id"]},
    )
    assert task.dedupe_key == f"stripe-event:{evt['id']}"
    assert billing_messages(transport) == 1


def test_same_event_delivered_five_times_is_stored_and_queued_once(
    client: TestClient, database: Database, transport: StreamTransport
) -> None:
    body, signature = signed(customer_created(), SECRET)

    replies = [deliver(client, body, signature) for _ in range(5)]

    assert [r.status_code for r in replies] == [200] * 5
    assert [r.json()["duplicate"] for r in replies] == [False, True, True, True, True]
    assert len(inbox(database)) == 1
    assert len(tasks(database)) == 1
    assert billing_messages(transport) == 1


def test_same_event_delivered_five_times_concurrently_is_stored_and_queued_once(
    client: TestClient, database: Database, transport: StreamTransport
) -> None:
    body, signature = signed(customer_created(), SECRET)
    start = threading.Barrier(5)
    replies: list[Any] = []

    def deliver_together() -> None:
        start.wait()
        replies.append(deliver(client, body, signature))

    threads = [threading.Thread(target=deliver_together) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(r.status_code for r in replies) == [200] * 5
    assert sorted(r.json()["duplicate"] for r in replies) == [False, True, True, True, True]
    assert len(inbox(database)) == 1
    assert len(tasks(database)) == 1
    assert billing_messages(transport) == 1


def test_both_secrets_of_a_rotated_pair_are_accepted(runtime: Runtime, database: Database) -> None:
    old_body, old_signature = signed(customer_created(), "whsec_old")
    new_body, new_signature = signed(customer_created(), "whsec_new")

    with client_with(runtime, stripe_webhook_secret="whsec_old, whsec_new") as rotated:
        assert deliver(rotated, old_body, old_signature).status_code == 200
        assert deliver(rotated, new_body, new_signature).status_code == 200

    assert len(inbox(database)) == 2


def _signed_by_another_secret() -> tuple[bytes, str | None]:
    return signed(customer_created(), "whsec_someone_else")


def _without_signature() -> tuple[bytes, str | None]:
    body, _ = signed(customer_created(), SECRET)
    return body, None


def _signed_301_seconds_ago() -> tuple[bytes, str | None]:
    return signed(customer_created(), SECRET, timestamp=int(time.time()) - 301)


def _altered_after_signing() -> tuple[bytes, str | None]:
    body, signature = signed(customer_created(), SECRET)
    return body.replace(b'"livemode":false', b'"livemode":true', 1), signature


def _unreadable_header() -> tuple[bytes, str | None]:
    body, _ = signed(customer_created(), SECRET)
    return body, "t=notanumber,v1=abc"


@pytest.mark.parametrize(
    ("delivery", "code"),
    [
        (_signed_by_another_secret, "bad_signature"),
        (_without_signature, "missing_signature"),
        (_signed_301_seconds_ago, "stale_signature"),
        (_altered_after_signing, "bad_signature"),
        (_unreadable_header, "bad_signature"),
    ],
)
def test_unverifiable_webhook_is_refused_and_nothing_stored(
    client: TestClient,
    database: Database,
    transport: StreamTransport,
    delivery: Any,
    code: str,
) -> None:
    body, signature = delivery()

    response = deliver(client, body, signature)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert_nothing_stored(database, transport)


def test_tolerance_is_measured_on_the_moneta_clock(
    client: TestClient, database: Database, transport: StreamTransport
) -> None:
    signed_at = int(time.time())
    first, first_signature = signed(customer_created(), SECRET, timestamp=signed_at)
    late, late_signature = signed(customer_created(), SECRET, timestamp=signed_at)

    with frozen(from_timestamp(signed_at) + timedelta(seconds=299)):
        assert deliver(client, first, first_signature).status_code == 200
    with frozen(from_timestamp(signed_at) + timedelta(seconds=301)):
        refused = deliver(client, late, late_signature)

    assert (refused.status_code, refused.json()["code"]) == (400, "stale_signature")
    assert len(inbox(database)) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('{"id": "evt_1", "type": "customer.created",', "malformed_json"),
        ('["not", "an", "event"]', "malformed_event"),
        ('{"type": "customer.created", "created": 1700000000}', "malformed_event"),
        ('{"id": "evt_1", "created": 1700000000}', "malformed_event"),
    ],
)
def test_signed_but_malformed_event_is_refused(
    client: TestClient, database: Database, transport: StreamTransport, body: str, code: str
) -> None:
    raw, signature = signed(body, SECRET)

    response = deliver(client, raw, signature)

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert_nothing_stored(database, transport)


def _oversized_event() -> tuple[bytes, str]:
    evt = customer_created(description="x" * (1024 * 1024))
    return signed(evt, SECRET)


def test_body_over_one_mebibyte_is_refused_by_its_content_length(
    client: TestClient, database: Database, transport: StreamTransport
) -> None:
    body, signature = _oversized_event()

    response = deliver(client, body, signature)

    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert_nothing_stored(database, transport)


def test_body_over_one_mebibyte_is_refused_without_a_content_length(
    client: TestClient, database: Database, transport: StreamTransport
) -> None:
    body, signature = _oversized_event()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = client.post(URL, content=chunks(), headers={"Stripe-Signature": signature})

    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert_nothing_stored(database, transport)


def test_unknown_event_type_is_stored_and_acknowledged(
    client: TestClient, database: Database
) -> None:
    evt = event("moneta.never_heard_of_it", {"id": "obj_1", "object": "mystery"})
    body, signature = signed(evt, SECRET)

    response = deliver(client, body, signature)

    assert response.status_code == 200
    [row] = inbox(database)
    assert row.type == "moneta.never_heard_of_it"
    assert [t.payload for t in tasks(database)] == [{"event_id": evt["id"]}]


def test_webhook_is_refused_when_live_stripe_has_no_signing_secret(
    runtime: Runtime, database: Database, transport: StreamTransport
) -> None:
    body, signature = signed(customer_created(), SECRET)

    with client_with(runtime, stripe_api_key="sk_test_live_key", stripe_webhook_secret=None) as c:
        response = deliver(c, body, signature)

    assert (response.status_code, response.json()["code"]) == (400, "no_secret")
    assert_nothing_stored(database, transport)


def test_a_webhook_not_posted_is_refused_with_the_allowed_method(
    client: TestClient, database: Database, transport: StreamTransport
) -> None:
    response = client.get(URL)

    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["instance"] == URL
    assert_nothing_stored(database, transport)
    assert client.get("/metrics").text.count('reason="method_not_allowed"') == 1
