"""index of the day's payments for the daily aggregation

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_payments_settled_at",
        "payments",
        [sa.text("coalesce(paid_at, created_at)")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_payments_settled_at", table_name="payments")
