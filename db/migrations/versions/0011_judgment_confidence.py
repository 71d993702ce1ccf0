"""A judgment keeps its judge's confidence as a number; a data version for the paper's judgments.

- judgment.confidence: the judge's probability for its response type (the distilled judge's), which the cards
  show; it was only written into the reasoning text before. Earlier distilled judgments get theirs read back
  from that text once, here.
- data_version `paper_judgments`: moves with any judgment added to a paper answer (a reviewer's label, a
  spot-check's bridge), the cache key of the views of the judges' disagreements; spot-check answers leave it.

Revision ID: 0011
Revises: 0010
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# How the distilled judge's reasoning began before this column ("distilled judge: helps (p=0.87); …").
_CONFIDENCE = re.compile(r"^distilled judge: \S+ \(p=([0-9.]+)\)")


def upgrade() -> None:
    op.add_column("judgment", sa.Column("confidence", sa.Float(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, reasoning FROM judgment WHERE judge_kind = 'distilled'")).all()
    values = [{"i": i, "c": float(m.group(1))} for i, reasoning in rows
              if (m := _CONFIDENCE.search(reasoning or "")) is not None]
    if values:
        conn.execute(sa.text("UPDATE judgment SET confidence = :c WHERE id = :i"), values)
    conn.execute(sa.text("INSERT INTO data_version (kind, version) VALUES ('paper_judgments', 1)"))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
