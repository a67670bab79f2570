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
from db.models.credits import CustomerCredit
from db.models.customer_accounts import CustomerAccount
from db.models.customers import Customer
from db.models.discounts import DiscountRedemption, DiscountRedemptionCount, StripeConfigObject
from db.models.entitlements import Entitlement, EntitlementStatus
from db.models.inbox import StripeEvent
from db.models.invoicing import DunningCase, DunningStatus, InvoiceLine
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
from db.models.subscription_changes import ChangeStatus, SubscriptionChange
from db.models.tasks import Task, TaskStatus
from db.models.taxes import CustomerTaxProfile
from db.models.trials import CustomerTrial
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
    "ChangeStatus",
    "Customer",
    "CustomerAccount",
    "CustomerCredit",
    "CustomerTaxProfile",
    "CustomerTrial",
    "DiscountRedemption",
    "DiscountRedemptionCount",
    "Dispute",
    "DunningCase",
    "DunningStatus",
    "Entitlement",
    "EntitlementStatus",
    "ExternalCall",
    "ExternalCallStatus",
    "Invoice",
    "InvoiceLine",
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
    "StripeConfigObject",
    "StripeEvent",
    "Subscription",
    "SubscriptionChange",
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
