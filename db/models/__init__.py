"""All models, imported here so metadata (and Alembic) sees every table."""

from db.models.analytics import AnalyticsEvent, MetricSnapshot
from db.models.approvals import Approval, ApprovalDecision, ApprovalStatus
from db.models.billing import (
    Dispute,
    Invoice,
    Payment,
    Refund,
    Subscription,
    SubscriptionVersion,
)
from db.models.catalog import Price, Product
from db.models.customers import Customer
from db.models.entitlements import Entitlement, EntitlementStatus
from db.models.inbox import StripeEvent
from db.models.ledger import AuditEntry, ExternalCall, ExternalCallStatus
from db.models.llm import LlmCall, Narrative
from db.models.notifications import Notification
from db.models.operators import LoginAttempt, Operator, OperatorSession, OperatorToken
from db.models.tasks import Task, TaskStatus

__all__ = [
    "AnalyticsEvent",
    "Approval",
    "ApprovalDecision",
    "ApprovalStatus",
    "AuditEntry",
    "Customer",
    "Dispute",
    "Entitlement",
    "EntitlementStatus",
    "ExternalCall",
    "ExternalCallStatus",
    "Invoice",
    "LlmCall",
    "LoginAttempt",
    "MetricSnapshot",
    "Narrative",
    "Notification",
    "Operator",
    "OperatorSession",
    "OperatorToken",
    "Payment",
    "Price",
    "Product",
    "Refund",
    "StripeEvent",
    "Subscription",
    "SubscriptionVersion",
    "Task",
    "TaskStatus",
]
