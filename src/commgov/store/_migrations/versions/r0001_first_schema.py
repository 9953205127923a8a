"""The first schema of the commgov store: snapshots, events and the history of changes.

Revision ID: r0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "commgov_snapshots",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type_name", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(80), nullable=False),
        sa.Column("model_hash", sa.String(80), nullable=True),
        sa.Column("problem_hash", sa.String(80), nullable=True),
        sa.Column("encoding", sa.String(8), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.UniqueConstraint("key", "kind", "name", "version", name="uq_commgov_snapshots_version"),
    )
    op.create_table(
        "commgov_events",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", "seq", name="uq_commgov_events_seq"),
    )
    op.create_table(
        "commgov_changes",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("first_version", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type_name", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(80), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
    )
    op.create_index("ix_commgov_changes_key", "commgov_changes", ["key", "id"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_commgov_changes_key", table_name="commgov_changes")
    op.drop_table("commgov_changes")
    op.drop_table("commgov_events")
    op.drop_table("commgov_snapshots")
