"""All models, imported here so metadata (and Alembic) sees every table."""

from db.models.access import AccessDecisionRecord
from db.models.analytics import AnalyticsEvent, MetricSnapshot
from db.models.api_keys import ApiKey
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
from db.models.ledger_journal import JournalEntry, JournalPosting
from db.models.llm import LlmCall, Narrative
from db.models.metering import OverageStatus, UsageAlert, UsageEvent, UsageOverage
from db.models.notifications import Notification
from db.models.operators import LoginAttempt, Operator, OperatorSession, OperatorToken
from db.models.partners import (
    Affiliate,
    Agency,
    AgencyClient,
    PartnerCommission,
    Referral,
    ReferralClick,
    WhiteLabelBrand,
)
from db.models.processes import MonetizedProcess, Payee, Payout, ProcessUsage
from db.models.tasks import Task, TaskStatus
from db.models.wallets import (
    WalletAccount,
    WalletDebit,
    WalletGrant,
    WalletPendingRefund,
    WalletRefund,
)

__all__ = [
    "AccessDecisionRecord",
    "Affiliate",
    "Agency",
    "AgencyClient",
    "AnalyticsEvent",
    "ApiKey",
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
    "JournalEntry",
    "JournalPosting",
    "LlmCall",
    "LoginAttempt",
    "MetricSnapshot",
    "MonetizedProcess",
    "Narrative",
    "Notification",
    "Operator",
    "OperatorSession",
    "OperatorToken",
    "OverageStatus",
    "PartnerCommission",
    "Payee",
    "Payment",
    "Payout",
    "Price",
    "ProcessUsage",
    "Product",
    "Referral",
    "ReferralClick",
    "Refund",
    "StripeEvent",
    "Subscription",
    "SubscriptionVersion",
    "Task",
    "TaskStatus",
    "UsageAlert",
    "UsageEvent",
    "UsageOverage",
    "WalletAccount",
    "WalletDebit",
    "WalletGrant",
    "WalletPendingRefund",
    "WalletRefund",
    "WhiteLabelBrand",
]
