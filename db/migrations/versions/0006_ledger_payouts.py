"""double-entry ledger, processes and payouts

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
APPEND_ONLY = ("journal_entries", "journal_postings")


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("reverses_entry_id", BIG_ID, nullable=True),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.Column("occurred_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_journal_entries_dedupe_key")),
        sa.UniqueConstraint("reverses_entry_id", name=op.f("uq_journal_entries_reverses_entry_id")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entries_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_journal_entries_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "journal_postings",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("party", sa.String(length=160), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_postings_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_postings")),
    )
    with op.batch_alter_table("journal_postings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_postings_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            "ix_journal_postings_account_party", ["account", "party", "currency"], unique=False
        )

    op.create_table(
        "payees",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("party", sa.String(length=160), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=True),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payees")),
        sa.UniqueConstraint("kind", "ref", name=op.f("uq_payees_kind_ref")),
        sa.UniqueConstraint("party", name=op.f("uq_payees_party")),
    )

    op.create_table(
        "monetized_processes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("owner_id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("product_type", sa.String(length=16), nullable=False),
        sa.Column("revenue_model", sa.String(length=16), nullable=False),
        sa.Column("pricing", JSON_DOC, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("usage_count", sa.BigInteger(), nullable=False),
        sa.Column("usage_quantity", sa.BigInteger(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["payees.id"], name=op.f("fk_monetized_processes_owner_id_payees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monetized_processes")),
    )
    with op.batch_alter_table("monetized_processes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monetized_processes_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monetized_processes_status"), ["status"], unique=False)

    op.create_table(
        "process_usage",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("process_id", BIG_ID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("user_ref", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=True),
        sa.Column("recorded_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_process_usage_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["monetized_processes.id"],
            name=op.f("fk_process_usage_process_id_monetized_processes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_usage")),
        sa.UniqueConstraint(
            "process_id",
            "idempotency_key",
            name=op.f("uq_process_usage_process_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("process_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_process_usage_process_id"), ["process_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_process_usage_recorded_at"), ["recorded_at"], unique=False
        )

    op.create_table(
        "payouts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("payee_id", BIG_ID, nullable=False),
        sa.Column("party", sa.String(length=160), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("process_id", BIG_ID, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("reserve", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("approval_id", BIG_ID, nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("transfer_id", sa.String(length=255), nullable=True),
        sa.Column("entry_id", BIG_ID, nullable=True),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approvals.id"], name=op.f("fk_payouts_approval_id_approvals")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payouts_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["payee_id"], ["payees.id"], name=op.f("fk_payouts_payee_id_payees")
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["monetized_processes.id"],
            name=op.f("fk_payouts_process_id_monetized_processes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("approval_id", name=op.f("uq_payouts_approval_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payouts_idempotency_key")),
        sa.UniqueConstraint("open_key", name=op.f("uq_payouts_open_key")),
    )
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payouts_party"), ["party"], unique=False)
        batch_op.create_index(batch_op.f("ix_payouts_payee_id"), ["payee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payouts_status"), ["status"], unique=False)

    _make_journal_append_only()


def _make_journal_append_only() -> None:
    """The journal is the books: the database itself refuses UPDATE and DELETE on it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION moneta_journal_is_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: post a reversing entry', TG_TABLE_NAME; "
            "END; $$ LANGUAGE plpgsql"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION moneta_journal_is_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _drop_journal_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS moneta_journal_is_append_only()")
        return
    for table in APPEND_ONLY:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def downgrade() -> None:
    _drop_journal_triggers()
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payouts_status"))
        batch_op.drop_index(batch_op.f("ix_payouts_payee_id"))
        batch_op.drop_index(batch_op.f("ix_payouts_party"))
    op.drop_table("payouts")
    with op.batch_alter_table("process_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_usage_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_process_usage_process_id"))
    op.drop_table("process_usage")
    with op.batch_alter_table("monetized_processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monetized_processes_status"))
        batch_op.drop_index(batch_op.f("ix_monetized_processes_owner_id"))
    op.drop_table("monetized_processes")
    op.drop_table("payees")
    with op.batch_alter_table("journal_postings", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_postings_account_party")
        batch_op.drop_index(batch_op.f("ix_journal_postings_entry_id"))
    op.drop_table("journal_postings")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_journal_entries_kind"))
    op.drop_table("journal_entries")
