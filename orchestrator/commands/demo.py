"""`moneta demo`: send a scripted customer journey to the running system and show what the
agents did, ending with a refund that an approval turns into exactly one refund."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import httpx
import typer
from sqlalchemy import func, select

from agents.approvals.service import decide, request_refund
from core.clock import utcnow
from core.errors import MonetaError
from core.money import format_money as money
from db.models import (
    Approval,
    ApprovalStatus,
    Customer,
    Entitlement,
    Invoice,
    MetricSnapshot,
    Notification,
    Payment,
    Refund,
    StripeEvent,
    Subscription,
    Task,
    TaskStatus,
)
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import fail
from orchestrator.demo_journey import Journey, build_journey
from orchestrator.outbox import submit
from orchestrator.sandbox_webhooks import WebhookRefused, post_event
from orchestrator.wiring import Runtime

REFUND_AMOUNT = 1_500


def demo(
    url: str | None = typer.Option(None, help="Base URL of the running API"),
    approve: bool = typer.Option(True, help="Approve the refund as a second operator"),
    timeout: float = typer.Option(90.0, help="Seconds to wait for the agents"),
) -> None:
    """Play signup, trial, payment, failed renewal, recovery and a refund request."""
    runtime = cli_runtime()
    settings = runtime.settings
    if not settings.sandbox_mode:
        fail("the demo uses made-up Stripe ids; run it on the offline sandbox (no STRIPE_API_KEY)")
    base = url or f"http://{settings.api_host}:{settings.api_port}"
    _require_api(base)
    journey = build_journey(int(time.time()))
    sandbox = runtime.tools["stripe"]
    for charge in journey.charges:
        sandbox.put("charge", charge)
    for invoice_payment in journey.invoice_payments:
        sandbox.put("invoice_payment", invoice_payment)
    typer.secho(f"Customer {journey.email} ({journey.customer})", bold=True)
    for label, event in journey.events:
        # Stripe spaces a story's events out; waiting for each keeps the demo's story in order
        # (sent at once, a late "payment failed" would rightly be ignored after the recovery).
        _post_event(base, event, settings.webhook_secrets[0])
        _await(partial(_handled, runtime, event["id"]), timeout, f"{event['type']} handled")
        typer.echo(f"  sent {event['type']:<40} {label}")
    _await(lambda: _open_tasks(runtime) == 0, timeout, "the agents to handle the journey")

    approval_id = _refund(runtime, journey, approve)
    if approve:
        _await(
            lambda: _approval_status(runtime, approval_id) in _FINAL,
            timeout,
            "the approved refund to execute",
        )
    with runtime.database.transaction() as session:
        submit(session, "analytics.daily", {"day": utcnow().date().isoformat()})
    _await(lambda: _open_tasks(runtime) == 0, timeout, "the daily aggregation")
    _report(runtime, journey, approval_id)
    runtime.close()


_FINAL = {ApprovalStatus.EXECUTED, ApprovalStatus.FAILED, ApprovalStatus.REJECTED}


def _require_api(base: str) -> None:
    try:
        httpx.get(f"{base}/healthz", timeout=3).raise_for_status()
    except httpx.HTTPError:
        fail(f"no Moneta API answers at {base}: start it with `moneta up` in another shell")


def _post_event(base: str, event: dict[str, Any], secret: str) -> None:
    try:
        with httpx.Client(timeout=10) as client:
            post_event(client, f"{base}/webhooks/stripe", event, secret)
    except WebhookRefused as error:
        fail(f"webhook {error}")


def _await(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    fail(f"timed out after {timeout:.0f}s waiting for {what}; see `moneta tasks list`")


def _open_tasks(runtime: Runtime) -> int:
    with runtime.database.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Task)
                .where(
                    Task.status.in_([TaskStatus.PENDING, TaskStatus.RUNNING]),
                    Task.available_at <= utcnow(),
                )
            )
            or 0
        )


def _handled(runtime: Runtime, event_id: str) -> bool:
    with runtime.database.transaction() as session:
        handled = session.scalar(select(StripeEvent.handled_at).where(StripeEvent.id == event_id))
    return handled is not None


def _approval_status(runtime: Runtime, approval_id: int) -> str:
    with runtime.database.transaction() as session:
        return str(session.scalar(select(Approval.status).where(Approval.id == approval_id)))


def _refund(runtime: Runtime, journey: Journey, approve: bool) -> int:
    charge = journey.charges[0]["id"]
    try:
        with runtime.database.transaction() as session:
            approval = request_refund(
                session,
                payment_ref=charge,
                amount=REFUND_AMOUNT,
                settings=runtime.settings,
                reason="customer asked: charged during trial conversion",
                origin="demo",
                requested_by="demo-support",
                submit=submit,
            )
            approval_id = approval.id
        typer.echo(
            f"  refund of {money(REFUND_AMOUNT, 'usd')} on {charge} requested: "
            f"approval #{approval_id} pending"
        )
        if approve:
            with runtime.database.transaction() as session:
                decide(
                    session,
                    approval_id,
                    operator="demo-approver",
                    approve=True,
                    note="verified with the customer",
                    origin="demo",
                    submit=submit,
                )
            typer.echo(f"  approval #{approval_id} approved by demo-approver")
        else:
            typer.echo(f"  approve it: moneta approvals approve {approval_id} --operator NAME")
    except MonetaError as exc:
        fail(exc.message)
    return approval_id


def _report(runtime: Runtime, journey: Journey, approval_id: int) -> None:
    with runtime.database.transaction() as s:
        customer = s.scalar(select(Customer).where(Customer.stripe_customer_id == journey.customer))
        if customer is None:
            fail("the customer was not recorded; see `moneta tasks list --status dead`")
        sub = s.scalar(
            select(Subscription).where(Subscription.stripe_subscription_id == journey.subscription)
        )
        invoices = s.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).all()
        payments = s.scalars(select(Payment).where(Payment.customer_id == customer.id)).all()
        refunds = s.scalars(select(Refund).where(Refund.approval_id == approval_id)).all()
        grants = s.scalars(select(Entitlement).where(Entitlement.customer_id == customer.id)).all()
        mails = s.scalars(
            select(Notification).where(
                (Notification.customer_id == customer.id)
                | (Notification.recipient.is_not(None))
                & Notification.key.contains(str(approval_id))
            )
        ).all()
        approval = s.get(Approval, approval_id)
        snapshot = s.scalar(
            select(MetricSnapshot).where(
                MetricSnapshot.day == date.today(), MetricSnapshot.plan == "*"
            )
        )
    typer.secho("\nWhat the agents did", bold=True)
    typer.echo(
        f"  billing      : customer #{customer.id}, subscription "
        f"{sub.plan if sub else '-'} {sub.status if sub else '-'}, "
        f"{len(invoices)} invoices, {len(payments)} payments"
    )
    typer.echo(
        "  provisioning : " + ", ".join(f"{g.feature}={g.status}" for g in grants)
        if grants
        else "  provisioning : none"
    )
    for mail in mails:
        typer.echo(f"  notification : {mail.template:<22} {mail.status:<7} to {mail.recipient}")
    if approval is not None:
        typer.echo(
            f"  approvals    : #{approval.id} {approval.status}"
            + (f" ({approval.error})" if approval.error else "")
        )
    for refund in refunds:
        typer.echo(
            f"  refund       : {refund.stripe_refund_id} "
            f"{money(refund.amount, refund.currency)} {refund.status}"
        )
    if snapshot is not None:
        m = snapshot.metrics
        typer.echo(
            f"  analytics    : {snapshot.day} MRR {money(int(m.get('mrr', 0)), 'usd')}, "
            f"active {m.get('active_subscriptions')}, net revenue "
            f"{money(int(m.get('net_revenue', 0)), 'usd')}"
        )
    typer.echo(f"\nE-mails are in {runtime.settings.effective_outbox_dir}")
