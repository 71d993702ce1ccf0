"""The server's paid-call budget is stored; answers cut at the size cap are marked.

- spend_ledger: one row per paid call (a model or judge reached with a host key), so the budget holds across
  browser sessions, tabs and replicas.
- response.truncated: the answer was cut at BR_MAX_ANSWER_CHARS; the rest was never stored.

Run ids are never reused: SQLite's high-water mark lives in schema_info (`run_id_high_water`), which needs
no schema change.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spend_ledger",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visitor", sa.String(), nullable=False, server_default=""),
        sa.Column("model", sa.String(), nullable=False, server_default=""),
        sa.Column("calls", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_index("ix_spend_ledger_at", "spend_ledger", ["at"])
    op.add_column("response", sa.Column("truncated", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
