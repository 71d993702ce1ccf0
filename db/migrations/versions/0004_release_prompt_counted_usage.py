"""The release's judge prompt is stored with its hash; token counts made by us are marked.

- release_prompt: a prompt read from the release's prompts/ folder at import (never committed to the
  project), with its sha256, so labels made with two versions of a prompt never mix.
- response.usage_counted: the token counts were counted by this app (the local llama.cpp server
  reports no usage when streaming), not reported by the provider.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_prompt",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(), nullable=False, server_default=""),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
    )
    # A plain ADD COLUMN (a batch would rebuild the table, which SQLite's foreign keys refuse).
    op.add_column("response", sa.Column("usage_counted", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
