"""Drift monitoring: named, versioned references and the checks made against them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_references",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("latest", sa.JSON(), nullable=True),
        sa.Column("latest_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("owner", "name", "version", name="uq_drift_references_version"),
    )
    op.create_index("ix_drift_references_owner", "drift_references", ["owner"])
    op.create_index("ix_drift_references_latest_at", "drift_references", ["latest_at"])
    op.create_table(
        "drift_checks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "reference_id",
            sa.String(36),
            sa.ForeignKey("drift_references.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_drift_checks_reference_created", "drift_checks", ["reference_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("drift_checks")
    op.drop_table("drift_references")
