"""catalog sync state, trials and checkout

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("synced_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("synced_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_prices_key"), ["key"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_prices_key_fingerprint"), ["key", "fingerprint"]
        )
    op.create_table(
        "customer_trials",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("price_key", sa.String(length=100), nullable=True),
        sa.Column("trial_days", sa.Integer(), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_trials_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_trials")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_customer_trials_customer_id")),
    )


def downgrade() -> None:
    op.drop_table("customer_trials")
    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_prices_key_fingerprint"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_prices_key"))
        batch_op.drop_column("synced_at")
        batch_op.drop_column("fingerprint")
        batch_op.drop_column("key")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("synced_at")
        batch_op.drop_column("fingerprint")
