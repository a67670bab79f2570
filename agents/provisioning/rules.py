"""Entitlement rules as pure functions: records in, desired grants and row changes out.

Two tables drive everything:
- `ACCESS_BY_STATUS`: what a subscription's Stripe status means for access. A full refund or a
  lost dispute of the current period's paid invoice (`REVOCATION_BY_REVERSAL`) revokes whatever
  the status says; `past_due` keeps access only until `past_due_since + grace period`.
- `ENTITLEMENT_TRANSITIONS`: (row status now, desired status) -> the audited action.

When no subscription grants access (nothing active, trialing or in grace), the customer holds
the catalog's free plan, so a lapsed customer drops to free rather than to nothing; features
outside the free plan are revoked with the reason of the lapse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from agents.provisioning.plans import PlanCatalog
from db.models.entitlements import EntitlementStatus

ACTIVE = EntitlementStatus.ACTIVE
GRACE = EntitlementStatus.GRACE
REVOKED = EntitlementStatus.REVOKED


class Access(StrEnum):
    GRANT = "grant"
    GRACE = "grace"
    REVOKE = "revoke"


class Reversal(StrEnum):
    """What happened to the money of the subscription's current paid invoice."""

    NONE = "none"
    REFUNDED = "refunded"
    DISPUTE_LOST = "dispute_lost"


# Stripe subscription status -> access, and the revocation reason when access is refused.
ACCESS_BY_STATUS: dict[str, tuple[Access, str | None]] = {
    "active": (Access.GRANT, None),
    "trialing": (Access.GRANT, None),
    "past_due": (Access.GRACE, None),
    "canceled": (Access.REVOKE, "canceled"),
    "unpaid": (Access.REVOKE, "unpaid"),
    "incomplete": (Access.REVOKE, "incomplete"),
    "incomplete_expired": (Access.REVOKE, "incomplete_expired"),
    "paused": (Access.REVOKE, "paused"),
}
UNKNOWN_STATUS_REASON = "unknown_status"
DUNNING_RESTRICTED_REASON = "dunning_restricted"
GRACE_EXPIRED_REASON = "grace_expired"

# A reversed payment revokes access whatever the subscription status says.
REVOCATION_BY_REVERSAL: dict[Reversal, str] = {
    Reversal.REFUNDED: "refunded",
    Reversal.DISPUTE_LOST: "dispute_lost",
}

# Which reason a revoked row carries when several subscriptions were lost at once: worst first.
REASON_PRIORITY: tuple[str, ...] = (
    "dispute_lost",
    "refunded",
    GRACE_EXPIRED_REASON,
    DUNNING_RESTRICTED_REASON,
    "unpaid",
    "canceled",
    "paused",
    "incomplete_expired",
    "incomplete",
    UNKNOWN_STATUS_REASON,
)
NO_SUBSCRIPTION_REASON = "no_subscription"
PLAN_CHANGED_REASON = "plan_changed"
_NEVER = datetime.min.replace(tzinfo=UTC)

# (status of the row now, None if there is no row; desired status) -> audited action.
# Same-status pairs are "changed" and only recorded when limit, plan or grace end differ.
ENTITLEMENT_TRANSITIONS: dict[tuple[str | None, str], str | None] = {
    (None, ACTIVE): "entitlement.granted",
    (None, GRACE): "entitlement.grace_started",
    (None, REVOKED): None,
    (ACTIVE, ACTIVE): "entitlement.changed",
    (ACTIVE, GRACE): "entitlement.grace_started",
    (ACTIVE, REVOKED): "entitlement.revoked",
    (GRACE, ACTIVE): "entitlement.restored",
    (GRACE, GRACE): "entitlement.changed",
    (GRACE, REVOKED): "entitlement.revoked",
    (REVOKED, ACTIVE): "entitlement.granted",
    (REVOKED, GRACE): "entitlement.grace_started",
    (REVOKED, REVOKED): None,
}


class IllegalTransition(ValueError):
    """A row or desired status outside the entitlement state machine."""


@dataclass(frozen=True)
class SubscriptionFacts:
    """What the rules need to know about one subscription of the customer."""

    subscription_id: str
    status: str
    plan: str | None
    past_due_since: datetime | None = None
    reversal: Reversal = Reversal.NONE
    restricted: bool = False  # dunning restricted it: the invoice stays unpaid past the reminders


@dataclass(frozen=True)
class Grant:
    feature: str
    limit: int | None
    plan: str
    status: str  # active | grace
    grace_until: datetime | None = None


@dataclass(frozen=True)
class DesiredEntitlements:
    grants: Mapping[str, Grant]
    revoke_reason: str

    @property
    def grace_until(self) -> datetime | None:
        """The earliest end of a grace period among the grants, when access must be re-checked."""
        ends = [g.grace_until for g in self.grants.values() if g.grace_until is not None]
        return min(ends) if ends else None


@dataclass(frozen=True)
class HeldEntitlement:
    """An entitlement row as it is now."""

    feature: str
    status: str
    limit: int | None
    plan: str | None
    grace_until: datetime | None


@dataclass(frozen=True)
class EntitlementChange:
    feature: str
    action: str
    from_status: str | None
    to_status: str
    grant: Grant | None  # None when revoking
    reason: str | None  # set when revoking


def reversal_of(amount_paid: int, amount_refunded: int, dispute_lost: bool) -> Reversal:
    """A lost dispute, or a refund of the whole paid amount, takes the period's money back."""
    if dispute_lost:
        return Reversal.DISPUTE_LOST
    if amount_paid > 0 and amount_refunded >= amount_paid:
        return Reversal.REFUNDED
    return Reversal.NONE


def access_of(
    sub: SubscriptionFacts, grace_period: timedelta, now: datetime
) -> tuple[Access, str | None, datetime | None]:
    """(access, revocation reason, grace end) of one subscription at `now`."""
    if sub.reversal is not Reversal.NONE:
        return Access.REVOKE, REVOCATION_BY_REVERSAL[sub.reversal], None
    if sub.restricted:
        return Access.REVOKE, DUNNING_RESTRICTED_REASON, None
    access, reason = ACCESS_BY_STATUS.get(sub.status, (Access.REVOKE, UNKNOWN_STATUS_REASON))
    if access is not Access.GRACE:
        return access, reason, None
    grace_until = (sub.past_due_since or now) + grace_period
    if now >= grace_until:
        return Access.REVOKE, GRACE_EXPIRED_REASON, None
    return Access.GRACE, None, grace_until


def desired_entitlements(
    subscriptions: Iterable[SubscriptionFacts],
    catalog: PlanCatalog,
    grace_period: timedelta,
    now: datetime,
) -> DesiredEntitlements:
    """The grants the customer should hold now; the same records always give the same answer."""
    grants: dict[str, Grant] = {}
    lost: list[str] = []
    for sub in subscriptions:
        access, reason, grace_until = access_of(sub, grace_period, now)
        if access is Access.REVOKE:
            lost.append(reason or UNKNOWN_STATUS_REASON)
            continue
        plan = catalog.resolve(sub.plan)
        status = ACTIVE if access is Access.GRANT else GRACE
        for feature, limit in plan.grants.items():
            _keep_better(grants, Grant(feature, limit, plan.key, status, grace_until))
    if grants:
        return DesiredEntitlements(grants, PLAN_CHANGED_REASON)
    free = catalog.free
    free_grants = {f: Grant(f, limit, free.key, ACTIVE) for f, limit in free.grants.items()}
    return DesiredEntitlements(free_grants, _worst_reason(lost))


def _keep_better(grants: dict[str, Grant], candidate: Grant) -> None:
    """Two subscriptions granting one feature: active beats grace, then the larger limit."""
    current = grants.get(candidate.feature)
    if current is None or _strength(candidate) > _strength(current):
        grants[candidate.feature] = candidate


def _strength(grant: Grant) -> tuple[bool, bool, int, datetime, str]:
    return (
        grant.status == ACTIVE,
        grant.limit is None,
        grant.limit or 0,
        grant.grace_until or _NEVER,
        grant.plan,
    )


def _worst_reason(reasons: list[str]) -> str:
    if not reasons:
        return NO_SUBSCRIPTION_REASON
    ranked = [r for r in REASON_PRIORITY if r in reasons]
    return ranked[0] if ranked else reasons[0]


def transition_action(current: str | None, desired: str) -> str | None:
    """The audited action moving a row from `current` to `desired`; refuses unknown states."""
    try:
        return ENTITLEMENT_TRANSITIONS[(current, desired)]
    except KeyError:
        raise IllegalTransition(f"entitlement {current!r} -> {desired!r}") from None


def plan_changes(
    held: Mapping[str, HeldEntitlement], desired: DesiredEntitlements
) -> list[EntitlementChange]:
    """The row changes that make `held` match `desired`, in feature order."""
    changes: list[EntitlementChange] = []
    for feature in sorted(set(held) | set(desired.grants)):
        row = held.get(feature)
        grant = desired.grants.get(feature)
        current = row.status if row else None
        target = grant.status if grant else REVOKED
        action = transition_action(current, target)
        if action is None or (row is not None and grant is not None and _same(row, grant)):
            continue
        reason = None if grant else desired.revoke_reason
        changes.append(EntitlementChange(feature, action, current, target, grant, reason))
    return changes


def _same(row: HeldEntitlement, grant: Grant) -> bool:
    return (row.status, row.limit, row.plan, row.grace_until) == (
        grant.status,
        grant.limit,
        grant.plan,
        grant.grace_until,
    )
