"""metering, limits, alerts and API keys

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
QUANTITY = sa.Numeric(precision=24, scale=6)


def _customer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["customer_id"], ["customers.id"], name=op.f(f"fk_{table}_customer_id_customers")
    )


def upgrade() -> None:
    op.create_table(
        "usage_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.Column("occurred_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("properties", JSON_DOC, nullable=False),
        sa.Column("received_at", db.base.UTCDateTime(timezone=True), nullable=False),
        _customer_fk("usage_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
        sa.UniqueConstraint(
            "customer_id",
            "idempotency_key",
            name=op.f("uq_usage_events_customer_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_events_customer_metric_at",
            ["customer_id", "metric", "occurred_at"],
            unique=False,
        )
        batch_op.create_index("ix_usage_events_metric_at", ["metric", "occurred_at"], unique=False)

    op.create_table(
        "usage_alerts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("period_start", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("used", QUANTITY, nullable=False),
        sa.Column("limit_value", sa.BigInteger(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        _customer_fk("usage_alerts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_alerts")),
        sa.UniqueConstraint(
            "customer_id",
            "metric",
            "period_start",
            "threshold",
            name=op.f("uq_usage_alerts_customer_id_metric_period_start_threshold"),
        ),
    )
    with op.batch_alter_table("usage_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_alerts_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "usage_overages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("period_start", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used", QUANTITY, nullable=False),
        sa.Column("limit_value", sa.BigInteger(), nullable=False),
        sa.Column("overage", QUANTITY, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stripe_invoice_item_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        _customer_fk("usage_overages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_overages")),
        sa.UniqueConstraint(
            "customer_id",
            "metric",
            "period_start",
            name=op.f("uq_usage_overages_customer_id_metric_period_start"),
        ),
    )
    with op.batch_alter_table("usage_overages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_overages_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "api_keys",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", db.base.UTCDateTime(timezone=True), nullable=True),
        _customer_fk("api_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_customer_id"))
    op.drop_table("api_keys")
    with op.batch_alter_table("usage_overages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_overages_customer_id"))
    op.drop_table("usage_overages")
    with op.batch_alter_table("usage_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_alerts_customer_id"))
    op.drop_table("usage_alerts")
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_events_metric_at")
        batch_op.drop_index("ix_usage_events_customer_metric_at")
    op.drop_table("usage_events")
