"""A small book of customers for copilot tests: a double charge, two Bobs, a trial, a dead task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.models import Customer, Payment, Subscription, Task, TaskStatus
from db.session import Database

PAID_AT = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


def seed_copilot_book(database: Database) -> dict[str, int]:
    """Rows the copilot cases refer to; returns their ids by name ("ana", "dead_task", ...)."""
    ids: dict[str, int] = {}
    with database.transaction() as s:
        people = {
            "ana": Customer(stripe_customer_id="cus_ana", email="ana@example.com", name="Ana Lima"),
            "bob1": Customer(
                stripe_customer_id="cus_bob1", email="bob@acme.test", name="Bob Smith"
            ),
            "bob2": Customer(
                stripe_customer_id="cus_bob2", email="bob@beta.test", name="Bob Stone"
            ),
            "carol": Customer(
                stripe_customer_id="cus_carol", email="carol@example.com", name="Carol"
            ),
        }
        s.add_all(people.values())
        s.flush()
        ids.update({k: c.id for k, c in people.items()})
        payments = {
            "ana_p1": _payment("ch_ana_1", people["ana"].id, 4_900, PAID_AT),
            "ana_p2": _payment("ch_ana_2", people["ana"].id, 4_900, PAID_AT + timedelta(minutes=3)),
            "bob1_p1": _payment("ch_bob1_1", people["bob1"].id, 12_000, PAID_AT),
            "carol_p1": _payment("ch_carol_1", people["carol"].id, 2_500, PAID_AT),
        }
        s.add_all(payments.values())
        s.add_all(
            [
                Subscription(
                    stripe_subscription_id="sub_carol",
                    customer_id=people["carol"].id,
                    status="trialing",
                    plan="pro",
                    unit_amount=2_500,
                    currency="usd",
                    trial_end=PAID_AT + timedelta(days=10),
                ),
                Subscription(
                    stripe_subscription_id="sub_bob1",
                    customer_id=people["bob1"].id,
                    status="active",
                    plan="team",
                    unit_amount=12_000,
                    currency="usd",
                ),
            ]
        )
        dead = _task("notification.send", TaskStatus.DEAD, "SMTP 550 mailbox unavailable")
        done = _task("analytics.daily", TaskStatus.DONE, None)
        s.add_all([dead, done])
        s.flush()
        ids.update({k: p.id for k, p in payments.items()})
        ids.update(dead_task=dead.id, done_task=done.id)
    return ids


def _payment(charge: str, customer_id: int, amount: int, at: datetime) -> Payment:
    return Payment(
        stripe_charge_id=charge,
        customer_id=customer_id,
        amount=amount,
        amount_refunded=0,
        currency="usd",
        status="succeeded",
        paid_at=at,
        created_at=at,
    )


def _task(kind: str, status: str, error: str | None) -> Task:
    return Task(kind=kind, agent=kind.split(".")[0], payload={}, status=status, last_error=error)
