"""token wallets and access policy telemetry

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("wallet_grants", "wallet_debits")


def upgrade() -> None:
    op.create_table(
        "wallet_accounts",
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("next_expiry_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_wallet_accounts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_wallet_accounts")),
    )

    op.create_table(
        "wallet_grants",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=255), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("expires_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_wallet_grants_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_grants")),
        sa.UniqueConstraint("source_ref", name=op.f("uq_wallet_grants_source_ref")),
    )
    with op.batch_alter_table("wallet_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_grants_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_grants_stripe_payment_intent_id"),
            ["stripe_payment_intent_id"],
            unique=False,
        )

    op.create_table(
        "wallet_debits",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("feature", sa.String(length=64), nullable=True),
        sa.Column("grant_id", BIG_ID, nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_wallet_debits_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["wallet_grants.id"],
            name=op.f("fk_wallet_debits_grant_id_wallet_grants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_debits")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_wallet_debits_idempotency_key")),
    )
    with op.batch_alter_table("wallet_debits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_debits_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_wallet_debits_grant_id"), ["grant_id"], unique=False)

    op.create_table(
        "wallet_refunds",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("grant_id", BIG_ID, nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("revoked_tokens", sa.BigInteger(), nullable=False),
        sa.Column("owed_tokens", sa.BigInteger(), nullable=False),
        sa.Column("approval_id", BIG_ID, nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_wallet_refunds_approval_id_approvals"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["wallet_grants.id"],
            name=op.f("fk_wallet_refunds_grant_id_wallet_grants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_refunds")),
        sa.UniqueConstraint(
            "grant_id", "refunded_amount", name=op.f("uq_wallet_refunds_grant_id_refunded_amount")
        ),
    )

    op.create_table(
        "wallet_pending_refunds",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=False),
        sa.Column("charge_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_pending_refunds")),
        sa.UniqueConstraint(
            "payment_intent_id",
            "refunded_amount",
            name=op.f("uq_wallet_pending_refunds_payment_intent_id_refunded_amount"),
        ),
    )
    with op.batch_alter_table("wallet_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallet_refunds_grant_id"), ["grant_id"], unique=False)

    op.create_table(
        "access_decisions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("assets", sa.String(length=1000), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_decisions")),
    )
    with op.batch_alter_table("access_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_decisions_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_decisions_decided_at"), ["decided_at"], unique=False
        )
    for table in APPEND_ONLY:
        _make_append_only(table)


def _make_append_only(table: str) -> None:
    """The token ledger is evidence, like the audit log: the database refuses edits."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION moneta_{table}_is_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION moneta_{table}_is_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS moneta_{table}_is_append_only()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_append_only(table)
    with op.batch_alter_table("access_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_decisions_decided_at"))
        batch_op.drop_index(batch_op.f("ix_access_decisions_customer_id"))
    op.drop_table("access_decisions")
    with op.batch_alter_table("wallet_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_refunds_grant_id"))
    op.drop_table("wallet_refunds")
    op.drop_table("wallet_pending_refunds")
    with op.batch_alter_table("wallet_debits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_debits_grant_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_debits_customer_id"))
    op.drop_table("wallet_debits")
    with op.batch_alter_table("wallet_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_grants_stripe_payment_intent_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_grants_customer_id"))
    op.drop_table("wallet_grants")
    op.drop_table("wallet_accounts")
