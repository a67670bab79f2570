"""Approved actions end to end over the offline sandbox: nothing runs before the decision, an
approval executes once (one Stripe call, mirror and journal updated), a 5xx is retried with
the same key, two resumes make one call, and a refusal at execution time is recorded."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from agents.approvals.service import expire
from agents.approved_actions.requests import request_manual_charge, request_write_off
from core.clock import utcnow
from core.errors import RetryableError
from db.models import (
    Approval,
    ApprovalStatus,
    CustomerCredit,
    DunningCase,
    DunningStatus,
    ExternalCall,
    Invoice,
    JournalEntry,
    JournalPosting,
    Subscription,
    Task,
    TaskStatus,
)
from orchestrator.outbox import submit
from tests.support.approved_actions import ActionScene, action_scene  # noqa: F401
from tests.support.invoicing import invoice_event, invoice_line, stripe_invoice
from tests.support.waiting import wait_until

S = ApprovalStatus


@pytest.fixture
def scene(action_scene: ActionScene) -> ActionScene:  # noqa: F811
    return action_scene


def journal(scene: ActionScene, kind: str) -> list[tuple[str, str, int]]:
    with scene.database.transaction() as session:
        rows = session.execute(
            select(JournalPosting.account, JournalPosting.party, JournalPosting.amount)
            .join(JournalEntry, JournalEntry.id == JournalPosting.entry_id)
            .where(JournalEntry.kind == kind)
            .order_by(JournalPosting.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]


def ledger_calls(scene: ActionScene) -> list[tuple[str, str, int]]:
    with scene.database.transaction() as session:
        calls = session.scalars(select(ExternalCall).order_by(ExternalCall.id))
        return [(c.idempotency_key, c.status, c.attempts) for c in calls]


def notices(scene: ActionScene, template: str) -> list[dict[str, object]]:
    return [p for p in scene.queued("notification.send") if p["template"] == template]


def test_credit_waits_for_the_decision_then_executes_once(scene: ActionScene) -> None:
    approval_id = scene.request("credit", ("customer", str(scene.customer_id())), 2_500)
    scene.drain()
    assert scene.approval(approval_id).status == S.PENDING and scene.stripe.total() == 0

    scene.decide(approval_id)
    scene.drain()
    done = scene.approval(approval_id)
    assert done.status == S.EXECUTED, done.error
    assert scene.stripe.calls == {"create_balance_transaction": 1}
    assert scene.stripe.inner.get("customer", "cus_ada")["balance"] == -2_500  # type: ignore[index]
    with scene.database.transaction() as session:
        credit = session.scalars(select(CustomerCredit)).one()
        assert (credit.approval_id, credit.amount, credit.currency) == (approval_id, 2_500, "usd")
        assert credit.ending_balance == -2_500
        assert (
            done.result
            and done.result["balance_transaction_id"] == credit.stripe_balance_transaction_id
        )
    party = f"customer:{scene.customer_id()}"
    assert journal(scene, "credit") == [
        ("platform_revenue", party, 2_500),
        ("customer_credit", party, -2_500),
    ]
    assert [n["key"] for n in notices(scene, "credit_granted")] == [f"credit_granted:{approval_id}"]
    assert ledger_calls(scene) == [(f"approval:{approval_id}:credit", "succeeded", 1)]

    with scene.database.transaction() as session:  # the resume delivered again
        submit(session, "approved_action.resume", {"approval_id": approval_id})
    scene.drain()
    assert scene.stripe.total() == 1 and len(journal(scene, "credit")) == 2


def test_rejected_or_expired_actions_do_nothing(scene: ActionScene) -> None:
    rejected = scene.request("credit", ("customer", str(scene.customer_id())), 1_000)
    expiring = scene.request("cancel", ("subscription", "sub_ada"))
    scene.drain()
    scene.decide(rejected, approve=False)
    with scene.database.transaction() as session:
        approval = session.get(Approval, expiring)
        assert approval is not None
        assert expire(session, approval, now=approval.expires_at, submit=submit)
    scene.drain()
    assert scene.approval(rejected).status == S.REJECTED
    assert scene.approval(expiring).status == S.EXPIRED
    assert scene.stripe.total() == 0 and ledger_calls(scene) == []
    assert journal(scene, "credit") == []
    assert scene.stripe.inner.get("subscription", "sub_ada")["status"] == "trialing"  # type: ignore[index]


def test_credit_in_another_currency_is_refused_and_operators_told(
    scene: ActionScene,
) -> None:
    approval_id = scene.request(
        "credit", ("customer", str(scene.customer_id())), 1_000, currency="eur"
    )
    scene.decide(approval_id)
    scene.drain()
    failed = scene.approval(approval_id)
    assert failed.status == S.FAILED
    assert failed.error and "Stripe refused it" in failed.error and "usd" in failed.error
    [alert] = notices(scene, "operator_alert")
    assert alert["key"] == f"approval_failed:{approval_id}"
    assert journal(scene, "credit") == []
    assert scene.stripe.inner.get("customer", "cus_ada").get("balance") in (None, 0)  # type: ignore[union-attr]


def test_cancel_ends_the_subscription_now_and_mirrors_it(scene: ActionScene) -> None:
    approval_id = scene.request("cancel", ("subscription", "sub_ada"))
    scene.decide(approval_id)
    scene.drain()
    assert scene.approval(approval_id).status == S.EXECUTED
    assert scene.stripe.calls == {"cancel_subscription": 1}
    assert scene.stripe.inner.get("subscription", "sub_ada")["status"] == "canceled"  # type: ignore[index]
    with scene.database.transaction() as session:
        sub = session.scalars(select(Subscription)).one()
        assert sub.status == "canceled"


def test_extend_trial_moves_the_trial_end_by_the_days_asked(scene: ActionScene) -> None:
    before = scene.stripe.inner.get("subscription", "sub_ada")["trial_end"]  # type: ignore[index]
    approval_id = scene.request("extend_trial", ("subscription", "sub_ada"), details={"days": 7})
    scene.decide(approval_id)
    scene.drain()
    assert scene.approval(approval_id).status == S.EXECUTED, scene.approval(approval_id).error
    after = scene.stripe.inner.get("subscription", "sub_ada")["trial_end"]  # type: ignore[index]
    assert after - before == 7 * 86_400 and scene.stripe.calls == {"set_trial_end": 1}
    with scene.database.transaction() as session:
        sub = session.scalars(select(Subscription)).one()
        assert sub.trial_end is not None and int(sub.trial_end.timestamp()) == after


def test_extend_trial_refused_when_no_longer_trialing(scene: ActionScene) -> None:
    approval_id = scene.request("extend_trial", ("subscription", "sub_ada"), details={"days": 7})
    scene.drain()
    active = scene.stripe.inner.get("subscription", "sub_ada")
    assert active is not None
    scene.stripe.inner.put("subscription", {**active, "status": "active"})  # the trial converted
    scene.decide(approval_id)
    scene.drain()
    failed = scene.approval(approval_id)
    assert (
        failed.status == S.FAILED
        and failed.error == "no longer trialing (the subscription is active)"
    )
    assert scene.stripe.total() == 0
    assert [n["key"] for n in notices(scene, "operator_alert")] == [
        f"approval_failed:{approval_id}"
    ]


def test_retry_task_requeues_the_dead_task_once(scene: ActionScene) -> None:
    with scene.database.transaction() as session:
        task_id = submit(session, "noop", {"why": "test"})
        assert task_id is not None
        dead = session.get(Task, task_id)
        assert dead is not None
        dead.status, dead.attempts, dead.last_error = TaskStatus.DEAD, 5, "boom"
    approval_id = scene.request("retry_task", ("task", str(task_id)), customer_id=None)
    scene.decide(approval_id)
    scene.drain()
    assert scene.approval(approval_id).status == S.EXECUTED
    task = scene.tasks.task(task_id)
    assert (task.status, task.attempts) == (TaskStatus.PENDING, 0)
    with scene.database.transaction() as session:  # resumed again: no second retry, no failure
        submit(session, "approved_action.resume", {"approval_id": approval_id})
    scene.drain()
    assert scene.approval(approval_id).status == S.EXECUTED


def test_manual_charge_after_a_stripe_5xx_is_one_paid_invoice(scene: ActionScene) -> None:
    with scene.database.transaction() as session:
        approval_id = request_manual_charge(
            session,
            customer_id=scene.customer_id(),
            amount=4_200,
            currency="USD",
            description="On-site training",
            reason="agreed by e-mail",
            requested_by="alice",
            submit=submit,
            settings=scene.settings,
        ).id
    scene.run("approved_action.start", approval_id)
    scene.decide(approval_id)
    scene.stripe.fail_first = {"charge_one_off"}
    with pytest.raises(RetryableError):
        scene.run("approved_action.resume", approval_id)
    assert ledger_calls(scene) == [(f"approval:{approval_id}:manual_charge", "failed", 1)]
    scene.run("approved_action.resume", approval_id)
    done = scene.approval(approval_id)
    assert done.status == S.EXECUTED and done.result is not None
    assert ledger_calls(scene) == [(f"approval:{approval_id}:manual_charge", "succeeded", 2)]
    assert scene.stripe.calls == {"charge_one_off": 2}  # the first never reached Stripe
    invoice_id = done.result["invoice_id"]
    paid = scene.stripe.inner.get("invoice", invoice_id)
    assert paid is not None and (paid["status"], paid["amount_paid"]) == ("paid", 4_200)
    with scene.database.transaction() as session:
        mirrored = session.scalars(
            select(Invoice).where(Invoice.stripe_invoice_id == invoice_id)
        ).one()
        assert (mirrored.status, mirrored.amount_paid, mirrored.currency) == ("paid", 4_200, "usd")


def test_effects_rolled_back_after_the_call_are_redone_without_calling_again(
    scene: ActionScene,
) -> None:
    class LeaseLost(Exception):
        pass

    approval_id = scene.request("credit", ("customer", str(scene.customer_id())), 900)
    scene.run("approved_action.start", approval_id)
    scene.decide(approval_id)
    with pytest.raises(LeaseLost):  # Stripe answered, our commit did not happen
        scene.run("approved_action.resume", approval_id, LeaseLost)
    assert scene.approval(approval_id).status == S.APPROVED and journal(scene, "credit") == []

    scene.run("approved_action.resume", approval_id)
    assert scene.approval(approval_id).status == S.EXECUTED
    assert scene.stripe.calls == {"create_balance_transaction": 1}  # the ledger's answer reused
    assert len(journal(scene, "credit")) == 2
    assert scene.stripe.inner.get("customer", "cus_ada")["balance"] == -900  # type: ignore[index]


def test_two_resumes_at_once_make_one_stripe_call(scene: ActionScene) -> None:
    approval_id = scene.request("credit", ("customer", str(scene.customer_id())), 700)
    scene.run("approved_action.start", approval_id)
    scene.decide(approval_id)
    inside, release = threading.Event(), threading.Event()
    scene.stripe.hold = (inside, release)
    outcomes: list[object] = []

    def resume() -> None:
        try:
            outcomes.append(scene.run("approved_action.resume", approval_id))
        except RetryableError as error:
            outcomes.append(error)

    first = threading.Thread(target=resume)
    first.start()
    wait_until(inside.is_set, message="the first resume inside Stripe")
    resume()  # the second, while the first holds the claim
    assert isinstance(outcomes[0], RetryableError) and "another worker" in str(outcomes[0])
    release.set()
    first.join(30)
    assert scene.approval(approval_id).status == S.EXECUTED
    assert scene.stripe.calls == {"create_balance_transaction": 1}
    assert scene.stripe.inner.get("customer", "cus_ada")["balance"] == -700  # type: ignore[index]


def failed_invoice_write_off(scene: ActionScene) -> tuple[dict[str, Any], int]:
    """Ada's open invoice, in dunning since its payment failed, and a write-off request of it."""
    line = invoice_line("il_pro", 9_900, description="Pro x 1", price="price_pro")
    invoice = stripe_invoice("in_ada_1", "cus_ada", "sub_ada", status="open", lines=[line])
    scene.stripe.inner.put("invoice", invoice)
    scene.deliver(invoice_event("invoice.payment_failed", invoice, utcnow()))
    with scene.database.transaction() as session:
        approval_id = request_write_off(
            session,
            invoice="in_ada_1",
            reason="customer went bankrupt",
            requested_by="alice",
            submit=submit,
            settings=scene.settings,
        ).id
    return invoice, approval_id


def test_write_off_marks_uncollectible_closes_dunning_and_books_bad_debt(
    scene: ActionScene,
) -> None:
    _, approval_id = failed_invoice_write_off(scene)
    assert scene.approval(approval_id).amount == 9_900
    scene.decide(approval_id)
    scene.drain()
    assert scene.approval(approval_id).status == S.EXECUTED, scene.approval(approval_id).error
    assert scene.stripe.calls == {"mark_invoice_uncollectible": 1}
    assert scene.stripe.inner.get("invoice", "in_ada_1")["status"] == "uncollectible"  # type: ignore[index]
    with scene.database.transaction() as session:
        mirrored = session.scalars(select(Invoice)).one()
        case = session.scalars(select(DunningCase)).one()
        assert mirrored.status == "uncollectible"
        assert (case.status, case.next_action) == (DunningStatus.VOIDED, None)
    party = f"customer:{scene.customer_id()}"
    assert journal(scene, "write_off") == [
        ("bad_debt", party, 9_900),
        ("customer_receivable", party, -9_900),
    ]


def test_write_off_of_an_invoice_paid_meanwhile_is_refused(scene: ActionScene) -> None:
    invoice, approval_id = failed_invoice_write_off(scene)
    scene.stripe.inner.put("invoice", {**invoice, "status": "paid"})  # paid before the decision
    scene.decide(approval_id)
    scene.drain()
    failed = scene.approval(approval_id)
    assert (failed.status, failed.error) == (S.FAILED, "the invoice is paid, not open")
    assert scene.stripe.total() == 0 and journal(scene, "write_off") == []
