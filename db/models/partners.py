"""Partners who earn on other people's payments: affiliates, agencies, and agencies' branding.

Rates are integer basis points (1,000 = 10%); money is integer minor units. A commission row
is the record of one earning (or one clawback of it) and is unique by `source_key`, so an event
seen twice earns once. Its journal entry is posted in the same unit of work. Where a partner is
paid (Connect account, hold) lives on its payee (`payees`, party `affiliate:<id>`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class PartnerKind:
    AFFILIATE = "affiliate"
    AGENCY = "agency"


class ReviewStatus:
    CLEAR = "clear"  # nothing suspicious: commissions are earned as they come
    FLAGGED = "flagged"  # self-referral or shared payment method: commissions held
    CLEARED = "cleared"  # an operator looked and let it through
    REJECTED = "rejected"  # an operator refused it: held commissions are never paid


class CommissionStatus:
    EARNED = "earned"  # posted to the partner's payable account
    HELD = "held"  # waiting for an operator's review; not in the payable balance
    REJECTED = "rejected"  # refused on review; never posted
    RESTORED = "restored"  # a clawback undone: the dispute behind it was won


class CommissionKind:
    COMMISSION = "commission"
    CLAWBACK = "clawback"


class Affiliate(Base):
    __tablename__ = "affiliates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320), index=True)
    # The affiliate's own customer account, if they are one: a referral of it is self-referral.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    referral_code: Mapped[str] = mapped_column(String(64), unique=True)
    commission_rate_bps: Mapped[int] = mapped_column(Integer)
    # 0: only the first paid invoice earns; N: every paid invoice within N months of it.
    recurring_months: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReferralClick(Base):
    """A visit through a referral link; `click_id` lets the signup that follows name it."""

    __tablename__ = "referral_clicks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    affiliate_id: Mapped[int] = mapped_column(ForeignKey("affiliates.id"), index=True)
    click_id: Mapped[str] = mapped_column(String(64), unique=True)
    landing_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(Base):
    """A signup attributed to an affiliate; one per customer (the first attribution wins)."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    affiliate_id: Mapped[int] = mapped_column(ForeignKey("affiliates.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    source: Mapped[str] = mapped_column(String(16))  # api | checkout
    click_id: Mapped[str | None] = mapped_column(String(64))
    attributed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_invoice_id: Mapped[str | None] = mapped_column(String(255))
    payment_fingerprint: Mapped[str | None] = mapped_column(String(255), index=True)
    review_status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.CLEAR)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(255))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    commission_rate_bps: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AgencyClient(Base):
    """A customer account managed by an agency (one agency per customer at a time)."""

    __tablename__ = "agency_clients"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WhiteLabelBrand(Base):
    """An agency's branding, validated and CSS-sanitised before it is stored."""

    __tablename__ = "white_label_brands"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    logo_url: Mapped[str | None] = mapped_column(String(2048))
    primary_color: Mapped[str | None] = mapped_column(String(7))
    accent_color: Mapped[str | None] = mapped_column(String(7))
    custom_domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    custom_css: Mapped[str | None] = mapped_column(Text)
    email_from_name: Mapped[str | None] = mapped_column(String(255))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    support_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PartnerCommission(Base):
    """One commission earned on a payment, or one clawback of it (`reverses_id`)."""

    __tablename__ = "partner_commissions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_key: Mapped[str] = mapped_column(String(255), unique=True)
    partner_kind: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # commission | clawback
    status: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), index=True)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_commissions.id"), index=True
    )
    basis_amount: Mapped[int] = mapped_column(BigInteger)  # paid net of tax, or refunded
    rate_bps: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)  # always positive; `kind` gives direction
    currency: Mapped[str] = mapped_column(String(3))
    # The journal entry that moved the money; None while held (nothing posted yet).
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
