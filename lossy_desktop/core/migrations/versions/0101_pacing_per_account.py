"""pacing per platform account: pacing_events replaces queue_starts

The automation rate limit counted batch starts per queue (queue_starts); it now counts the
comments of each platform account, with a least gap between two of them (pacing_events).

Revision ID: 0101_pacing
Revises: 0001
Create Date: 2026-12-01 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0101_pacing"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("jitter", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pacing_events", schema=None) as batch_op:
        batch_op.create_index("ix_pacing_events_account", ["account", "kind", "at"], unique=False)
    with op.batch_alter_table("queue_starts", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_starts_window")
    op.drop_table("queue_starts")


def downgrade() -> None:
    op.create_table(
        "queue_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("queue_starts", schema=None) as batch_op:
        batch_op.create_index("ix_queue_starts_window", ["queue", "started_at"], unique=False)
    with op.batch_alter_table("pacing_events", schema=None) as batch_op:
        batch_op.drop_index("ix_pacing_events_account")
    op.drop_table("pacing_events")
