"""A spot-check's gold labels: which ones it asked for, and the reviewers who share their label queue.

- run.gold: the gold judge (or "reviewers") and m, as JSON; beside `params`, which a rerun is matched by.
- label_claim: one row per answer a reviewer holds; the next reviewer is handed another answer until this one
  is labelled or the claim is 15 minutes old.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("run", sa.Column("gold", sa.String(), nullable=True))
    op.create_table(
        "label_claim",
        sa.Column("response_id", sa.Integer(), sa.ForeignKey("response.id"), primary_key=True),
        sa.Column("reviewer", sa.String(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
