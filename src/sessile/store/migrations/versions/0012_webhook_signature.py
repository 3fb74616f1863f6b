"""webhooks: the signature scheme of each endpoint

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Endpoints registered before the column existed were signed with their HMAC secret,
    # and their receivers check that: they keep it. New ones name their scheme.
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "signature", sa.String(length=24), nullable=False, server_default="hmac-sha256"
            )
        )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.alter_column("signature", existing_type=sa.String(length=24), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("signature")
