"""Entitlement answers come from a cache, and a revoke by the provisioning agent shows at once."""

from __future__ import annotations

import time
import uuid

import redis
from sqlalchemy import update

from agents.provisioning.cache import EntitlementCache
from agents.provisioning.graph import handle as provisioning
from core.clock import utcnow
from core.settings import Settings
from db.models import Customer, Entitlement, Subscription
from db.session import Database
from orchestrator.outbox import submit
from tests.support.task_running import AgentTasks
from tests.support.waiting import wait_until


def subscribed_customer(database: Database, plan: str) -> int:
    with database.transaction() as session:
        customer = Customer(stripe_customer_id=f"cus_{uuid.uuid4().hex[:12]}")
        session.add(customer)
        session.flush()
        session.add(
            Subscription(
                stripe_subscription_id=f"sub_{customer.id}",
                customer_id=customer.id,
                status="active",
                plan=plan,
                current_period_start=utcnow(),
            )
        )
        return customer.id


def sync(database: Database, customer_id: int, agents: AgentTasks) -> None:
    with database.transaction() as session:
        submit(session, "provisioning.sync", {"customer_id": customer_id})
    agents.drain()


def test_a_revoke_by_provisioning_flips_the_cached_answer_within_a_second(
    database: Database, settings: Settings, redis_client: redis.Redis
) -> None:
    agents = AgentTasks(database, settings, {"redis": redis_client}, {"provisioning": provisioning})
    cache = EntitlementCache(database, redis_client, settings.redis_prefix)
    customer = subscribed_customer(database, "pro")
    sync(database, customer, agents)
    assert cache.has_feature(customer, "priority_support")
    assert cache.check(customer, "api_calls").limit == 500_000

    # Rows changed behind provisioning's back are not seen: the answer really is cached.
    with database.transaction() as session:
        session.execute(
            update(Entitlement)
            .where(Entitlement.customer_id == customer, Entitlement.feature == "projects")
            .values(limit_value=1)
        )
    assert cache.check(customer, "projects").limit == 50

    with database.transaction() as session:
        session.execute(
            update(Subscription)
            .where(Subscription.customer_id == customer)
            .values(status="canceled")
        )
    sync(database, customer, agents)
    revoked_at = time.monotonic()
    wait_until(
        lambda: not cache.has_feature(customer, "priority_support"),
        timeout=1.0,
        interval=0.01,
        message="the cached answer to flip",
    )
    assert time.monotonic() - revoked_at < 1.0
    assert cache.snapshot(customer).plan == "free"
