"""Long jobs that any replica can show: the `job` table, and on PostgreSQL the job queue's own schema.

- job: one row per job a page started (kind, params without keys, who, where it runs, progress, result).
- procrastinate's tables and functions (PostgreSQL only), at the pinned version's schema: workers take the
  jobs from there (`make worker`).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("visitor", sa.String(), nullable=False, index=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("spending", sa.Boolean(), nullable=False),
        sa.Column("executor", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False, index=True),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.exec_driver_sql(
            "SELECT to_regclass('procrastinate_jobs')").scalar() is None:
        from procrastinate.schema import SchemaManager

        # the driver's own cursor, without parameters: the schema's functions hold literal '%' signs
        driver = bind.connection.dbapi_connection
        assert driver is not None, "a migration runs on an open connection"
        driver.cursor().execute(SchemaManager.get_schema())


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
