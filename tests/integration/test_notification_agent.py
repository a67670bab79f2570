"""The notification agent through the real task runtime, a real database and a real SMTP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import jinja2
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from agents.context import AgentContext, TaskInfo
from agents.notification.graph import handle
from agents.notification.records import message_id_for
from agents.notification.requests import notify
from core.clock import frozen, utcnow
from core.errors import RetryableError
from core.settings import Settings
from db.models import Customer, ExternalCall, ExternalCallStatus, Notification, Task, TaskStatus
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.runtime import Outcome, TaskRunner
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from orchestrator.worker import Worker
from tests.support.smtp import SmtpServer, unused_port
from tests.support.waiting import wait_until
from tools.email.mailer import Mailer, OutboundEmail
from tools.email.outbox import FileOutboxMailer
from tools.email.smtp import SmtpMailer

INVOICE_URL = "https://invoice.stripe.com/i/acct_1/test_YWNjdF8x?s=ap"


class SimulatedCrash(BaseException):
    """The worker process dies: nothing after this line runs, no handler sees it."""


class CrashAfterDelivery:
    """Hands the message to the real server, then the worker dies before recording it."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def send(self, email: OutboundEmail) -> None:
        self.mailer.send(email)
        raise SimulatedCrash


class CrashBeforeDelivery:
    """The worker dies after its claim committed, before the message reaches the server."""

    def send(self, email: OutboundEmail) -> None:
        raise SimulatedCrash


@pytest.fixture
def mailer(smtp_server: SmtpServer) -> SmtpMailer:
    return SmtpMailer.from_url(smtp_server.url)


@pytest.fixture
def customer_id(database: Database) -> int:
    with database.transaction() as session:
        customer = Customer(stripe_customer_id="cus_ada", email="ada@example.com", name="Ada")
        session.add(customer)
        session.flush()
        return customer.id


def runner_with(database: Database, settings: Settings, mailer: Mailer) -> TaskRunner:
    return TaskRunner(
        database, settings, "test-worker", {"mailer": mailer}, {"notification": handle}
    )


def agent_context(
    database: Database, settings: Settings, session: Any, mailer: Mailer
) -> AgentContext:
    def submit_here(kind: str, payload: dict[str, Any], **options: Any) -> int | None:
        return submit(session, kind, payload, **options)

    return AgentContext(
        session=session,
        database=database,
        settings=settings,
        stripe=None,  # type: ignore[arg-type]
        mailer=mailer,
        submit=submit_here,
    )


def request_notification(
    database: Database, settings: Settings, mailer: Mailer, **request: Any
) -> int:
    """Submit through `notify()` in its own transaction; the id of the queued task."""
    with database.transaction() as session:
        notify(agent_context(database, settings, session, mailer), **request)
    with database.transaction() as session:
        return session.scalars(
            select(Task.id).where(Task.dedupe_key == f"notify:{request['key']}")
        ).one()


def welcome_task(
    database: Database, settings: Settings, mailer: Mailer, customer_id: int, key: str
) -> int:
    """A welcome e-mail to Ada queued under `key`; the id of its task."""
    return request_notification(
        database,
        settings,
        mailer,
        key=key,
        template="welcome",
        customer_id=customer_id,
        context={"name": "Ada"},
    )


def handle_again(database: Database, settings: Settings, mailer: Mailer, task_id: int) -> Any:
    """The handler run once more for `task_id`, as a redelivery would."""
    with database.transaction() as session:
        return handle(
            agent_context(database, settings, session, mailer), task_info(database, task_id)
        )


def run_task(runner: TaskRunner, task_id: int) -> Outcome:
    task = runner.claim(task_id)
    assert task is not None, f"task {task_id} was not claimable"
    return runner.run(task)


def task_info(database: Database, task_id: int) -> TaskInfo:
    with database.transaction() as session:
        task = session.get(Task, task_id)
        assert task is not None
        return TaskInfo(task.id, task.kind, task.payload, task.attempts, task.max_attempts)


def task_status(database: Database, task_id: int) -> str:
    with database.transaction() as session:
        return session.scalars(select(Task.status).where(Task.id == task_id)).one()


def notification(database: Database, key: str) -> Notification:
    with database.transaction() as session:
        return session.scalars(select(Notification).where(Notification.key == key)).one()


def ledger_entry(database: Database, key: str) -> ExternalCall:
    with database.transaction() as session:
        return session.scalars(
            select(ExternalCall).where(ExternalCall.idempotency_key == f"email:{key}")
        ).one()


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


TRIAL_END = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
TEMPLATE_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "welcome": ({"name": "Ada"}, ["Ada", "welcome to Moneta"]),
    "receipt": (
        {
            "amount": 123456,
            "currency": "usd",
            "invoice_number": "INV-0042",
            "hosted_invoice_url": INVOICE_URL,
        },
        ["USD 1,234.56", "INV-0042", INVOICE_URL],
    ),
    "payment_failed": (
        {"amount": 1500, "currency": "jpy", "hosted_invoice_url": INVOICE_URL},
        ["JPY 1,500", INVOICE_URL],
    ),
    "action_required": ({"hosted_invoice_url": INVOICE_URL}, ["confirm", INVOICE_URL]),
    "trial_ending": ({"trial_end": TRIAL_END, "plan": "Pro"}, ["Pro", "2026-12-01 09:30 UTC"]),
    "subscription_canceled": (
        {"plan": "Starter", "ends_at": int(TRIAL_END.timestamp())},
        ["Starter", "2026-12-01 09:30 UTC"],
    ),
    "refund_issued": ({"amount": 2500, "currency": "eur"}, ["EUR 25.00"]),
    "credit_granted": ({"amount": 2500, "currency": "eur"}, ["EUR 25.00", "credit"]),
}


@pytest.mark.parametrize("template", sorted(TEMPLATE_CASES))
def test_customer_template_is_sent_as_text_and_html_with_its_facts(
    template: str,
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    customer_id: int,
) -> None:
    context, facts = TEMPLATE_CASES[template]
    key = f"{template}:in_123"
    task_id = request_notification(
        database,
        settings,
        mailer,
        key=key,
        template=template,
        customer_id=customer_id,
        context=context,
    )

    outcome = run_task(runner_with(database, settings, mailer), task_id)

    assert outcome.status == TaskStatus.DONE, outcome.error
    [message] = smtp_server.messages
    text, html = parts(message)
    for fact in facts:
        assert fact.lower() in text.lower() and fact.lower() in html.lower()
    if "hosted_invoice_url" in context:
        assert f'href="{INVOICE_URL}"' in html
    assert message["To"] == "ada@example.com"
    assert message["Message-ID"] == message_id_for(key)
    sent = notification(database, key)
    assert sent.status == "sent" and sent.subject == message["Subject"] and sent.sent_at
    assert ledger_entry(database, key).status == ExternalCallStatus.SUCCEEDED


def test_approval_needed_goes_to_every_operator_with_the_cli_command(
    database: Database, settings: Settings, mailer: SmtpMailer, smtp_server: SmtpServer
) -> None:
    settings.operator_emails = "ops1@moneta.test, ops2@moneta.test"
    context = {
        "approval_id": 17,
        "action": "refund",
        "amount": 50000,
        "currency": "usd",
        "customer": "Acme Corp (cus_acme)",
        "requested_by": "ann",
        "reason": "Charged twice <by mistake>",
    }
    task_id = request_notification(
        database, settings, mailer, key="approval:17", template="approval_needed", context=context
    )

    assert run_task(runner_with(database, settings, mailer), task_id).status == TaskStatus.DONE

    [message] = smtp_server.messages
    assert [a for _, a in getaddresses([message["To"]])] == ["ops1@moneta.test", "ops2@moneta.test"]
    assert "approval 17" in message["Subject"] and "USD 500.00" in message["Subject"]
    text, html = parts(message)
    for fact in (
        "USD 500.00",
        "Acme Corp (cus_acme)",
        "ann",
        "moneta approvals approve 17 --operator NAME",
    ):
        assert fact in text and fact in html
    assert "Charged twice <by mistake>" in text
    assert "Charged twice &lt;by mistake&gt;" in html and "<by mistake>" not in html


def test_notify_refuses_a_request_missing_a_fact_in_the_caller(
    database: Database, settings: Settings, mailer: SmtpMailer, customer_id: int
) -> None:
    with pytest.raises(ValidationError, match="hosted_invoice_url"):
        request_notification(
            database,
            settings,
            mailer,
            key="receipt:in_missing",
            template="receipt",
            customer_id=customer_id,
            context={"amount": 100, "currency": "usd", "invoice_number": "INV-1"},
        )


def test_hand_built_payload_missing_a_fact_dead_letters_and_sends_nothing(
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    customer_id: int,
) -> None:
    payload = {
        "key": "receipt:in_missing",
        "template": "receipt",
        "to": None,
        "customer_id": customer_id,
        "context": {"amount": 100, "currency": "usd", "invoice_number": "INV-1"},
    }
    with database.transaction() as session:
        task_id = submit(session, "notification.send", payload)
    assert task_id is not None

    outcome = run_task(runner_with(database, settings, mailer), task_id)

    assert outcome.status == TaskStatus.DEAD
    assert "hosted_invoice_url" in (outcome.error or "")
    assert smtp_server.messages == []


def test_render_failure_releases_the_claim_so_a_replay_sends_at_once(
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    customer_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "welcome:render-fails"
    task_id = welcome_task(database, settings, mailer, customer_id, key)

    def broken_template(*_args: Any, **_kwargs: Any) -> Any:
        raise jinja2.TemplateError("the template is broken")

    with monkeypatch.context() as patched:
        patched.setattr("agents.notification.graph.render_email", broken_template)
        outcome = run_task(runner_with(database, settings, mailer), task_id)

    assert outcome.status == TaskStatus.DEAD
    assert "the template is broken" in (outcome.error or "")
    assert smtp_server.messages == []
    assert ledger_entry(database, key).status == ExternalCallStatus.FAILED
    assert notification(database, key).status == "pending"

    # Replayed once the template is fixed: sent now, not after the claim went stale.
    again = handle_again(database, settings, mailer, task_id)

    assert again["outcome"] == "sent"
    assert len(smtp_server.messages) == 1
    assert ledger_entry(database, key).status == ExternalCallStatus.SUCCEEDED
    assert notification(database, key).status == "sent"


def test_duplicate_notify_queues_one_task(
    database: Database, settings: Settings, mailer: SmtpMailer, customer_id: int
) -> None:
    request = {
        "key": "welcome:cus_ada",
        "template": "welcome",
        "customer_id": customer_id,
        "context": {"name": None},
    }
    first = request_notification(database, settings, mailer, **request)
    second = request_notification(database, settings, mailer, **request)

    assert first == second
    with database.transaction() as session:
        assert len(session.scalars(select(Task)).all()) == 1


def test_same_task_run_twice_sends_one_email(
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    customer_id: int,
) -> None:
    task_id = welcome_task(database, settings, mailer, customer_id, "welcome:twice")
    assert run_task(runner_with(database, settings, mailer), task_id).status == TaskStatus.DONE

    again = handle_again(database, settings, mailer, task_id)

    assert again is not None and again["outcome"] == "already_sent"
    assert len(smtp_server.messages) == 1


def test_email_sent_by_a_rolled_back_task_is_not_sent_again(
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    customer_id: int,
) -> None:
    task_id = welcome_task(database, settings, mailer, customer_id, "welcome:rollback")
    task = task_info(database, task_id)
    with pytest.raises(RuntimeError), database.transaction() as session:
        handle(agent_context(database, settings, session, mailer), task)
        raise RuntimeError("the task's own commit failed after the e-mail left")

    outcome = run_task(runner_with(database, settings, mailer), task_id)

    assert outcome.status == TaskStatus.DONE
    assert len(smtp_server.messages) == 1
    with database.transaction() as session:
        finished = session.get(Task, task_id)
        assert finished is not None and finished.result is not None
        assert finished.result["outcome"] == "already_sent"


def test_two_tasks_for_one_key_send_one_email_through_a_worker(
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    redis_client: Any,
    transport: StreamTransport,
    customer_id: int,
) -> None:
    payload = {
        "key": "receipt:in_dup",
        "template": "receipt",
        "to": None,
        "customer_id": customer_id,
        "context": {
            "amount": 900,
            "currency": "usd",
            "invoice_number": "INV-9",
            "hosted_invoice_url": INVOICE_URL,
        },
    }
    with database.transaction() as session:
        submitted = [
            submit(session, "notification.send", payload, dedupe_key=f"copy:{n}") for n in range(3)
        ]
    ids = [task_id for task_id in submitted if task_id is not None]
    assert len(ids) == 3
    worker = Worker(
        Runtime(settings, database, redis_client, transport, {"mailer": mailer}),
        ["notification"],
        concurrency=2,
        handlers={"notification": handle},
    )
    worker.start()
    try:
        wait_until(
            lambda: all(task_status(database, i) == TaskStatus.DONE for i in ids),
            message="every copy done",
        )
    finally:
        worker.stop()
        worker.join(5)

    assert len(smtp_server.messages) == 1
    assert notification(database, "receipt:in_dup").status == "sent"


def test_claim_left_by_a_crashed_worker_is_resent_with_the_same_message_id(
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    customer_id: int,
) -> None:
    key = "welcome:crash"
    task_id = welcome_task(database, settings, mailer, customer_id, key)
    crashing = runner_with(database, settings, CrashAfterDelivery(mailer))
    with pytest.raises(SimulatedCrash):
        run_task(crashing, task_id)
    assert len(smtp_server.messages) == 1
    assert ledger_entry(database, key).status == ExternalCallStatus.CLAIMED

    # While the claim is fresh, another delivery of the same notification must not send.
    with pytest.raises(RetryableError):
        handle_again(database, settings, mailer, task_id)
    assert len(smtp_server.messages) == 1

    with frozen(utcnow() + timedelta(seconds=settings.task_lease_seconds + 1)):
        outcome = run_task(runner_with(database, settings, mailer), task_id)

    assert outcome.status == TaskStatus.DONE, outcome.error
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"] == message_id_for(key)
    entry = ledger_entry(database, key)
    assert entry.status == ExternalCallStatus.SUCCEEDED and entry.attempts == 2
    assert notification(database, key).status == "sent"


def test_crash_between_claim_and_send_is_sent_once_after_the_lease(
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    customer_id: int,
) -> None:
    key = "welcome:crash-before-send"
    task_id = welcome_task(database, settings, mailer, customer_id, key)
    with pytest.raises(SimulatedCrash):
        run_task(runner_with(database, settings, CrashBeforeDelivery()), task_id)
    # Recorded and claimed in one commit, before anything was sent.
    assert ledger_entry(database, key).status == ExternalCallStatus.CLAIMED
    assert notification(database, key).status == "pending"
    assert smtp_server.messages == []

    # While the claim is fresh, nobody sends (it could be a live worker's).
    with pytest.raises(RetryableError):
        handle_again(database, settings, mailer, task_id)
    assert smtp_server.messages == []

    with frozen(utcnow() + timedelta(seconds=settings.task_lease_seconds + 1)):
        outcome = run_task(runner_with(database, settings, mailer), task_id)
        again = handle_again(database, settings, mailer, task_id)

    assert outcome.status == TaskStatus.DONE, outcome.error
    assert again["outcome"] == "already_sent"
    [sent] = smtp_server.messages
    assert sent["Message-ID"] == message_id_for(key)
    entry = ledger_entry(database, key)
    assert entry.status == ExternalCallStatus.SUCCEEDED and entry.attempts == 2
    assert entry.request == {"to": "ada@example.com", "message_id": message_id_for(key)}
    assert notification(database, key).status == "sent"


def test_smtp_server_down_is_retried_and_nothing_is_marked_sent(
    database: Database,
    settings: Settings,
    mailer: SmtpMailer,
    smtp_server: SmtpServer,
    customer_id: int,
) -> None:
    key = "welcome:down"
    down = SmtpMailer.from_url(f"smtp://127.0.0.1:{unused_port()}?timeout=2")
    task_id = welcome_task(database, settings, down, customer_id, key)

    outcome = run_task(runner_with(database, settings, down), task_id)

    assert outcome.status == "retry"
    assert "MailDeliveryError" in (outcome.error or "")
    assert task_status(database, task_id) == TaskStatus.PENDING
    assert notification(database, key).status == "pending"
    assert ledger_entry(database, key).status == ExternalCallStatus.FAILED

    with frozen(utcnow() + timedelta(seconds=settings.retry_max_seconds + 1)):
        assert run_task(runner_with(database, settings, mailer), task_id).status == TaskStatus.DONE
    assert len(smtp_server.messages) == 1
    assert notification(database, key).status == "sent"
    assert ledger_entry(database, key).status == ExternalCallStatus.SUCCEEDED


def test_temporary_recipient_refusal_is_retried(
    database: Database, settings: Settings, mailer: SmtpMailer, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse("busy@example.com", "451 4.7.1 greylisted, try later")
    task_id = request_notification(
        database,
        settings,
        mailer,
        key="welcome:busy",
        template="welcome",
        to="busy@example.com",
        context={"name": None},
    )

    outcome = run_task(runner_with(database, settings, mailer), task_id)

    assert outcome.status == "retry"
    assert notification(database, "welcome:busy").status == "pending"


def test_permanent_recipient_refusal_dead_letters_and_records_failure(
    database: Database, settings: Settings, mailer: SmtpMailer, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse("gone@example.com", "550 5.1.1 no such user")
    task_id = request_notification(
        database,
        settings,
        mailer,
        key="welcome:gone",
        template="welcome",
        to="gone@example.com",
        context={"name": None},
    )

    outcome = run_task(runner_with(database, settings, mailer), task_id)

    assert outcome.status == TaskStatus.DEAD
    failed = notification(database, "welcome:gone")
    assert failed.status == "failed" and "550" in (failed.error or "")
    assert ledger_entry(database, "welcome:gone").status == ExternalCallStatus.FAILED
    assert smtp_server.messages == []


def test_customer_without_email_is_recorded_failed_and_not_retried(
    database: Database, settings: Settings, mailer: SmtpMailer, smtp_server: SmtpServer
) -> None:
    with database.transaction() as session:
        customer = Customer(stripe_customer_id="cus_noemail", email=None)
        session.add(customer)
        session.flush()
        no_email_id = customer.id
    task_id = request_notification(
        database,
        settings,
        mailer,
        key="welcome:cus_noemail",
        template="welcome",
        customer_id=no_email_id,
        context={"name": None},
    )

    outcome = run_task(runner_with(database, settings, mailer), task_id)

    assert outcome.status == TaskStatus.DONE
    failed = notification(database, "welcome:cus_noemail")
    assert (
        failed.status == "failed"
        and failed.error == f"customer {no_email_id} has no e-mail address"
    )
    assert smtp_server.messages == []


@pytest.fixture
def outbox(settings: Settings) -> FileOutboxMailer:
    return FileOutboxMailer(settings.effective_outbox_dir)


def test_file_outbox_writes_one_eml_per_notification_key(
    database: Database, settings: Settings, outbox: FileOutboxMailer, customer_id: int
) -> None:
    runner = runner_with(database, settings, outbox)
    for key in ("welcome:a", "welcome:b"):
        task_id = request_notification(
            database,
            settings,
            outbox,
            key=key,
            template="welcome",
            customer_id=customer_id,
            context={"name": "Ada"},
        )
        assert run_task(runner, task_id).status == TaskStatus.DONE

    expected = {outbox.path_for(message_id_for(k)) for k in ("welcome:a", "welcome:b")}
    assert set(outbox.folder.iterdir()) == expected
    written = message_from_bytes(
        outbox.path_for(message_id_for("welcome:a")).read_bytes(), policy=policy.default
    )
    assert written["Message-ID"] == message_id_for("welcome:a")
    assert written["To"] == "ada@example.com"
    assert written.get_content_type() == "multipart/alternative"


def test_file_outbox_resend_replaces_the_file_of_that_message_id(
    outbox: FileOutboxMailer,
) -> None:
    first = OutboundEmail(
        to="ada@example.com",
        subject="Hello",
        text="first try",
        html=None,
        message_id=message_id_for("welcome:resend"),
        sender="Moneta <billing@moneta.local>",
    )
    outbox.send(first)
    outbox.send(replace(first, text="second try"))

    [only] = outbox.folder.iterdir()
    assert only == outbox.path_for(first.message_id)
    resent = message_from_bytes(only.read_bytes(), policy=policy.default)
    assert "second try" in resent.get_content()
