"""Queries of the billing agent: order-guarded upserts of the objects mirrored from Stripe.

Every mirrored row carries `stripe_watermark`, the `created` of the newest event applied to
it. A write locks the row (SELECT ... FOR UPDATE; SQLite serialises writers instead), compares
the event time with the watermark and either applies or reports the event as stale, so two
workers applying events of one object at once cannot interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, bindparam, or_, select, update
from sqlalchemy.orm import Session

from db.models import Customer, Dispute, Invoice, Payment, Refund, Subscription, SubscriptionVersion
from db.statements import execute_prebuilt, insert_ignore

TieRule = Literal["apply", "defer"]
WriteState = Literal["inserted", "updated", "unchanged", "stale", "tied"]


@dataclass(frozen=True)
class Upserted:
    """What an order-guarded write did, and the row's values before it (None if new)."""

    row_id: int
    state: WriteState
    before: dict[str, Any] | None

    @property
    def applied(self) -> bool:
        return self.state in ("inserted", "updated", "unchanged")

    def before_value(self, column: str) -> Any:
        return None if self.before is None else self.before.get(column)


def _lock(session: Session, model: type[Any], criteria: ColumnElement[bool]) -> Any | None:
    stmt = (
        select(model)
        .where(criteria)
        .order_by(model.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(stmt).scalar_one_or_none()


def _guarded_write(
    session: Session,
    model: type[Any],
    criteria: ColumnElement[bool],
    *,
    identity: dict[str, Any],
    values: dict[str, Any],
    created: int,
    links: dict[str, Any] | None = None,
    on_tie: TieRule = "apply",
) -> Upserted:
    """Insert-or-ignore, else update under a row lock when `created` is not older.

    `links` are identity facts (a parent id) filled in whenever still empty, even by a stale
    event. On a tie (same second, different values) `on_tie="defer"` leaves the row alone and
    reports "tied", so the caller can ask Stripe which state is current.
    """
    links = {k: v for k, v in (links or {}).items() if v is not None}
    row = _lock(session, model, criteria)
    if row is None:
        fields = {**identity, **links, **values, "stripe_watermark": created}
        new_id = insert_ignore(session, model, fields)
        if new_id is not None:
            return Upserted(new_id, "inserted", None)
        row = _lock(session, model, criteria)  # a concurrent writer inserted it first
        if row is None:
            raise LookupError(f"{model.__name__} {identity} conflicts with another row")
    before = {name: getattr(row, name) for name in (*values, *links, "stripe_watermark")}
    for name, value in links.items():
        if getattr(row, name) is None:
            setattr(row, name, value)
    changed = {name: v for name, v in values.items() if getattr(row, name) != v}
    if created < row.stripe_watermark:
        state: WriteState = "stale"
    elif created == row.stripe_watermark and changed and on_tie == "defer":
        state = "tied"
    else:
        for name, value in changed.items():
            setattr(row, name, value)
        row.stripe_watermark = created
        state = "updated" if changed else "unchanged"
    session.flush()
    return Upserted(row.id, state, before)


# Customers.


def customer_id_for(session: Session, stripe_customer_id: str) -> int | None:
    found = execute_prebuilt(session, _CUSTOMER_ID, {"stripe_customer_id": stripe_customer_id})
    return found.scalar_one_or_none()


# Every billing event looks its customer up.
_CUSTOMER_ID = select(Customer.id).where(
    Customer.stripe_customer_id == bindparam("stripe_customer_id")
)


def upsert_customer(
    session: Session,
    stripe_customer_id: str,
    *,
    email: str | None,
    name: str | None,
    deleted_at: datetime | None,
    created: int,
) -> Upserted:
    """A deleted customer keeps the contact details it had; Stripe sends none for it."""
    values: dict[str, Any] = {"deleted_at": deleted_at}
    if deleted_at is None:
        values.update(email=email, name=name)
    return _guarded_write(
        session,
        Customer,
        Customer.stripe_customer_id == stripe_customer_id,
        identity={"stripe_customer_id": stripe_customer_id},
        values=values,
        created=created,
    )


def insert_customer_stub(session: Session, stripe_customer_id: str) -> int:
    """A customer known only by id (watermark 0): the next customer event fills it in."""
    insert_ignore(
        session, Customer, {"stripe_customer_id": stripe_customer_id, "stripe_watermark": 0}
    )
    customer_id = customer_id_for(session, stripe_customer_id)
    if customer_id is None:
        raise LookupError(f"customer {stripe_customer_id} vanished after insert")
    return customer_id


def fill_customer_contact(
    session: Session, customer_id: int, *, email: str | None, name: str | None
) -> None:
    """Fill e-mail and name where still unknown; never overwrites what customer events set."""
    for column, value in ((Customer.email, email), (Customer.name, name)):
        if value:
            session.execute(
                update(Customer)
                .where(Customer.id == customer_id, column.is_(None))
                .values({column.key: value})
            )


# Subscriptions and their history.


def upsert_subscription(
    session: Session,
    stripe_subscription_id: str,
    *,
    customer_id: int,
    values: dict[str, Any],
    created: int,
    on_tie: TieRule,
) -> Upserted:
    return _guarded_write(
        session,
        Subscription,
        Subscription.stripe_subscription_id == stripe_subscription_id,
        identity={"stripe_subscription_id": stripe_subscription_id, "customer_id": customer_id},
        values=values,
        created=created,
        on_tie=on_tie,
    )


def record_subscription_version(
    session: Session,
    stripe_subscription_id: str,
    *,
    customer_id: int,
    valid_from: datetime,
    values: dict[str, Any],
) -> bool:
    """Append the snapshot as of `valid_from`; False when that instant is already recorded."""
    row = {
        "stripe_subscription_id": stripe_subscription_id,
        "customer_id": customer_id,
        "valid_from": valid_from,
        **values,
    }
    return insert_ignore(session, SubscriptionVersion, row) is not None


def find_subscription(session: Session, stripe_subscription_id: str) -> Subscription | None:
    return session.execute(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_subscription_id)
    ).scalar_one_or_none()


# Invoices and payments.


def upsert_invoice(
    session: Session,
    stripe_invoice_id: str,
    *,
    customer_id: int,
    values: dict[str, Any],
    created: int,
    on_tie: TieRule,
) -> Upserted:
    return _guarded_write(
        session,
        Invoice,
        Invoice.stripe_invoice_id == stripe_invoice_id,
        identity={"stripe_invoice_id": stripe_invoice_id, "customer_id": customer_id},
        values=values,
        created=created,
        on_tie=on_tie,
    )


def upsert_payment(
    session: Session,
    *,
    stripe_charge_id: str | None,
    stripe_payment_intent_id: str | None,
    values: dict[str, Any],
    links: dict[str, Any],
    created: int,
) -> Upserted:
    """One row per payment, found by charge or payment intent (either may come first)."""
    keys = {
        "stripe_charge_id": stripe_charge_id,
        "stripe_payment_intent_id": stripe_payment_intent_id,
    }
    criteria = [getattr(Payment, name) == value for name, value in keys.items() if value]
    if not criteria:
        raise ValueError("a payment needs a charge or a payment intent id")
    return _guarded_write(
        session,
        Payment,
        or_(*criteria),
        identity={},
        values=values,
        links={**keys, **links},
        created=created,
    )


@dataclass(frozen=True)
class PaymentLink:
    payment_id: int
    customer_id: int | None


def payment_for_charge(session: Session, stripe_charge_id: str) -> PaymentLink | None:
    row = session.execute(
        select(Payment.id, Payment.customer_id).where(Payment.stripe_charge_id == stripe_charge_id)
    ).one_or_none()
    return None if row is None else PaymentLink(row.id, row.customer_id)


# Refunds and disputes.


def upsert_refund(
    session: Session,
    stripe_refund_id: str,
    *,
    payment_id: int | None,
    values: dict[str, Any],
    created: int,
) -> Upserted:
    return _guarded_write(
        session,
        Refund,
        Refund.stripe_refund_id == stripe_refund_id,
        identity={"stripe_refund_id": stripe_refund_id},
        values=values,
        links={"payment_id": payment_id},
        created=created,
    )


def upsert_dispute(
    session: Session,
    stripe_dispute_id: str,
    *,
    payment_id: int | None,
    values: dict[str, Any],
    created: int,
) -> Upserted:
    return _guarded_write(
        session,
        Dispute,
        Dispute.stripe_dispute_id == stripe_dispute_id,
        identity={"stripe_dispute_id": stripe_dispute_id},
        values=values,
        links={"payment_id": payment_id},
        created=created,
    )
