"""Fresh cases from the authors' generator and gates.

- case.review: pending | accepted | rejected, for generated cases (null for the paper's and custom ones).
- case.provenance: JSON, where a generated case came from (prompts' sha256, models, settings, gate verdicts).
- generation_attempt: one generator call per cell of a generation run, its raw output and the cases it proposed.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case", sa.Column("review", sa.String(), nullable=True))
    op.add_column("case", sa.Column("provenance", sa.Text(), nullable=True))
    op.create_table(
        "generation_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("run.id"), nullable=False, index=True),
        sa.Column("family", sa.String(), nullable=False),
        sa.Column("authority_type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_output", sa.Text(), nullable=False),
        sa.Column("candidates", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
