"""The offline sandbox refunds like Stripe: capped, once per key, across threads and processes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.stripe_events import event, fixture
from tools.stripe.gateway import (
    IDEMPOTENCY_METADATA_KEY,
    StripeNotFound,
    StripeRequestError,
)
from tools.stripe.sandbox import SandboxGateway

CHARGE_ID = "ch_sandbox_test_1"


@pytest.fixture
def sandbox(tmp_path: Path) -> SandboxGateway:
    gateway = SandboxGateway(tmp_path / "sandbox.db")
    gateway.put(
        "charge",
        fixture("charge", id=CHARGE_ID, amount=2000, amount_refunded=0, refunded=False),
    )
    return gateway


def _refund(gateway: SandboxGateway, amount: int, key: str, **kwargs: Any) -> dict[str, Any]:
    return gateway.create_refund(amount=amount, idempotency_key=key, charge=CHARGE_ID, **kwargs)


def test_partial_then_full_refund_updates_the_charge(sandbox: SandboxGateway) -> None:
    first = _refund(sandbox, 500, "refund:1", reason="requested_by_customer")
    assert sandbox.retrieve("charge", CHARGE_ID)["amount_refunded"] == 500
    assert sandbox.retrieve("charge", CHARGE_ID)["refunded"] is False

    second = _refund(sandbox, 1500, "refund:2")

    charge = sandbox.retrieve("charge", CHARGE_ID)
    assert (charge["amount_refunded"], charge["refunded"]) == (2000, True)
    assert first["status"] == "succeeded" and first["reason"] == "requested_by_customer"
    assert first["metadata"][IDEMPOTENCY_METADATA_KEY] == "refund:1"
    assert [r["id"] for r in sandbox.list_refunds(charge=CHARGE_ID)] == [second["id"], first["id"]]
    assert sandbox.retrieve("refund", first["id"]) == first


def test_refund_above_what_is_left_is_refused_as_amount_too_large(
    sandbox: SandboxGateway,
) -> None:
    _refund(sandbox, 1500, "refund:1")

    with pytest.raises(StripeRequestError) as refused:
        _refund(sandbox, 501, "refund:2")

    assert refused.value.code == "amount_too_large"
    assert sandbox.retrieve("charge", CHARGE_ID)["amount_refunded"] == 1500
    assert len(sandbox.list_refunds(charge=CHARGE_ID)) == 1


def test_refund_of_a_fully_refunded_charge_is_refused(sandbox: SandboxGateway) -> None:
    _refund(sandbox, 2000, "refund:1")

    with pytest.raises(StripeRequestError) as refused:
        _refund(sandbox, 1, "refund:2")

    assert refused.value.code == "charge_already_refunded"


@pytest.mark.parametrize("amount", [0, -100])
def test_refund_of_no_money_is_refused(sandbox: SandboxGateway, amount: int) -> None:
    with pytest.raises(StripeRequestError):
        _refund(sandbox, amount, "refund:1")

    assert sandbox.list_refunds(charge=CHARGE_ID) == []


def test_refund_of_unknown_charge_raises_not_found(sandbox: SandboxGateway) -> None:
    with pytest.raises(StripeNotFound):
        sandbox.create_refund(amount=100, idempotency_key="refund:1", charge="ch_missing")


def test_refund_by_payment_intent_refunds_its_latest_charge(sandbox: SandboxGateway) -> None:
    sandbox.put("payment_intent", fixture("payment_intent", id="pi_1", latest_charge=CHARGE_ID))

    refund = sandbox.create_refund(amount=300, idempotency_key="refund:1", payment_intent="pi_1")

    assert refund["charge"] == CHARGE_ID
    assert sandbox.retrieve("charge", CHARGE_ID)["amount_refunded"] == 300


def test_same_key_replays_the_first_refund_without_a_second(sandbox: SandboxGateway) -> None:
    first = _refund(sandbox, 700, "refund:approval-1")
    again = _refund(sandbox, 700, "refund:approval-1")

    assert again == first
    assert len(sandbox.list_refunds(charge=CHARGE_ID)) == 1
    assert sandbox.retrieve("charge", CHARGE_ID)["amount_refunded"] == 700
    assert len(list(sandbox.list_events(created_after=0))) == 1


def test_same_key_replays_a_refusal(sandbox: SandboxGateway) -> None:
    with pytest.raises(StripeRequestError):
        _refund(sandbox, 5000, "refund:1")
    sandbox.put("charge", fixture("charge", id=CHARGE_ID, amount=9000, amount_refunded=0))

    with pytest.raises(StripeRequestError) as replayed:
        _refund(sandbox, 5000, "refund:1")

    assert replayed.value.code == "amount_too_large"
    assert sandbox.list_refunds(charge=CHARGE_ID) == []


def test_same_key_with_other_parameters_is_refused(sandbox: SandboxGateway) -> None:
    _refund(sandbox, 700, "refund:1")

    with pytest.raises(StripeRequestError) as refused:
        _refund(sandbox, 800, "refund:1")

    assert refused.value.code == "idempotency_error"
    assert sandbox.retrieve("charge", CHARGE_ID)["amount_refunded"] == 700


def test_refund_records_a_charge_refunded_event(sandbox: SandboxGateway) -> None:
    refund = _refund(sandbox, 400, "refund:1")

    [recorded] = sandbox.list_events(created_after=0)

    assert recorded["type"] == "charge.refunded"
    assert recorded["data"]["object"]["id"] == CHARGE_ID
    assert recorded["data"]["object"]["amount_refunded"] == 400
    assert recorded["data"]["previous_attributes"]["amount_refunded"] == 0
    assert recorded["request"]["idempotency_key"] == "refund:1"
    assert recorded["created"] == refund["created"]


def test_events_are_listed_oldest_first_after_the_given_time(sandbox: SandboxGateway) -> None:
    customer = fixture("customer")
    sandbox.record_event(event("customer.updated", customer, created=300, event_id="evt_c"))
    sandbox.record_event(event("customer.created", customer, created=100, event_id="evt_a"))
    sandbox.record_event(event("customer.updated", customer, created=200, event_id="evt_b"))
    sandbox.record_event(event("customer.created", customer, created=100, event_id="evt_a"))

    assert [e["id"] for e in sandbox.list_events(created_after=0)] == ["evt_a", "evt_b", "evt_c"]
    assert [e["id"] for e in sandbox.list_events(created_after=100)] == ["evt_b", "evt_c"]


def test_seeded_objects_are_retrieved_and_unknown_ones_are_not_found(
    sandbox: SandboxGateway,
) -> None:
    customer = fixture("customer", id="cus_sandbox_1")
    sandbox.put("customer", customer)

    assert sandbox.retrieve("customer", "cus_sandbox_1") == customer
    assert sandbox.get("customer", "cus_missing") is None
    with pytest.raises(StripeNotFound):
        sandbox.retrieve("customer", "cus_missing")


def test_invoice_payments_are_listed_by_invoice_in_the_order_seeded(
    sandbox: SandboxGateway,
) -> None:
    def payment(payment_id: str, invoice: str) -> dict[str, Any]:
        return fixture("invoice_payment", id=payment_id, invoice=invoice, status="paid")

    first = payment("inpay_1", "in_1")
    other = payment("inpay_2", "in_2")
    second = payment("inpay_3", "in_1")
    for seeded in (first, other, second):
        sandbox.put("invoice_payment", seeded)

    assert sandbox.list_invoice_payments(invoice="in_1") == [first, second]
    assert sandbox.list_invoice_payments(invoice="in_2") == [other]
    assert sandbox.list_invoice_payments(invoice="in_unknown") == []


def test_threads_refunding_with_one_key_make_one_refund(sandbox: SandboxGateway) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        refunds = list(pool.map(lambda _: _refund(sandbox, 900, "refund:shared"), range(8)))

    assert len({r["id"] for r in refunds}) == 1
    assert len(sandbox.list_refunds(charge=CHARGE_ID)) == 1
    assert sandbox.retrieve("charge", CHARGE_ID)["amount_refunded"] == 900


def test_concurrent_refunds_never_exceed_the_charge(sandbox: SandboxGateway) -> None:
    def attempt(n: int) -> str:
        try:
            _refund(sandbox, 1500, f"refund:{n}")
        except StripeRequestError as refused:
            return str(refused.code)
        return "refunded"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))

    assert outcomes == ["amount_too_large"] * 3 + ["refunded"]
    assert sandbox.retrieve("charge", CHARGE_ID)["amount_refunded"] == 1500


def _refund_in_another_process(path: str) -> str:
    return str(_refund(SandboxGateway(Path(path)), 900, "refund:shared")["id"])


def test_processes_refunding_with_one_key_make_one_refund(
    sandbox: SandboxGateway, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes=3) as pool:
        refund_ids = pool.map(_refund_in_another_process, [str(tmp_path / "sandbox.db")] * 3)

    assert len(set(refund_ids)) == 1
    assert [r["id"] for r in sandbox.list_refunds(charge=CHARGE_ID)] == refund_ids[:1]
    assert sandbox.retrieve("charge", CHARGE_ID)["amount_refunded"] == 900
