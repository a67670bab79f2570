"""operator accounts, sessions and API tokens

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("disabled_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_operators_username")),
    )

    op.create_table(
        "login_attempts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempts_username"), ["username"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempts_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempts_at"), ["at"], unique=False)

    op.create_table(
        "operator_tokens",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("operator_id", BIG_ID, nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_tokens_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_operator_tokens_prefix")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_tokens_token_hash")),
    )
    with op.batch_alter_table("operator_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_tokens_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "operator_sessions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", BIG_ID, nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_sessions_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_sessions_token_hash")),
    )
    with op.batch_alter_table("operator_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_sessions_operator_id"), ["operator_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("operator_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_sessions_operator_id"))
    op.drop_table("operator_sessions")
    with op.batch_alter_table("operator_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_tokens_operator_id"))
    op.drop_table("operator_tokens")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempts_at"))
        batch_op.drop_index(batch_op.f("ix_login_attempts_address"))
        batch_op.drop_index(batch_op.f("ix_login_attempts_username"))
    op.drop_table("login_attempts")
    op.drop_table("operators")
