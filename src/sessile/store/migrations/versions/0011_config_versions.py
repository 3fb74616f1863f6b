"""configuration documents: a version and a creation time, longer names

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_config", schema=None) as batch_op:
        batch_op.alter_column(
            "name", existing_type=sa.String(length=40), type_=sa.String(length=80)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("created_at", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_config", schema=None) as batch_op:
        batch_op.drop_column("created_at")
        batch_op.drop_column("version")
        batch_op.alter_column(
            "name", existing_type=sa.String(length=80), type_=sa.String(length=40)
        )
