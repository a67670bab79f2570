"""Seed a subscribed customer for subscription-change tests: our mirror rows, the synced
catalog prices, and (for the sandbox) the same subscription and prices on the Stripe side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from agents.catalog.loader import load_catalog
from agents.catalog.models import RecurringPrice
from agents.subscriptions.planning import ChangeRequest
from agents.subscriptions.service import request_change
from core.settings import Settings
from db.models import (
    Customer,
    Invoice,
    Payment,
    Price,
    Product,
    Subscription,
    SubscriptionChange,
)
from db.session import Database
from orchestrator.outbox import submit
from tools.stripe.sandbox import SandboxGateway

PLAN_PRICES = ("starter_monthly", "starter_yearly", "pro_monthly", "pro_yearly")


@dataclass(frozen=True)
class Subscribed:
    customer_id: int
    stripe_customer_id: str
    stripe_subscription_id: str
    subscription_id: int
    payment_id: int | None


def seed_synced_prices(database: Database, stripe_ids: dict[str, str]) -> None:
    """Price rows as `moneta catalog sync` records them: catalog key -> Stripe price id."""
    catalog = load_catalog()
    with database.transaction() as session:
        products: dict[str, int] = {}
        for key, stripe_id in stripe_ids.items():
            price = catalog.price(key)
            assert isinstance(price, RecurringPrice)
            product_key = catalog.product_of(key).key
            if product_key not in products:
                product = Product(key=product_key, name=product_key.title())
                session.add(product)
                session.flush()
                products[product_key] = product.id
            session.add(
                Price(
                    product_id=products[product_key],
                    stripe_price_id=stripe_id,
                    plan=product_key,
                    key=key,
                    unit_amount=price.unit_amount,
                    currency=price.currency,
                    interval=price.interval,
                    active=True,
                )
            )


def seed_subscription(
    database: Database,
    *,
    stripe_customer_id: str,
    stripe_subscription_id: str,
    stripe_price_id: str,
    plan: str,
    unit_amount: int,
    period: tuple[datetime, datetime],
    quantity: int = 1,
    status: str = "active",
    paid_charge: str | None = None,
    customer_id: int | None = None,
) -> Subscribed:
    """(Customer +) mirrored subscription; with `paid_charge`, its paid invoice and payment."""
    with database.transaction() as session:
        customer = session.get(Customer, customer_id) if customer_id else None
        if customer is None:
            customer = Customer(email="sub@example.com")
            session.add(customer)
        customer.stripe_customer_id = stripe_customer_id
        session.flush()
        subscription = Subscription(
            stripe_subscription_id=stripe_subscription_id,
            customer_id=customer.id,
            status=status,
            plan=plan,
            stripe_price_id=stripe_price_id,
            quantity=quantity,
            unit_amount=unit_amount,
            currency="usd",
            interval="month",
            interval_count=1,
            current_period_start=period[0],
            current_period_end=period[1],
            cancel_at_period_end=False,
            stripe_watermark=int(period[0].timestamp()),
        )
        session.add(subscription)
        session.flush()
        payment_id = None
        if paid_charge is not None:
            invoice_id = f"in_{paid_charge}"
            session.add(
                Invoice(
                    stripe_invoice_id=invoice_id,
                    customer_id=customer.id,
                    stripe_subscription_id=stripe_subscription_id,
                    status="paid",
                    amount_due=unit_amount * quantity,
                    amount_paid=unit_amount * quantity,
                    currency="usd",
                    period_start=period[0],
                    period_end=period[1],
                )
            )
            payment = Payment(
                stripe_charge_id=paid_charge,
                customer_id=customer.id,
                stripe_invoice_id=invoice_id,
                amount=unit_amount * quantity,
                amount_refunded=0,
                currency="usd",
                status="succeeded",
            )
            session.add(payment)
            session.flush()
            payment_id = payment.id
        return Subscribed(
            customer.id, stripe_customer_id, stripe_subscription_id, subscription.id, payment_id
        )


def sandbox_price(price_id: str, amount: int, interval: str = "month") -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "unit_amount": amount,
        "currency": "usd",
        "recurring": {"interval": interval, "interval_count": 1},
    }


def seed_sandbox_subscription(
    sandbox: SandboxGateway,
    subscribed: Subscribed,
    price: dict[str, Any],
    period: tuple[datetime, datetime],
    quantity: int = 1,
) -> None:
    """The same subscription on the sandbox's side (endive layout: periods on the item)."""
    sandbox.put(
        "subscription",
        {
            "id": subscribed.stripe_subscription_id,
            "object": "subscription",
            "customer": subscribed.stripe_customer_id,
            "status": "active",
            "currency": "usd",
            "cancel_at_period_end": False,
            "canceled_at": None,
            "ended_at": None,
            "pause_collection": None,
            "start_date": int(period[0].timestamp()),
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": f"si_{subscribed.stripe_subscription_id}",
                        "price": price,
                        "quantity": quantity,
                        "current_period_start": int(period[0].timestamp()),
                        "current_period_end": int(period[1].timestamp()),
                    }
                ],
            },
        },
    )


def request(
    database: Database,
    settings: Settings,
    customer_id: int,
    change: ChangeRequest,
    *,
    at: datetime,
    key: str,
) -> SubscriptionChange:
    """Request `change` as the API does, in its own transaction; the recorded row, detached."""
    with database.transaction() as session:
        row = request_change(
            session,
            load_catalog(),
            customer_id,
            change,
            client_key=key,
            requested_by="customer:test",
            submit=submit,
            settings=settings,
            at=at,
        )
        session.expunge(row)
        return row


def reload_change(database: Database, change_id: int) -> SubscriptionChange:
    with database.transaction() as session:
        row = session.get(SubscriptionChange, change_id)
        assert row is not None
        session.expunge(row)
        return row


def mirrored_subscription(database: Database) -> Subscription:
    """The one mirrored subscription of the test."""
    with database.transaction() as session:
        row = session.scalars(select(Subscription)).one()
        session.expunge(row)
        return row
