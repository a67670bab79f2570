"""The chart of accounts, and how parties (sub-accounts) are named."""

from __future__ import annotations

from enum import StrEnum


class Account(StrEnum):
    """Every account of the journal. Debit-normal: cash, receivable, refunds, disputes,
    commissions, processor fees, bad debt."""

    CASH_IN_TRANSIT = "cash_in_transit"  # money held at Stripe for us (payments in, payouts out)
    CUSTOMER_RECEIVABLE = "customer_receivable"  # process usage billed, not collected here
    REFUNDS = "refunds"  # money given back to customers (contra-revenue)
    DISPUTES = "disputes"  # money a card network took back for a customer (contra-revenue)
    PROCESSOR_FEES = "processor_fees"  # Stripe's dispute fees (expense)
    COMMISSIONS = "commissions"  # what affiliates and agencies earned from us (expense)
    BAD_DEBT = "bad_debt"  # invoices written off as uncollectible (expense)
    PLATFORM_REVENUE = "platform_revenue"  # customers' payments
    PLATFORM_FEES = "platform_fees"  # our cut of process revenue, and payout fees
    OWNER_PAYABLE = "owner_payable"  # owed to process owners, per owner
    AFFILIATE_PAYABLE = "affiliate_payable"  # owed to affiliates, per affiliate
    AGENCY_PAYABLE = "agency_payable"  # owed to agencies, per agency
    CUSTOMER_CREDIT = "customer_credit"  # credit a customer may spend with us, per customer


DEBIT_NORMAL = frozenset(
    {
        Account.CASH_IN_TRANSIT,
        Account.CUSTOMER_RECEIVABLE,
        Account.REFUNDS,
        Account.DISPUTES,
        Account.PROCESSOR_FEES,
        Account.COMMISSIONS,
        Account.BAD_DEBT,
    }
)

PAYEE_KINDS = ("owner", "affiliate", "agency")

_PAYABLE_OF_KIND = {
    "owner": Account.OWNER_PAYABLE,
    "affiliate": Account.AFFILIATE_PAYABLE,
    "agency": Account.AGENCY_PAYABLE,
}


def payable_account(kind: str) -> Account:
    """The payable account of a payee kind (owner, affiliate, agency)."""
    try:
        return _PAYABLE_OF_KIND[kind]
    except KeyError:
        raise ValueError(f"unknown payee kind {kind!r}; one of {PAYEE_KINDS}") from None


def party(kind: str, ref: str | int) -> str:
    """The sub-account name of one party: `owner:alice`, `customer:12`, `affiliate:7`."""
    return f"{kind}:{ref}"


def normal_balance(account: str, signed_sum: int) -> int:
    """A signed posting sum (debit +) as the account's own side shows it (positive = normal)."""
    return signed_sum if account in DEBIT_NORMAL else -signed_sum
