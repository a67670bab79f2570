"""The next-invoice estimate: a golden case computed by hand, and the same subscription's
upcoming invoice at localstripe, to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import redis
import stripe
from sqlalchemy.orm import Session

from agents.invoices.estimate import estimate_next_invoice
from agents.taxes.decision import TaxProfile
from agents.taxes.profiles import set_tax_profile
from core.clock import utcnow
from core.errors import NotFound
from core.settings import Settings
from db.models import Customer, OverageStatus, Subscription, UsageEvent, UsageOverage
from db.repositories.billing import customer_id_for
from db.session import Database
from orchestrator.transport import StreamTransport
from tests.support.invoicing import InvoicingScene, invoicing_scene, localstripe_paying_customer
from tests.support.localstripe import TEST_API_KEY
from tests.support.stripe_events import event
from tools.stripe.client import StripeClientGateway

PERIOD = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CATALOG = """
products:
  - key: team
    name: Team
    type: subscription
    limits: {api_calls: 1000000}
    prices:
      - key: team_monthly
        currency: usd
        revenue_model: recurring
        unit_amount: 4900
        interval: month
      - key: team_api_calls
        nickname: API calls
        currency: usd
        revenue_model: per_unit
        meter: api_calls
        unit_amount: "0.02"
        interval: month
"""


@pytest.fixture
def team_settings(settings: Settings, tmp_path: Path) -> Settings:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    return settings.model_copy(update={"catalog_file": catalog})


def add_customer(session: Session, stripe_id: str) -> int:
    customer = Customer(stripe_customer_id=stripe_id, email=f"{stripe_id}@example.com")
    session.add(customer)
    session.flush()
    return customer.id


def usage(session: Session, customer_id: int, quantity: int, day: int, month: int = 11) -> None:
    session.add(
        UsageEvent(
            customer_id=customer_id,
            metric="api_calls",
            quantity=Decimal(quantity),
            occurred_at=datetime(2026, month, day, 8, 0, tzinfo=UTC),
            idempotency_key=f"u-{month}-{day}-{quantity}",
            properties={},
        )
    )


def overage(
    session: Session,
    customer_id: int,
    amount: int,
    status: str,
    billed: datetime,
    metric: str = "ai_tokens",
) -> None:
    session.add(
        UsageOverage(
            customer_id=customer_id,
            metric=metric,
            period_start=datetime(2026, 10, 1, tzinfo=UTC),
            period_end=datetime(2026, 11, 1, tzinfo=UTC),
            used=Decimal(2_001_250),
            limit_value=2_000_000,
            overage=Decimal(1250),
            amount=amount,
            currency="usd",
            status=status,
            created_at=billed,
            updated_at=billed,
        )
    )


def test_golden_estimate_base_usage_overage_less_discount_plus_tax(
    database: Database, team_settings: Settings
) -> None:
    with database.transaction() as session:
        customer_id = add_customer(session, "cus_golden")
        session.add(
            Subscription(
                stripe_subscription_id="sub_golden",
                customer_id=customer_id,
                status="active",
                plan="team_monthly",
                stripe_price_id="price_team_monthly",
                quantity=2,
                unit_amount=4900,
                currency="usd",
                interval="month",
                interval_count=1,
                discount_percent_off="15",
                current_period_start=PERIOD[0],
                current_period_end=PERIOD[1],
            )
        )
        for quantity, day in ((10_000, 5), (2_000, 9), (325, 19)):
            usage(session, customer_id, quantity, day)
        usage(session, customer_id, 5_000, 31, month=10)  # the previous period: billed then
        overage(session, customer_id, 125, OverageStatus.BILLED, datetime(2026, 11, 2, tzinfo=UTC))
        # Billed before the period started (on the last invoice), and refused by Stripe: not due.
        billed_before = datetime(2026, 10, 30, tzinfo=UTC)
        overage(session, customer_id, 999, OverageStatus.BILLED, billed_before, "api_calls")
        refused = datetime(2026, 11, 2, tzinfo=UTC)
        overage(session, customer_id, 555, OverageStatus.FAILED, refused, "storage_gb")
        set_tax_profile(session, customer_id, TaxProfile("US", "NY"))  # 4% sales tax

    with database.transaction() as session:
        estimate = estimate_next_invoice(session, team_settings, customer_id, at=AT)

    # base 2 x 4900 = 9800; usage 12,325 calls x 0.02 cent = 246.5 -> 246 (half-even);
    # overage: the item billed this period, 125. Subtotal 10171.
    # 15% off per line: 1470, 36.9 -> 37, 18.75 -> 19 = 1526.
    # 4% tax per line on 8330, 209, 106: 333.2 -> 333, 8.36 -> 8, 4.24 -> 4 = 345.
    # Total 10171 - 1526 + 345 = 8990.
    assert [(line.kind, line.amount, line.discount, line.tax) for line in estimate.lines] == [
        ("base", 9800, 1470, 333),
        ("usage", 246, 37, 8),
        ("overage", 125, 19, 4),
        ("discount", -1526, 0, 0),
        ("tax", 345, 0, 0),
    ]
    assert estimate.lines[1].quantity == Decimal(12_325)
    assert (estimate.subtotal, estimate.discount, estimate.tax, estimate.total) == (
        10171,
        1526,
        345,
        8990,
    )
    assert (estimate.period_start, estimate.period_end) == (
        PERIOD[1],
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert estimate.currency == "usd"


def test_no_renewing_subscription_means_no_upcoming_invoice(
    database: Database, settings: Settings
) -> None:
    with database.transaction() as session:
        customer_id = add_customer(session, "cus_none")
        session.add(
            Subscription(
                stripe_subscription_id="sub_ending",
                customer_id=customer_id,
                status="active",
                plan="pro_monthly",
                unit_amount=9900,
                cancel_at_period_end=True,
                current_period_start=PERIOD[0],
                current_period_end=PERIOD[1],
            )
        )
    with database.transaction() as session, pytest.raises(NotFound) as missing:
        estimate_next_invoice(session, settings, customer_id, at=AT)
    assert missing.value.code == "no_upcoming_invoice"


@pytest.fixture
def localstripe_scene(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    localstripe: str,
) -> Iterator[tuple[InvoicingScene, stripe.StripeClient, StripeClientGateway]]:
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe)
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": localstripe})
    with invoicing_scene(settings, database, redis_client, transport, gateway) as scene:
        yield scene, client, gateway


def test_estimate_matches_the_upcoming_invoice_localstripe_computes(
    localstripe_scene: tuple[InvoicingScene, stripe.StripeClient, StripeClientGateway],
    database: Database,
    settings: Settings,
) -> None:
    scene, client, gateway = localstripe_scene
    stripe_customer_id = localstripe_paying_customer(client, "grace@example.com")
    plan = client.v1.plans.create(
        {"amount": 4900, "currency": "usd", "interval": "month", "product": {"name": "Team"}}
    )
    ny_tax = client.v1.tax_rates.create(
        {"display_name": "NY sales tax", "percentage": 4.0, "inclusive": False}
    )
    subscription = client.v1.subscriptions.create(
        {
            "customer": stripe_customer_id,
            "items": [{"plan": plan.id, "quantity": 3}],
            "default_tax_rates": [ny_tax.id],
        }
    )
    scene.deliver(event("customer.subscription.created", subscription.to_dict()))
    # Metering billed an overage item this period; Stripe holds it for the next invoice.
    gateway.create_invoice_item(
        customer=stripe_customer_id,
        amount=1337,
        currency="usd",
        description="ai_tokens over the limit",
        idempotency_key="usage_overage:test",
    )
    with database.transaction() as session:
        customer_id = customer_id_for(session, stripe_customer_id)
        assert customer_id is not None
        overage(session, customer_id, 1337, OverageStatus.BILLED, utcnow())
        set_tax_profile(session, customer_id, TaxProfile("US", "NY"))
    with database.transaction() as session:
        estimate = estimate_next_invoice(session, settings, customer_id, at=utcnow())

    upcoming = client.v1.invoices.create_preview(
        {"customer": stripe_customer_id, "subscription": subscription.id}
    ).to_dict()
    billed = sorted(line["amount"] for line in upcoming["lines"]["data"])
    estimated = sorted(line.amount for line in estimate.lines if line.kind != "tax")
    assert estimated == billed == [1337, 14700]
    # 4% of 14700 = 588 and of 1337 = 53.48 -> 53: 641; total 16037 + 641 = 16678.
    assert (estimate.subtotal, estimate.tax, estimate.total) == (
        upcoming["subtotal"],
        upcoming["tax"],
        upcoming["total"],
    )
    assert estimate.total == 16678
