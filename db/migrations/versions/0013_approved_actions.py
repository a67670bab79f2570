"""customer credits mirrored by approved credit actions

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "customer_credits",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("approval_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("stripe_balance_transaction_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ending_balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_customer_credits_approval_id_approvals"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_credits_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_credits")),
        sa.UniqueConstraint("approval_id", name=op.f("uq_customer_credits_approval_id")),
        sa.UniqueConstraint(
            "stripe_balance_transaction_id",
            name=op.f("uq_customer_credits_stripe_balance_transaction_id"),
        ),
    )
    op.create_index(
        op.f("ix_customer_credits_customer_id"), "customer_credits", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_customer_credits_customer_id"), table_name="customer_credits")
    op.drop_table("customer_credits")
