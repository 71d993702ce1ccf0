"""Data versions by kind, the pages' cache keys: `paper` moves with an import of the release, `labels` with
any change of a paper answer's effective label (our reviewers' labels). Every replica reads them here.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.bulk_insert(table, [{"kind": "paper", "version": 1}, {"kind": "labels", "version": 1}])


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
