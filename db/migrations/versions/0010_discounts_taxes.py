"""coupons, promotion codes, tax profiles

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discount_redemption_counts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_redemption_counts")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_discount_redemption_counts_scope_key")),
    )
    op.create_table(
        "discount_redemptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("promotion_code", sa.String(length=64), nullable=False),
        sa.Column("coupon_key", sa.String(length=100), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("redeemed_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_discount_redemptions_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_redemptions")),
        sa.UniqueConstraint(
            "promotion_code",
            "customer_id",
            name=op.f("uq_discount_redemptions_promotion_code_customer_id"),
        ),
    )
    with op.batch_alter_table("discount_redemptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_discount_redemptions_coupon_key"), ["coupon_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_discount_redemptions_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "stripe_config_objects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("stripe_id", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_config_objects")),
    )
    with op.batch_alter_table("stripe_config_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stripe_config_objects_key"), ["key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_stripe_config_objects_stripe_id"), ["stripe_id"], unique=False
        )

    op.create_table(
        "customer_tax_profiles",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=True),
        sa.Column("postal_code", sa.String(length=16), nullable=True),
        sa.Column("vat_id", sa.String(length=32), nullable=True),
        sa.Column("is_business", sa.Boolean(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_tax_profiles_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_tax_profiles")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_customer_tax_profiles_customer_id")),
    )


def downgrade() -> None:
    op.drop_table("customer_tax_profiles")
    with op.batch_alter_table("stripe_config_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_config_objects_stripe_id"))
        batch_op.drop_index(batch_op.f("ix_stripe_config_objects_key"))
    op.drop_table("stripe_config_objects")
    with op.batch_alter_table("discount_redemptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discount_redemptions_customer_id"))
        batch_op.drop_index(batch_op.f("ix_discount_redemptions_coupon_key"))
    op.drop_table("discount_redemptions")
    op.drop_table("discount_redemption_counts")
