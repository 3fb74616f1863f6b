"""account safety: identities linked without a proof of their address, and the links in
account notices that end every session

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unproven", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "end_session_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_end_session_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_end_session_links")),
    )
    with op.batch_alter_table("end_session_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_end_session_links_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_end_session_links_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("end_session_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_end_session_links_user_id"))
        batch_op.drop_index(batch_op.f("ix_end_session_links_expires_at"))
    op.drop_table("end_session_links")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_column("unproven")
