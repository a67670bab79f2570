"""Billing asks dunning to close an invoice's case only when one is open; a payment that
overtakes the failure's dunning task still ends the case as a recovery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agents.analytics import graph as analytics
from agents.billing import graph as billing
from agents.context import AgentHandler
from agents.provisioning import graph as provisioning
from core.clock import frozen
from db.models import DunningStatus
from db.session import Database
from tests.integration.test_dunning import (  # noqa: F401  (sandbox, scene: fixtures)
    DAY,
    FAILED_AT,
    open_invoice,
    paid_invoice,
    sandbox,
    scene,
    the_case,
)
from tests.support.invoicing import (  # noqa: F401  (sandbox_scene: a fixture)
    DueAgentTasks,
    InvoicingScene,
    invoice_event,
    sandbox_scene,
)

CLOSE_TASK = "dunning.invoice_closed"


def deliver_without_dunning(scene: InvoicingScene, evt: dict[str, Any]) -> None:  # noqa: F811
    """Deliver the event, running every agent's tasks but dunning's (its worker is behind)."""
    handlers: dict[str, AgentHandler] = {
        "billing": billing.handle,
        "provisioning": provisioning.handle,
        "analytics": analytics.handle,
    }
    every_agent = scene.tasks
    scene.tasks = DueAgentTasks(scene.database, scene.settings, {"stripe": scene.stripe}, handlers)
    try:
        scene.deliver(evt)
    finally:
        scene.tasks = every_agent


def test_a_paid_invoice_without_dunning_queues_no_dunning_task(
    scene: InvoicingScene,  # noqa: F811
) -> None:
    with frozen(FAILED_AT):
        scene.deliver(invoice_event("invoice.paid", paid_invoice(FAILED_AT), FAILED_AT))
    assert scene.queued(CLOSE_TASK) == []
    assert len(scene.queued("partners.invoice_paid")) == 1


def test_a_paid_invoice_with_an_open_case_queues_its_closing(
    scene: InvoicingScene,  # noqa: F811
    database: Database,
) -> None:
    with frozen(FAILED_AT):
        scene.deliver(invoice_event("invoice.payment_failed", open_invoice(), FAILED_AT))
    paid_at = FAILED_AT + DAY
    with frozen(paid_at):
        scene.deliver(invoice_event("invoice.paid", paid_invoice(paid_at), paid_at))
    assert [p["outcome"] for p in scene.queued(CLOSE_TASK)] == ["paid"]
    assert the_case(database).status == DunningStatus.RECOVERED


def test_a_payment_overtaking_the_failure_report_still_recovers_the_case(
    scene: InvoicingScene,  # noqa: F811
    database: Database,
) -> None:
    with frozen(FAILED_AT):
        deliver_without_dunning(
            scene, invoice_event("invoice.payment_failed", open_invoice(), FAILED_AT)
        )
    paid_at = FAILED_AT + timedelta(hours=1)
    with frozen(paid_at):
        deliver_without_dunning(
            scene, invoice_event("invoice.paid", paid_invoice(paid_at), paid_at)
        )
    assert scene.queued(CLOSE_TASK) == []  # no case was open when billing saw the payment
    with frozen(paid_at + timedelta(minutes=1)):
        scene.drain()  # dunning catches up: it opens the case and finds the invoice paid
    case = the_case(database)
    assert (case.status, case.recovered_amount, case.closed_at) == (
        DunningStatus.RECOVERED,
        9900,
        paid_at,
    )
