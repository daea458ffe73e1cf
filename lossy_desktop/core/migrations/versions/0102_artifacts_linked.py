"""artifacts: failure screenshots linked to their note and attempt

Revision ID: 0102_artifacts
Revises: 0001
Create Date: 2026-12-01 15:00:00

Existing notes' `failure_artifact_path` (and the .txt beside it) become rows, dated by the
file's modification time, so retention and deleting a note cover them too.
"""

import os
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0102_artifacts"
down_revision = "0101_pacing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )
    op.create_index("ix_artifacts_note", "artifacts", ["note_id"], unique=False)
    op.create_index("ix_artifacts_created", "artifacts", ["created_at"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, attempts, failure_artifact_path, updated_at FROM notes "
            "WHERE failure_artifact_path IS NOT NULL"
        )
    ).fetchall()
    seen: set[str] = set()
    for note_id, attempts, path, updated_at in rows:
        main = Path(path)
        for candidate in (main, main.with_suffix(".png"), main.with_suffix(".txt")):
            name = str(candidate)
            if name in seen or not candidate.exists():
                continue
            seen.add(name)
            try:
                when = os.stat(candidate).st_mtime
            except OSError:
                when = updated_at or time.time()
            conn.execute(
                sa.text(
                    "INSERT INTO artifacts (note_id, attempt, path, created_at) "
                    "VALUES (:note, :attempt, :path, :when)"
                ),
                {
                    "note": note_id,
                    "attempt": max(int(attempts or 1), 1),
                    "path": name,
                    "when": when,
                },
            )


def downgrade() -> None:
    op.drop_index("ix_artifacts_created", table_name="artifacts")
    op.drop_index("ix_artifacts_note", table_name="artifacts")
    op.drop_table("artifacts")
