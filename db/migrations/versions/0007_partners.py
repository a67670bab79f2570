"""affiliates, agencies and white-label branding

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("commission_rate_bps", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
    )
    op.create_table(
        "affiliates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("referral_code", sa.String(length=64), nullable=False),
        sa.Column("commission_rate_bps", sa.Integer(), nullable=False),
        sa.Column("recurring_months", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_affiliates_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliates")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_affiliates_referral_code")),
    )
    with op.batch_alter_table("affiliates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_affiliates_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_affiliates_email"), ["email"], unique=False)

    op.create_table(
        "agency_clients",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("linked_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("unlinked_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_agency_clients_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_agency_clients_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_clients")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_agency_clients_customer_id")),
    )
    with op.batch_alter_table("agency_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agency_clients_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "white_label_brands",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("logo_url", sa.String(length=2048), nullable=True),
        sa.Column("primary_color", sa.String(length=7), nullable=True),
        sa.Column("accent_color", sa.String(length=7), nullable=True),
        sa.Column("custom_domain", sa.String(length=253), nullable=True),
        sa.Column("custom_css", sa.Text(), nullable=True),
        sa.Column("email_from_name", sa.String(length=255), nullable=True),
        sa.Column("reply_to", sa.String(length=320), nullable=True),
        sa.Column("support_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_white_label_brands_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_white_label_brands")),
        sa.UniqueConstraint("agency_id", name=op.f("uq_white_label_brands_agency_id")),
        sa.UniqueConstraint("custom_domain", name=op.f("uq_white_label_brands_custom_domain")),
    )
    op.create_table(
        "referral_clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "affiliate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("click_id", sa.String(length=64), nullable=False),
        sa.Column("landing_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["affiliate_id"],
            ["affiliates.id"],
            name=op.f("fk_referral_clicks_affiliate_id_affiliates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_clicks")),
        sa.UniqueConstraint("click_id", name=op.f("uq_referral_clicks_click_id")),
    )
    with op.batch_alter_table("referral_clicks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_clicks_affiliate_id"), ["affiliate_id"], unique=False
        )

    op.create_table(
        "referrals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "affiliate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("click_id", sa.String(length=64), nullable=True),
        sa.Column("attributed_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_ends_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("converted_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_invoice_id", sa.String(length=255), nullable=True),
        sa.Column("payment_fingerprint", sa.String(length=255), nullable=True),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=255), nullable=True),
        sa.Column("reviewed_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["affiliate_id"], ["affiliates.id"], name=op.f("fk_referrals_affiliate_id_affiliates")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_referrals_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_referrals_customer_id")),
        sa.UniqueConstraint("stripe_customer_id", name=op.f("uq_referrals_stripe_customer_id")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referrals_affiliate_id"), ["affiliate_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_referrals_email"), ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referrals_payment_fingerprint"), ["payment_fingerprint"], unique=False
        )

    op.create_table(
        "partner_commissions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=False),
        sa.Column("partner_kind", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "referral_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=False),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("basis_amount", sa.BigInteger(), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_partner_commissions_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_partner_commissions_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_partner_commissions_referral_id_referrals"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["partner_commissions.id"],
            name=op.f("fk_partner_commissions_reverses_id_partner_commissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_commissions")),
        sa.UniqueConstraint("source_key", name=op.f("uq_partner_commissions_source_key")),
    )
    with op.batch_alter_table("partner_commissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_commissions_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partner_commissions_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partner_commissions_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partner_commissions_reverses_id"), ["reverses_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partner_commissions_stripe_invoice_id"),
            ["stripe_invoice_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("partner_commissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_commissions_stripe_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_partner_commissions_reverses_id"))
        batch_op.drop_index(batch_op.f("ix_partner_commissions_referral_id"))
        batch_op.drop_index(batch_op.f("ix_partner_commissions_partner_id"))
        batch_op.drop_index(batch_op.f("ix_partner_commissions_customer_id"))

    op.drop_table("partner_commissions")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_payment_fingerprint"))
        batch_op.drop_index(batch_op.f("ix_referrals_email"))
        batch_op.drop_index(batch_op.f("ix_referrals_affiliate_id"))

    op.drop_table("referrals")
    with op.batch_alter_table("referral_clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_clicks_affiliate_id"))

    op.drop_table("referral_clicks")
    op.drop_table("white_label_brands")
    with op.batch_alter_table("agency_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_clients_agency_id"))

    op.drop_table("agency_clients")
    with op.batch_alter_table("affiliates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_affiliates_email"))
        batch_op.drop_index(batch_op.f("ix_affiliates_customer_id"))

    op.drop_table("affiliates")
    op.drop_table("agencies")
