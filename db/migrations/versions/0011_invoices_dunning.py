"""invoice lines, dunning

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INVOICE_TOTALS = ("subtotal", "total_discount", "tax", "total")


def upgrade() -> None:
    op.create_table(
        "invoice_lines",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("stripe_line_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("period_start", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("period_end", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("proration", sa.Boolean(), nullable=False),
        sa.Column("stripe_price_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("discount_amount", sa.BigInteger(), nullable=False),
        sa.Column("tax_amount", sa.BigInteger(), nullable=False),
        sa.Column("stripe_watermark", sa.BigInteger(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint("stripe_line_id", name=op.f("uq_invoice_lines_stripe_line_id")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_stripe_invoice_id"), ["stripe_invoice_id"], unique=False
        )

    op.create_table(
        "dunning_cases",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("amount_due", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("hosted_invoice_url", sa.String(length=2048), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("next_action", sa.String(length=32), nullable=True),
        sa.Column("next_due_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("hard_decline", sa.Boolean(), nullable=False),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("failed_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recovered_amount", sa.BigInteger(), nullable=True),
        sa.Column("days_to_recover", sa.Integer(), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_dunning_cases_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dunning_cases")),
        sa.UniqueConstraint("stripe_invoice_id", name=op.f("uq_dunning_cases_stripe_invoice_id")),
    )
    with op.batch_alter_table("dunning_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dunning_cases_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dunning_cases_stripe_subscription_id"),
            ["stripe_subscription_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_dunning_cases_status_due", ["status", "next_due_at"], unique=False
        )

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        for column in INVOICE_TOTALS:
            batch_op.add_column(sa.Column(column, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        for column in reversed(INVOICE_TOTALS):
            batch_op.drop_column(column)
    with op.batch_alter_table("dunning_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_dunning_cases_status_due")
        batch_op.drop_index(batch_op.f("ix_dunning_cases_stripe_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_dunning_cases_customer_id"))
    op.drop_table("dunning_cases")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_stripe_invoice_id"))
    op.drop_table("invoice_lines")
