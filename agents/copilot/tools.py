"""The copilot's tools: reads, and proposals that only create approvals for a human.

No tool here executes a money action, decides an approval or retries a task: a proposal is a
pending approval row (refunds through the refund gate), which operators decide as any other.
Tools answer with JSON-ready dicts; a business error comes back as {"error": ...} so the
model can tell the operator instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from sqlalchemy.orm import Session

from agents.approvals import service as approvals
from agents.approvals.repository import find_payment
from agents.approvals.service import SubmitTask
from agents.approvals.views import approval_view
from agents.copilot import repository as repo
from agents.copilot.evidence import duplicates, refundable
from core.errors import InvalidInput, MonetaError, NotFound
from core.money import format_money
from core.settings import Settings
from db.models import Approval, Customer, Payment, Task, TaskStatus
from db.session import Database

MAX_METRIC_DAYS = 31
ORIGIN = "copilot"


@dataclass
class CopilotTools:
    """Every tool bound to one database and the operator on whose behalf proposals are made."""

    database: Database
    settings: Settings
    operator: str
    submit: SubmitTask

    # -- reads ---------------------------------------------------------------------------------

    def find_customer(self, query: str) -> dict[str, Any]:
        """Customers matching an e-mail, name, Stripe id or our id."""
        with self.database.transaction() as session:
            found = [_customer(c) for c in repo.find_customers(session, query)]
        answer: dict[str, Any] = {"matches": found}
        if len(found) > 1:
            answer["ambiguous"] = "several customers match: ask the operator which one"
        return answer

    def list_payments(self, customer_id: int) -> dict[str, Any]:
        """The customer's payments, with likely duplicate charges marked."""
        with self.database.transaction() as session:
            payments = repo.payments_of(session, customer_id)
            twins = duplicates(payments)
            return {"payments": [_payment(p, twins.get(p.id)) for p in payments]}

    def list_invoices(self, customer_id: int) -> dict[str, Any]:
        """The customer's invoices: number, status, amounts due and paid."""
        with self.database.transaction() as session:
            return {
                "invoices": [
                    {
                        "id": i.id,
                        "stripe_invoice_id": i.stripe_invoice_id,
                        "number": i.number,
                        "status": i.status,
                        "amount_due": format_money(i.amount_due, i.currency),
                        "amount_paid": format_money(i.amount_paid, i.currency),
                        "subscription": i.stripe_subscription_id,
                    }
                    for i in repo.invoices_of(session, customer_id)
                ]
            }

    def subscription_history(self, customer_id: int) -> dict[str, Any]:
        """The customer's subscriptions with each recorded change of status or plan."""
        with self.database.transaction() as session:
            return {
                "subscriptions": [
                    {
                        "id": s.id,
                        "stripe_subscription_id": s.stripe_subscription_id,
                        "status": s.status,
                        "plan": s.plan,
                        "price": format_money(s.unit_amount * s.quantity, s.currency),
                        "trial_end": _iso(s.trial_end),
                        "current_period_end": _iso(s.current_period_end),
                        "history": [
                            {"from": _iso(v.valid_from), "status": v.status, "plan": v.plan}
                            for v in repo.versions_of(session, s.stripe_subscription_id)
                        ],
                    }
                    for s in repo.subscriptions_of(session, customer_id)
                ]
            }

    def metrics(self, start_day: str, end_day: str) -> dict[str, Any]:
        """Daily all-plan metrics (MRR, revenue, refunds, churn, failed payments) per day."""
        start, end = _day(start_day), _day(end_day)
        if end < start or end - start > timedelta(days=MAX_METRIC_DAYS):
            raise InvalidInput(f"a range of 1 to {MAX_METRIC_DAYS} days, start first")
        with self.database.transaction() as session:
            days = repo.total_snapshots(session, start, end)
            return {
                "days": [
                    {"day": s.day.isoformat(), "currency": s.currency, **s.metrics} for s in days
                ]
            }

    def approval_status(self, status: str = "pending") -> dict[str, Any]:
        """Approvals with a status: pending, approved, rejected, expired, executed, failed."""
        with self.database.transaction() as session:
            return {
                "approvals": [approval_view(a) for a in approvals.list_approvals(session, status)]
            }

    def task_status(self, status: str = "dead") -> dict[str, Any]:
        """Tasks with a status (dead: failed for good, waiting for an operator)."""
        with self.database.transaction() as session:
            return {
                "tasks": [
                    {
                        "id": t.id,
                        "kind": t.kind,
                        "status": t.status,
                        "attempts": t.attempts,
                        "error": (t.last_error or "").strip().splitlines()[-1:] or None,
                    }
                    for t in repo.tasks_with_status(session, status)
                ]
            }

    # -- proposals: pending approvals, decided by people ----------------------------------------

    def propose_refund(self, payment: str, amount: int, reason: str) -> dict[str, Any]:
        """Ask for a refund of `amount` minor units of `payment` (our id, charge or intent)."""
        with self.database.transaction() as session:
            found = _payment_row(session, payment)
            twins = duplicates(repo.payments_of(session, found.customer_id or 0))
            evidence = {
                **_payment(found, twins.get(found.id)),
                "customer": _customer_label(session, found.customer_id),
            }
            approval = approvals.request_refund(
                session,
                payment_ref=str(found.id),
                amount=amount,
                reason=_with_evidence(reason, evidence),
                requested_by=self.operator,
                submit=self.submit,
                settings=self.settings,
                origin=ORIGIN,
            )
            return _proposal(approval, evidence)

    def propose_credit(
        self, customer_id: int, amount: int, currency: str, reason: str
    ) -> dict[str, Any]:
        """Ask for an account credit of `amount` minor units."""
        if amount <= 0:
            raise InvalidInput("a credit must be a positive amount of minor units")
        with self.database.transaction() as session:
            customer = _customer_row(session, customer_id)
            evidence = {"customer": _customer(customer), "amount": format_money(amount, currency)}
            return self._request(
                session,
                "credit",
                "customer",
                str(customer.id),
                customer.id,
                amount,
                currency,
                reason,
                evidence,
            )

    def propose_cancel(self, subscription: str, reason: str) -> dict[str, Any]:
        """Ask to cancel a subscription (our id or Stripe's)."""
        return self._subscription_action("cancel", subscription, reason, {})

    def propose_trial_extension(self, subscription: str, days: int, reason: str) -> dict[str, Any]:
        """Ask to extend a subscription's trial by `days`."""
        if not 1 <= days <= 90:
            raise InvalidInput("a trial extension is 1 to 90 days")
        return self._subscription_action("extend_trial", subscription, reason, {"days": days})

    def propose_task_retry(self, task_id: int, reason: str) -> dict[str, Any]:
        """Ask to retry a dead task: once approved, it is queued again (once)."""
        with self.database.transaction() as session:
            task = session.get(Task, task_id)
            if task is None:
                raise NotFound(f"no task {task_id}")
            if task.status != TaskStatus.DEAD:
                raise InvalidInput(f"task {task_id} is {task.status}; only dead tasks are retried")
            evidence = {
                "task": task_id,
                "kind": task.kind,
                "attempts": task.attempts,
                "last_error": (task.last_error or "").strip().splitlines()[-1:],
            }
            return self._request(
                session, "retry_task", "task", str(task_id), None, 0, "xxx", reason, evidence
            )

    def ask_operator(self, question: str) -> dict[str, Any]:
        """Ask the operator a question instead of guessing (ambiguity, missing amount)."""
        return {"question": question.strip()}

    def _subscription_action(
        self, action: str, ref: str, reason: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        with self.database.transaction() as session:
            sub = repo.find_subscription(session, ref)
            if sub is None:
                raise NotFound(f"no subscription {ref!r}")
            evidence = {
                "subscription": sub.stripe_subscription_id,
                "status": sub.status,
                "plan": sub.plan,
                "trial_end": _iso(sub.trial_end),
                **extra,
            }
            return self._request(
                session,
                action,
                "subscription",
                sub.stripe_subscription_id,
                sub.customer_id,
                0,
                sub.currency,
                reason,
                evidence,
                details=extra,
            )

    def _request(
        self,
        session: Session,
        action: str,
        subject_type: str,
        subject_id: str,
        customer_id: int | None,
        amount: int,
        currency: str,
        reason: str,
        evidence: dict[str, Any],
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        approval = approvals.request_action(
            session,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            customer_id=customer_id,
            amount=amount,
            currency=currency,
            reason=_with_evidence(reason, evidence),
            requested_by=self.operator,
            submit=self.submit,
            settings=self.settings,
            origin=ORIGIN,
            details=details,
        )
        return _proposal(approval, evidence)

    # -- as LangChain tools ---------------------------------------------------------------------

    def functions(self) -> dict[str, Callable[..., dict[str, Any]]]:
        return {
            f.__name__: f
            for f in (
                self.find_customer,
                self.list_payments,
                self.list_invoices,
                self.subscription_history,
                self.metrics,
                self.approval_status,
                self.task_status,
                self.propose_refund,
                self.propose_credit,
                self.propose_cancel,
                self.propose_trial_extension,
                self.propose_task_retry,
                self.ask_operator,
            )
        }

    def call(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Run tool `name`; business errors and bad arguments become {"error": ...}."""
        function = self.functions().get(name)
        if function is None:
            return {"error": f"no tool {name!r}"}
        try:
            return function(**args)
        except MonetaError as exc:
            return {"error": exc.message}
        except (TypeError, ValueError) as exc:
            return {"error": f"bad arguments for {name}: {exc}"}

    def as_langchain(self) -> list[BaseTool]:
        return [StructuredTool.from_function(f) for f in self.functions().values()]


def _proposal(approval: Approval, evidence: dict[str, Any]) -> dict[str, Any]:
    view = approval_view(approval)
    return {
        "proposal": {
            "approval_id": view["id"],
            "action": view["action"],
            "status": view["status"],
            "amount": view["amount"],
            "currency": view["currency"],
            "subject": f"{view['subject_type']}:{view['subject_id']}",
            "required_approvals": view["required_approvals"],
            "reason": view["reason"],
            "evidence": evidence,
        }
    }


def _with_evidence(reason: str, evidence: dict[str, Any]) -> str:
    facts = ", ".join(f"{k}={v}" for k, v in evidence.items() if v not in (None, [], {}))
    return f"{reason.strip()} [copilot evidence: {facts}]" if reason.strip() else ""


def _customer(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "email": c.email,
        "name": c.name,
        "stripe_customer_id": c.stripe_customer_id,
    }


def _customer_label(session: Session, customer_id: int | None) -> str | None:
    customer = session.get(Customer, customer_id) if customer_id else None
    return customer.email or customer.name if customer else None


def _customer_row(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def _payment_row(session: Session, ref: str) -> Payment:
    payment = find_payment(session, str(ref).strip())
    if payment is None:
        raise NotFound(f"no payment {ref!r}")
    return payment


def _payment(p: Payment, duplicate_of: int | None) -> dict[str, Any]:
    return {
        "payment_id": p.id,
        "charge": p.stripe_charge_id,
        "amount": p.amount,
        "currency": p.currency,
        "display": format_money(p.amount, p.currency),
        "refundable": refundable(p),
        "status": p.status,
        "paid_at": _iso(p.paid_at or p.created_at),
        "invoice": p.stripe_invoice_id,
        "duplicate_of": duplicate_of,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"a day is YYYY-MM-DD, got {value!r}") from None
