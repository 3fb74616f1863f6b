"""step-up challenges, grants on sessions, codes bound to a user

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("granted_scope", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("granted_until", sa.Double(), nullable=True))
    with op.batch_alter_table("otp_challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=40), nullable=True))
    op.create_table(
        "stepup_challenges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("token_jti", sa.String(length=64), nullable=False),
        sa.Column("otp_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("redeemed_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_stepup_challenges_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stepup_challenges")),
    )
    with op.batch_alter_table("stepup_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stepup_challenges_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("stepup_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stepup_challenges_expires_at"))
    op.drop_table("stepup_challenges")
    with op.batch_alter_table("otp_challenges", schema=None) as batch_op:
        batch_op.drop_column("user_id")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("granted_until")
        batch_op.drop_column("granted_scope")
