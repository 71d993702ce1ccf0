"""Answers count the code points that could not be stored as sent.

- response.chars_replaced: lone surrogates (valid in a provider's JSON, refused by every UTF-8 encoder)
  replaced with U+FFFD, counted like `nul_bytes_removed`.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("response", sa.Column("chars_replaced", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup that the upgrade wrote")
