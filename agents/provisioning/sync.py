"""The I/O around the entitlement rules: read the customer's records, write the row changes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agents.context import Submit
from agents.provisioning.rules import (
    REVOKED,
    EntitlementChange,
    HeldEntitlement,
    Reversal,
    SubscriptionFacts,
    reversal_of,
)
from db.audit import record_audit
from db.models import Entitlement, Subscription
from db.repositories import entitlements as repo
from db.repositories.dunning import restricted_subscriptions

ACTOR = "agent:provisioning"
SYNC_TASK = "provisioning.sync"


def subscription_facts(session: Session, customer_id: int) -> list[SubscriptionFacts]:
    """The customer's subscriptions with when each went past_due and what its money became."""
    subscriptions = repo.subscriptions_of(session, customer_id)
    ids = [s.stripe_subscription_id for s in subscriptions]
    since = repo.past_due_since(session, ids)
    money = repo.latest_paid_invoice_money(session, ids)
    restricted = restricted_subscriptions(session, customer_id)
    facts = []
    for sub in subscriptions:
        paid = money.get(sub.stripe_subscription_id)
        reversal = (
            reversal_of(paid.amount_paid, paid.amount_refunded, paid.dispute_lost)
            if paid
            else Reversal.NONE
        )
        facts.append(
            SubscriptionFacts(
                subscription_id=sub.stripe_subscription_id,
                status=sub.status,
                plan=sub.plan,
                past_due_since=_past_due_start(sub, since),
                reversal=reversal,
                restricted=sub.stripe_subscription_id in restricted,
            )
        )
    return facts


def _past_due_start(sub: Subscription, since: Mapping[str, datetime]) -> datetime | None:
    """From the version history; without one, the renewal that failed opened the period."""
    if sub.status != repo.PAST_DUE:
        return None
    return since.get(sub.stripe_subscription_id) or sub.current_period_start or sub.updated_at


def held_entitlements(rows: Mapping[str, Entitlement]) -> dict[str, HeldEntitlement]:
    return {
        feature: HeldEntitlement(feature, row.status, row.limit_value, row.plan, row.grace_until)
        for feature, row in rows.items()
    }


def apply_changes(
    session: Session,
    customer_id: int,
    rows: dict[str, Entitlement],
    changes: list[EntitlementChange],
    now: datetime,
) -> None:
    """Upsert one row per changed feature and audit each change."""
    for change in changes:
        row = rows.get(change.feature)
        if row is None:
            row = Entitlement(customer_id=customer_id, feature=change.feature, granted_at=now)
            session.add(row)
            rows[change.feature] = row
        if change.grant is None:
            row.status = REVOKED
            row.reason = change.reason
            row.revoked_at = now
            row.grace_until = None
        else:
            if change.from_status in (None, REVOKED):
                row.granted_at = now
            row.status = change.grant.status
            row.limit_value = change.grant.limit
            row.plan = change.grant.plan
            row.grace_until = change.grant.grace_until
            row.reason = None
            row.revoked_at = None
        row.updated_at = now
        record_audit(
            session,
            actor=ACTOR,
            action=change.action,
            subject_type="customer",
            subject_id=customer_id,
            data=_audit_data(change),
        )
    session.flush()


def _audit_data(change: EntitlementChange) -> dict[str, Any]:
    grant = change.grant
    return {
        "feature": change.feature,
        "from": change.from_status,
        "to": change.to_status,
        "limit": grant.limit if grant else None,
        "plan": grant.plan if grant else None,
        "grace_until": grant.grace_until.isoformat() if grant and grant.grace_until else None,
        "reason": change.reason,
    }


def schedule_grace_check(submit: Submit, customer_id: int, grace_until: datetime) -> int | None:
    """Re-sync the customer when the grace period ends, so access is revoked on time."""
    return submit(
        SYNC_TASK,
        {"customer_id": customer_id},
        dedupe_key=f"provision-grace:{customer_id}:{grace_until.isoformat()}",
        available_at=grace_until,
    )
