"""The offline sandbox changes subscriptions like Stripe: prorations to the second, one outcome
per idempotency key, events recorded, a canceled subscription refused."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.subscriptions import Subscribed, sandbox_price, seed_sandbox_subscription
from tools.stripe.gateway import StripeNotFound, StripeRequestError
from tools.stripe.sandbox import SandboxGateway

MARCH, APRIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
TENTH = int(datetime(2026, 3, 11, tzinfo=UTC).timestamp())
SUB = Subscribed(1, "cus_s", "sub_s", 1, None)


@pytest.fixture
def sandbox(tmp_path: Path) -> SandboxGateway:
    gateway = SandboxGateway(tmp_path / "sandbox.db")
    gateway.put("price", sandbox_price("price_pro", 9_900))
    gateway.put("price", sandbox_price("price_pro_y", 99_900, "year"))
    seed_sandbox_subscription(gateway, SUB, sandbox_price("price_starter", 1_900), (MARCH, APRIL))
    return gateway


def rows(sandbox: SandboxGateway, table: str) -> list[dict[str, Any]]:
    query = {
        "items": "SELECT body FROM objects WHERE resource = 'invoiceitem' ORDER BY seq",
        "events": "SELECT body FROM events ORDER BY seq",
    }[table]
    with sqlite3.connect(sandbox._path) as db:
        return [json.loads(body) for (body,) in db.execute(query)]


def upgrade(sandbox: SandboxGateway, key: str = "k1", price: str = "price_pro") -> dict[str, Any]:
    return sandbox.change_subscription_plan(
        "sub_s",
        price=price,
        quantity=2,
        proration_behavior="create_prorations",
        proration_date=TENTH,
        idempotency_key=key,
    )


def test_plan_change_prorates_to_the_second_and_replays_by_key(sandbox: SandboxGateway) -> None:
    first = upgrade(sandbox)
    again = upgrade(sandbox)

    assert again == first
    item = first["items"]["data"][0]
    assert (item["price"]["id"], item["quantity"]) == ("price_pro", 2)
    # 1,900 x 21/31 = 1,287.10 -> 1,287; 19,800 x 21/31 = 13,412.90 -> 13,413.
    assert [i["amount"] for i in rows(sandbox, "items")] == [-1_287, 13_413]
    assert [e["type"] for e in rows(sandbox, "events")] == ["customer.subscription.updated"]


def test_a_new_interval_restarts_the_period_billed_in_full(sandbox: SandboxGateway) -> None:
    changed = upgrade(sandbox, price="price_pro_y")
    item = changed["items"]["data"][0]
    assert [i["amount"] for i in rows(sandbox, "items")] == [-1_287, 199_800]
    assert item["current_period_start"] == TENTH
    assert item["current_period_end"] == int(datetime(2027, 3, 11, tzinfo=UTC).timestamp())


def test_same_key_with_other_parameters_is_refused(sandbox: SandboxGateway) -> None:
    upgrade(sandbox)
    with pytest.raises(StripeRequestError) as refused:
        upgrade(sandbox, price="price_pro_y")
    assert refused.value.code == "idempotency_error"


def test_no_proration_leaves_no_invoice_items(sandbox: SandboxGateway) -> None:
    sandbox.change_subscription_plan(
        "sub_s",
        price="price_pro",
        quantity=1,
        proration_behavior="none",
        proration_date=TENTH,
        idempotency_key="k",
    )
    assert rows(sandbox, "items") == []


def test_cancel_flag_pause_and_cancel_now(sandbox: SandboxGateway) -> None:
    flagged = sandbox.set_cancel_at_period_end("sub_s", cancel=True, idempotency_key="a")
    paused = sandbox.set_pause_collection("sub_s", behavior="void", idempotency_key="b")
    ended = sandbox.cancel_subscription("sub_s", idempotency_key="c")

    assert flagged["cancel_at_period_end"] is True
    assert paused["pause_collection"] == {"behavior": "void"}
    assert ended["status"] == "canceled" and ended["ended_at"]
    assert rows(sandbox, "events")[-1]["type"] == "customer.subscription.deleted"
    assert sandbox.cancel_subscription("sub_s", idempotency_key="c") == ended  # replayed
    with pytest.raises(StripeRequestError):
        sandbox.set_cancel_at_period_end("sub_s", cancel=False, idempotency_key="d")


def test_unknown_subscription_or_price_is_not_found(sandbox: SandboxGateway) -> None:
    with pytest.raises(StripeNotFound):
        sandbox.cancel_subscription("sub_nope", idempotency_key="x")
    with pytest.raises(StripeNotFound):
        upgrade(sandbox, key="y", price="price_nope")
    assert rows(sandbox, "events") == []
