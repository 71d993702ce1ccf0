"""Rollup columns named after the fields they fill; runs can be claimed by one process; NUL bytes counted.

- cell_count: hard -> hard_refusal, refeng -> refused_engaged. The rollup is derived data, so it is
  rebuilt from the responses' labels rather than altered.
- run.claimed_by / run.heartbeat_at: a spot-check is worked on by one process at a time.
- response.nul_bytes_removed: PostgreSQL text cannot hold NUL bytes; they are stripped and counted.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REBUILD = """
INSERT INTO cell_count (source, case_id, model_config_id, n, helps, deflects, hard_refusal, engages, blind,
                        refused_engaged)
SELECT source, case_id, model_config_id, COUNT(*),
       SUM(CASE WHEN eff_response_type = 'helps' THEN 1 ELSE 0 END),
       SUM(CASE WHEN eff_response_type = 'deflects' THEN 1 ELSE 0 END),
       SUM(CASE WHEN eff_response_type = 'hard_refusal' THEN 1 ELSE 0 END),
       SUM(CASE WHEN eff_engages THEN 1 ELSE 0 END),
       SUM(CASE WHEN eff_response_type IN ('deflects', 'hard_refusal') AND NOT eff_engages AND NOT eff_harm
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN eff_response_type IN ('deflects', 'hard_refusal') AND eff_engages THEN 1 ELSE 0 END)
FROM response WHERE eff_response_type IS NOT NULL
GROUP BY source, case_id, model_config_id
"""


def upgrade() -> None:
    op.drop_table("cell_count")
    op.create_table(
        "cell_count",
        sa.Column("source", sa.String(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id"), primary_key=True),
        sa.Column("model_config_id", sa.Integer(), sa.ForeignKey("model_config.id"), primary_key=True),
        *[sa.Column(c, sa.Integer(), nullable=False, server_default="0")
          for c in ("n", "helps", "deflects", "hard_refusal", "engages", "blind", "refused_engaged")],
    )
    op.execute(REBUILD)
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("nul_bytes_removed", sa.Integer(), nullable=False, server_default="0"))
    # Code from before the migrations checks this number and refuses the store instead of misreading it.
    op.execute("DELETE FROM schema_info WHERE key = 'schema_version'")
    op.execute("INSERT INTO schema_info (key, value) VALUES ('schema_version', '3')")


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
