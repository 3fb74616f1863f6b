"""step-up challenges: a grant mode and duration, steps with their own durations, and no
separate "proven" stage (a proven step moves the challenge on)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Challenges live minutes, and those in flight hold steps in the older form: they go.
    op.execute(sa.text("DELETE FROM stepup_challenges"))
    with op.batch_alter_table("stepup_challenges", schema=None) as batch_op:
        batch_op.drop_column("decision")
        batch_op.drop_column("checked")
        batch_op.add_column(sa.Column("grant_mode", sa.String(length=20), nullable=False))
        batch_op.add_column(sa.Column("granted_for", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("step_started_at", sa.Double(), nullable=False))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM stepup_challenges"))
    with op.batch_alter_table("stepup_challenges", schema=None) as batch_op:
        batch_op.drop_column("step_started_at")
        batch_op.drop_column("granted_for")
        batch_op.drop_column("grant_mode")
        batch_op.add_column(sa.Column("checked", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("decision", sa.String(length=10), nullable=False))
