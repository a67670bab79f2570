"""The offline sandbox's products, prices and customers behave like Stripe's where we rely on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.stripe.gateway import StripeNotFound, StripeRequestError
from tools.stripe.sandbox import SandboxGateway


@pytest.fixture
def sandbox(tmp_path: Path) -> SandboxGateway:
    return SandboxGateway(tmp_path / "stripe.db")


def test_a_repeated_key_replays_the_first_object(sandbox: SandboxGateway) -> None:
    product = sandbox.create_product(params={"name": "Pro"}, idempotency_key="p1")
    assert sandbox.create_product(params={"name": "Pro"}, idempotency_key="p1") == product
    params = {"product": product["id"], "currency": "usd", "unit_amount": 9900}
    price = sandbox.create_price(params=params, idempotency_key="c1")
    assert sandbox.create_price(params=params, idempotency_key="c1")["id"] == price["id"]
    assert (price["object"], price["active"], price["unit_amount"]) == ("price", True, 9900)
    customer = sandbox.create_customer(params={"email": "a@b.c"}, idempotency_key="customer:1")
    again = sandbox.create_customer(params={"email": "a@b.c"}, idempotency_key="customer:1")
    assert again["id"] == customer["id"] and sandbox.retrieve("customer", customer["id"])


def test_a_key_reused_with_other_params_is_refused(sandbox: SandboxGateway) -> None:
    sandbox.create_product(params={"name": "Pro"}, idempotency_key="p1")
    with pytest.raises(StripeRequestError) as refused:
        sandbox.create_product(params={"name": "Max"}, idempotency_key="p1")
    assert refused.value.code == "idempotency_error"


def test_price_terms_are_immutable_and_archiving_keeps_the_price(sandbox: SandboxGateway) -> None:
    product = sandbox.create_product(params={"name": "Pro"}, idempotency_key="p1")
    price = sandbox.create_price(
        params={"product": product["id"], "currency": "usd", "unit_amount": 9900},
        idempotency_key="c1",
    )
    with pytest.raises(StripeRequestError) as refused:
        sandbox.update_price(price["id"], params={"unit_amount": 1}, idempotency_key="u0")
    assert refused.value.code == "parameter_unknown"
    archived = sandbox.update_price(price["id"], params={"active": False}, idempotency_key="u1")
    assert (archived["active"], archived["unit_amount"]) == (False, 9900)
    assert sandbox.get("price", price["id"]) == archived


def test_unknown_objects_are_not_found(sandbox: SandboxGateway) -> None:
    with pytest.raises(StripeNotFound):
        sandbox.create_price(
            params={"product": "prod_missing", "currency": "usd", "unit_amount": 1},
            idempotency_key="c1",
        )
    with pytest.raises(StripeNotFound):
        sandbox.update_product("prod_missing", params={"active": False}, idempotency_key="u1")
