"""The database schema (SQLAlchemy 2 ORM). Times are epoch seconds (UTC) stored as REAL.

Changing a model means adding an Alembic revision in core/migrations/versions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

PLATFORMS = ("youtube", "vimeo", "air")
NOTE_STATUSES = ("ghost", "posting", "posted", "failed")
PROVIDERS = ("local", "browserbase")
CONNECTION_STATUSES = ("awaiting_auth", "active", "expired", "logged_out")


class Base(DeclarativeBase):
    pass


class Video(Base):
    __tablename__ = "videos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)

    notes: Mapped[list[Note]] = relationship(back_populates="video", passive_deletes=True)


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_status", "status"),
        Index("ix_notes_video", "video_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    video_id: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), nullable=False
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)
    transcript: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    timestamp_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="ghost")
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[float | None] = mapped_column(Float)
    posted_at: Mapped[float | None] = mapped_column(Float)
    external_comment_id: Mapped[str | None] = mapped_column(String(200))
    external_permalink: Mapped[str | None] = mapped_column(Text)
    failure_artifact_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    updated_at: Mapped[float] = mapped_column(Float, nullable=False)

    video: Mapped[Video] = relationship(back_populates="notes")


class Artifact(Base):
    """A file saved as evidence of a failed posting attempt (a full-page screenshot of a
    logged-in page, its .txt), linked to its note and the attempt that saved it: deleted with
    the note, pruned after `artifact_retention_days`."""

    __tablename__ = "artifacts"
    __table_args__ = (
        Index("ix_artifacts_note", "note_id"),
        Index("ix_artifacts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)


class PlatformConnection(Base):
    __tablename__ = "platform_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False, default="local")
    browserbase_context_id: Mapped[str | None] = mapped_column(String(200))
    browserbase_session_id: Mapped[str | None] = mapped_column(String(200))
    local_profile_path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="awaiting_auth")
    account_name: Mapped[str | None] = mapped_column(Text)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    verified_at: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    updated_at: Mapped[float] = mapped_column(Float, nullable=False)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_fetch", "queue", "state", "scheduled_at"),
        Index("ix_jobs_unique", "unique_key", "inserted_at"),
        Index("ix_jobs_group", "group_key", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(32), nullable=False)
    worker: Mapped[str] = mapped_column(String(64), nullable=False)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="available")
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unique_key: Mapped[str | None] = mapped_column(String(200))
    group_key: Mapped[str | None] = mapped_column(String(200))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    inserted_at: Mapped[float] = mapped_column(Float, nullable=False)
    scheduled_at: Mapped[float] = mapped_column(Float, nullable=False)
    attempted_at: Mapped[float | None] = mapped_column(Float)
    completed_at: Mapped[float | None] = mapped_column(Float)
    discarded_at: Mapped[float | None] = mapped_column(Float)
    cancelled_at: Mapped[float | None] = mapped_column(Float)


class CronRun(Base):
    __tablename__ = "cron_runs"
    __table_args__ = (UniqueConstraint("name", "scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    scheduled_for: Mapped[float] = mapped_column(Float, nullable=False)
    inserted_at: Mapped[float] = mapped_column(Float, nullable=False)
    job_id: Mapped[int | None] = mapped_column(Integer)


class PacingEvent(Base):
    """Per-account pacing, durable so a restart never allows a burst (queue/pacing.py).

    kind "comment": one comment of the account went out at `at`; the next one waits at least
    comment_interval_s × (1 + `jitter`) after it, and the account's comments in any
    automation_rate_period_s are at most automation_rate_allowed. kind "pause": the platform
    asked the account to slow down; no comment before `at`."""

    __tablename__ = "pacing_events"
    __table_args__ = (Index("ix_pacing_events_account", "account", "kind", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="comment")
    at: Mapped[float] = mapped_column(Float, nullable=False)
    jitter: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class BrowserUsage(Base):
    __tablename__ = "browser_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    platform: Mapped[str | None] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    session_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[float] = mapped_column(Float, nullable=False)
    ended_at: Mapped[float] = mapped_column(Float, nullable=False)
    seconds: Mapped[float] = mapped_column(Float, nullable=False)
    billed_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    notes_posted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[float] = mapped_column(Float, nullable=False)


class AppState(Base):
    """Small flags the app remembers (e.g. 'tray hint shown'). Never secrets."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)
