"""login challenge tokens remember the OTP login config their code login ran under

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("challenge_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("login_config_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("challenge_tokens", schema=None) as batch_op:
        batch_op.drop_column("login_config_id")
