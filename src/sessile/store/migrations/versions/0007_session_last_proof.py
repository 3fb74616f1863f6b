"""sessions keep their key's last two refresh proofs (iat and jti), indexed by key

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("last_proof_iat", sa.Double(), nullable=True))
        batch.add_column(sa.Column("last_proof_jti", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("prev_proof_iat", sa.Double(), nullable=True))
        batch.add_column(sa.Column("prev_proof_jti", sa.String(length=255), nullable=True))
        batch.create_index("ix_sessions_jkt", ["jkt"])


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_jkt")
        batch.drop_column("prev_proof_jti")
        batch.drop_column("prev_proof_iat")
        batch.drop_column("last_proof_jti")
        batch.drop_column("last_proof_iat")
