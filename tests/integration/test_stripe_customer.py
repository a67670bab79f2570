"""ensure_stripe_customer: one Stripe customer per Moneta customer, on localstripe and offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from agents.customers.stripe_customer import ensure_stripe_customer
from core.errors import NotFound
from db.models import Customer
from db.session import Database
from tests.support.localstripe import TEST_API_KEY
from tools.stripe.client import StripeClientGateway
from tools.stripe.sandbox import SandboxGateway


def new_customer(database: Database, email: str) -> int:
    with database.transaction() as s:
        row = Customer(email=email, name="Ada Lovelace")
        s.add(row)
        s.flush()
        return row.id


def test_localstripe_gets_the_customer_once_and_the_id_is_stored(
    database: Database, localstripe: str
) -> None:
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe)
    customer_id = new_customer(database, "ada@example.com")
    with database.transaction() as s:
        stripe_id = ensure_stripe_customer(s, gateway, customer_id)
    with database.transaction() as s:
        assert ensure_stripe_customer(s, gateway, customer_id) == stripe_id
        assert s.get(Customer, customer_id).stripe_customer_id == stripe_id  # type: ignore[union-attr]
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": localstripe})
    listed = [c.to_dict() for c in client.v1.customers.list().data]
    assert [(c["id"], c["email"], c["name"]) for c in listed] == [
        (stripe_id, "ada@example.com", "Ada Lovelace")
    ]
    assert listed[0]["metadata"] == {"moneta_customer_id": str(customer_id)}


def test_a_retry_after_a_rolled_back_commit_gets_the_same_stripe_customer(
    database: Database, tmp_path: Path
) -> None:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    customer_id = new_customer(database, "ada@example.com")
    with pytest.raises(RuntimeError), database.transaction() as s:
        first = ensure_stripe_customer(s, sandbox, customer_id)
        raise RuntimeError("crash before commit")
    with database.transaction() as s:
        assert s.get(Customer, customer_id).stripe_customer_id is None  # type: ignore[union-attr]
        assert ensure_stripe_customer(s, sandbox, customer_id) == first


def test_an_unknown_customer_is_not_found(database: Database, tmp_path: Path) -> None:
    with database.transaction() as s, pytest.raises(NotFound) as missing:
        ensure_stripe_customer(s, SandboxGateway(tmp_path / "stripe.db"), 999)
    assert missing.value.code == "unknown_customer"
