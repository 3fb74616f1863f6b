"""proven identifiers, pending sign-ups and per-identifier login failures

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", sa.Double(), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("password_unproven", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("otp_challenges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=20), server_default="login", nullable=False)
        )
        batch_op.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
    op.create_table(
        "login_failures",
        sa.Column("identifier_type", sa.String(length=20), nullable=False),
        sa.Column("identifier_value", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.Double(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint(
            "identifier_type", "identifier_value", name=op.f("pk_login_failures")
        ),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failures_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_updated_at"))
    op.drop_table("login_failures")
    with op.batch_alter_table("otp_challenges", schema=None) as batch_op:
        batch_op.drop_column("password_hash")
        batch_op.drop_column("purpose")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_unproven")
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.drop_column("verified_at")
