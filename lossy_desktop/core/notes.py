"""Notes: the one validator, the one state machine, and the service everything else calls.

A note belongs to a video (found or created by URL). Its stored status is one of ghost, posting,
posted, failed; queued, held and removing are derived from it (`core.note_state`, the one
definition, in Python and SQL). `requeue_held(platform)` queues held notes again.

Every change of state goes through `_transition`, checked against `TRANSITIONS` (one table over
the effective states). An illegal change raises IllegalTransition and writes nothing.

Listeners (`add_listener`) are called after every committed change, on the thread that made it,
with `NoteView` snapshots (frozen, safe to hand to other threads).
"""

from __future__ import annotations

import builtins
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.error_kinds import HOLD_KINDS
from lossy_desktop.core.errors import (
    IllegalTransition,
    LossyError,
    NotFoundError,
    ValidationError,
)
from lossy_desktop.core.models import Artifact, Note, Video
from lossy_desktop.core.note_state import (
    HELD,
    QUEUED,
    REMOVING,
    STATES,
    STORED_AS,
    state_is,
    state_of,
    status_filter,
)
from lossy_desktop.core.platforms import (
    PLATFORMS,
    check_video_url,
    get_platform,
    platform_of_url,
)
from lossy_desktop.core.settings import Settings

log = logging.getLogger("lossy.core")

# Bounds of the free-text fields (the database columns and common sense).
MAX_EXTERNAL_ID = 200
MAX_CATEGORY = 64
MAX_TITLE = 500
MAX_TRANSCRIPT = 100_000
MAX_URL = 2_000
MAX_DURATION = 31 * 24 * 3600.0  # a month of video is more than any platform hosts
MAX_ERROR = 2_000

# The fields a note is made of (the import formats' columns, the intake's JSON keys).
NOTE_FIELDS: tuple[str, ...] = (
    "external_id",
    "platform",
    "video_url",
    "video_title",
    "video_duration",
    "timestamp_seconds",
    "text",
    "category",
    "confidence",
    "transcript",
)

# THE state machine: from-state -> the states it may change to.
TRANSITIONS: dict[str, frozenset[str]] = {
    # post now / auto-queue; validation-time failure; a job found the connection gone;
    # a worker that claimed a job before the note was marked queued (never after a cancel).
    "ghost": frozenset({"queued", "failed", "held"}),
    # the worker starts; the user cancels; the connection is gone; a job gives up before
    # posting; rescheduled (snooze/backoff before the attempt began).
    "queued": frozenset({"posting", "ghost", "held", "failed", "queued"}),
    # reconnected (or the user retries); the user cancels; given up for good.
    "held": frozenset({"queued", "ghost", "failed"}),
    # done; failed for good; retry later (backoff/snooze); connection gone; a crashed attempt
    # started again (the queue puts orphaned jobs back).
    "posting": frozenset({"posted", "failed", "queued", "held", "posting"}),
    # the user retries (or posts now); a failed note may be set aside as a plain ghost.
    "failed": frozenset({"queued", "ghost"}),
    # the user asks to delete the comment from the platform (Delete from YouTube / retract).
    "posted": frozenset({"removing"}),
    # removed (or found already gone): a ghost again; the delete finally failed: still posted.
    "removing": frozenset({"ghost", "posted"}),
}

# Control characters a note may not contain (newline and tab are fine).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TIMECODE = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d(?:\.\d+)?)$")


# ----------------------------------------------------------------------------------------------
# Snapshots
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NoteView:
    """A read-only snapshot of a note and its video, safe to hand to other threads."""

    id: int
    external_id: str | None
    video_id: int
    platform: str
    video_url: str
    video_title: str | None
    video_duration: float | None
    text: str
    transcript: str | None
    category: str | None
    confidence: float
    timestamp_seconds: float
    status: str
    error_kind: str | None
    error: str | None
    attempts: int
    next_attempt_at: float | None
    posted_at: float | None
    external_comment_id: str | None
    external_permalink: str | None
    failure_artifact_path: str | None
    created_at: float
    updated_at: float

    @property
    def state(self) -> str:
        """The effective state: ghost, queued, held, posting, posted, removing or failed."""
        return state_of(self)

    @property
    def queued(self) -> bool:
        """Waiting for a posting job (a ghost with a next attempt time)."""
        return self.state == QUEUED

    @property
    def held(self) -> bool:
        """Waiting for the platform connection to be renewed."""
        return self.state == HELD

    @property
    def removing(self) -> bool:
        """Posted, and its comment is being deleted from the platform (a retract job waits)."""
        return self.state == REMOVING

    def to_dict(self) -> dict[str, Any]:
        """Every field plus the derived flags, JSON-ready (stable key order)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["queued"] = self.queued
        data["held"] = self.held
        data["state"] = self.state
        return data


@dataclass(frozen=True)
class VideoView:
    id: int
    platform: str
    url: str
    title: str | None
    duration: float | None
    note_count: int
    created_at: float


@dataclass(frozen=True)
class NoteInput:
    """A validated note, ready to be stored (made by `validate_note` only)."""

    platform: str
    video_url: str
    video_title: str | None
    video_duration: float | None
    timestamp_seconds: float
    text: str
    category: str | None
    confidence: float
    transcript: str | None
    external_id: str | None

    def content_key(self) -> tuple[str, str, float, str]:
        """What makes two notes without an external id the same note."""
        return (self.platform, self.video_url, self.timestamp_seconds, self.text)


def _view(note: Note, video: Video) -> NoteView:
    return NoteView(
        id=note.id,
        external_id=note.external_id,
        video_id=video.id,
        platform=video.platform,
        video_url=video.url,
        video_title=video.title,
        video_duration=video.duration_seconds,
        text=note.text,
        transcript=note.transcript,
        category=note.category,
        confidence=note.confidence,
        timestamp_seconds=note.timestamp_seconds,
        status=note.status,
        error_kind=note.error_kind,
        error=note.error,
        attempts=note.attempts,
        next_attempt_at=note.next_attempt_at,
        posted_at=note.posted_at,
        external_comment_id=note.external_comment_id,
        external_permalink=note.external_permalink,
        failure_artifact_path=note.failure_artifact_path,
        created_at=note.created_at,
        updated_at=note.updated_at,
    )


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------
def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValidationError(field, f"must be a number (got {value!r})")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int beyond a float's range
            raise ValidationError(field, "must be a finite number (got a huge one)") from None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            shown = value if len(value) <= 40 else value[:40] + "…"
            raise ValidationError(field, f"must be a number (got {shown!r})") from None
    else:
        raise ValidationError(field, f"must be a number (got {type(value).__name__})")
    if not math.isfinite(number):
        raise ValidationError(field, "must be a finite number")
    return number


def parse_timestamp(value: Any, field: str = "timestamp_seconds") -> float:
    """Seconds as a number, a numeric string, or a timecode `M:SS` / `H:MM:SS` (`.fff` allowed)."""
    if isinstance(value, str):
        match = _TIMECODE.match(value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        if ":" in value:
            shown = value.strip() if len(value.strip()) <= 20 else value.strip()[:20] + "…"
            raise ValidationError(
                field,
                f"{shown!r} is not a time: write M:SS or H:MM:SS with minutes and seconds from "
                "00 to 59 (1:05, 1:02:03), or the seconds (65)",
            )
    return _number(field, value)


def _text(field: str, value: Any, *, maximum: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool) and field == "external_id":
            value = str(value)
        else:
            raise ValidationError(field, f"must be text (got {type(value).__name__})")
    raw: str = value
    if multiline:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    result = raw.strip()
    bad = _CONTROL.search(result) or (not multiline and ("\n" in result or "\t" in result))
    if bad:
        raise ValidationError(field, "contains control characters")
    if len(result) > maximum:
        raise ValidationError(field, f"is {len(result):,} characters long; at most {maximum:,}")
    return result


def _optional_text(
    fields: Mapping[str, Any], field: str, *, maximum: int, multiline: bool = False
) -> str | None:
    value = fields.get(field)
    if _blank(value):
        return None
    return _text(field, value, maximum=maximum, multiline=multiline) or None


def validate_text(text: Any, platform: str) -> str:
    """A note's text: non-empty, no control characters but newline/tab, within the limit."""
    if _blank(text):
        raise ValidationError("text", "is empty")
    info = get_platform(platform)
    value = _text("text", text, maximum=10**9, multiline=True)
    if len(value) > info.comment_limit:
        raise ValidationError(
            "text",
            f"is {len(value):,} characters long; {info.label} allows {info.comment_limit:,}",
        )
    return value


def validate_note(
    fields: Mapping[str, Any], settings: Settings, *, line: int | None = None
) -> NoteInput:
    """Check every field of a note; raise ValidationError naming the first bad one.

    Strings (CSV cells, CLI arguments) are accepted for numbers; an empty cell is a missing
    value. Keys other than NOTE_FIELDS are ignored (so an export can be imported again).
    `platform` may be left out when the URL's host names it. A note without a confidence counts
    as certain (1.0), as one typed by the reviewer.
    """
    try:
        return _validate(fields, settings)
    except ValidationError as error:
        if line is not None and error.line is None:
            raise ValidationError(error.field, error.message, line) from None
        raise


def note_problems(fields: Mapping[str, Any], settings: Settings) -> dict[str, str]:
    """Every refused field of a note at once (field -> message), {} when it is valid: what a
    form shows, all together, instead of one error at a time."""
    _note, problems = _validate_all(fields, settings)
    return {p.field: p.message for p in problems}


def _validate(fields: Mapping[str, Any], settings: Settings) -> NoteInput:
    note, problems = _validate_all(fields, settings)
    if problems:
        raise problems[0]
    assert note is not None
    return note


def _validate_all(
    fields: Mapping[str, Any], settings: Settings
) -> tuple[NoteInput | None, builtins.list[ValidationError]]:
    """Check every field, in form order; a field that depends on a refused one is not checked
    (the text's limit needs the platform). Returns the note, or the problems."""
    if not isinstance(fields, Mapping):
        return None, [
            ValidationError("note", f"must be an object with fields (got {type(fields).__name__})")
        ]
    problems: builtins.list[ValidationError] = []

    def check(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ValidationError as error:
            problems.append(error)
            return None

    platform: str | None = check(lambda: _platform_of(fields))
    video_url: str | None = None
    if platform is not None:
        video_url = check(lambda: _video_url_of(fields, platform, settings))
    video_title = check(lambda: _optional_text(fields, "video_title", maximum=MAX_TITLE))
    duration: float | None = check(lambda: _duration_of(fields))
    timestamp: float | None = check(lambda: _timestamp_of(fields, duration))
    text: str | None = None
    if platform is not None:
        text = check(lambda: validate_text(fields.get("text"), platform))
    elif _blank(fields.get("text")):
        problems.append(ValidationError("text", "is empty"))
    category = check(lambda: _optional_text(fields, "category", maximum=MAX_CATEGORY))
    confidence: float | None = check(lambda: _confidence_of(fields))
    transcript = check(
        lambda: _optional_text(fields, "transcript", maximum=MAX_TRANSCRIPT, multiline=True)
    )
    external_id = check(lambda: _optional_text(fields, "external_id", maximum=MAX_EXTERNAL_ID))
    if problems:
        return None, problems
    assert platform is not None and video_url is not None and text is not None
    assert timestamp is not None and confidence is not None
    return (
        NoteInput(
            platform=platform,
            video_url=video_url,
            video_title=video_title,
            video_duration=duration,
            timestamp_seconds=timestamp,
            text=text,
            category=category,
            confidence=confidence,
            transcript=transcript,
            external_id=external_id,
        ),
        [],
    )


def _platform_of(fields: Mapping[str, Any]) -> str:
    raw_platform = fields.get("platform")
    if _blank(raw_platform):
        inferred = platform_of_url(fields.get("video_url"))
        if inferred is None:
            raise ValidationError(
                "platform", f"is required ({', '.join(PLATFORMS)}) when the URL does not show it"
            )
        return inferred
    if not isinstance(raw_platform, str):
        raise ValidationError("platform", f"must be text (got {type(raw_platform).__name__})")
    platform = raw_platform.strip().lower()
    get_platform(platform)
    return platform


def _video_url_of(fields: Mapping[str, Any], platform: str, settings: Settings) -> str:
    raw_url = fields.get("video_url")
    if _blank(raw_url):
        raise ValidationError("video_url", "is required")
    if not isinstance(raw_url, str):
        raise ValidationError("video_url", f"must be text (got {type(raw_url).__name__})")
    if len(raw_url) > MAX_URL:
        raise ValidationError("video_url", f"is longer than {MAX_URL:,} characters")
    return check_video_url(platform, raw_url, settings)


def _duration_of(fields: Mapping[str, Any]) -> float | None:
    if _blank(fields.get("video_duration")):
        return None
    duration = _number("video_duration", fields["video_duration"])
    if duration <= 0:
        raise ValidationError("video_duration", "must be more than 0 seconds")
    if duration > MAX_DURATION:
        raise ValidationError("video_duration", f"must be at most {MAX_DURATION:g} seconds")
    return duration


def _timestamp_of(fields: Mapping[str, Any], duration: float | None) -> float:
    if _blank(fields.get("timestamp_seconds")):
        raise ValidationError("timestamp_seconds", "is required")
    return check_timestamp(fields["timestamp_seconds"], duration)


def check_timestamp(value: Any, duration: float | None = None) -> float:
    """A note's time: parsed (seconds or M:SS / H:MM:SS), 0 or more, within the video."""
    timestamp = parse_timestamp(value)
    if timestamp < 0:
        raise ValidationError("timestamp_seconds", "must be 0 or more")
    if duration is not None and timestamp > duration:
        raise ValidationError(
            "timestamp_seconds", f"{timestamp:g} s is past the end of the video ({duration:g} s)"
        )
    if timestamp > MAX_DURATION:
        raise ValidationError("timestamp_seconds", f"must be at most {MAX_DURATION:g} seconds")
    return timestamp


def _confidence_of(fields: Mapping[str, Any]) -> float:
    if _blank(fields.get("confidence")):
        return 1.0
    confidence = _number("confidence", fields["confidence"])
    if not 0.0 <= confidence <= 1.0:
        raise ValidationError("confidence", f"must be between 0 and 1 (got {confidence:g})")
    return confidence


# ----------------------------------------------------------------------------------------------
# Scheduling (implemented by workers.scheduling.QueueScheduler over the job queue)
# ----------------------------------------------------------------------------------------------
class PostingScheduler(Protocol):
    def schedule(
        self, session: Session, notes: list[tuple[int, int]], *, manual: bool
    ) -> dict[int, float | None]:
        """Queue a posting job per (note_id, video_id) inside `session`'s transaction.

        Returns note_id -> when its job is due (None when refused)."""
        ...

    def cancel(self, note_id: int) -> int:
        """Cancel the note's waiting jobs; returns how many."""
        ...


NoteListener = Callable[[list[NoteView]], None]
RemovalListener = Callable[[list[int]], None]


class NoteService:
    """Create, list and change notes. Thread-safe (each call is its own transaction)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        scheduler: PostingScheduler | None,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._settings = settings
        self._scheduler = scheduler
        self._clock = clock
        self._listeners: list[NoteListener] = []
        self._removal_listeners: list[RemovalListener] = []
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self._settings

    # -- listeners ---------------------------------------------------------------------------
    def add_listener(self, cb: NoteListener) -> None:
        """`cb(views)` runs after every committed change, on the thread that made it."""
        with self._lock:
            self._listeners.append(cb)

    def add_removal_listener(self, cb: RemovalListener) -> None:
        """`cb(note_ids)` runs after notes are deleted."""
        with self._lock:
            self._removal_listeners.append(cb)

    def _notify(self, views: list[NoteView]) -> None:
        if not views:
            return
        with self._lock:
            listeners = list(self._listeners)
        for cb in listeners:
            try:
                cb(views)
            except Exception:
                log.exception("a note listener failed")

    def _notify_removed(self, ids: list[int]) -> None:
        with self._lock:
            listeners = list(self._removal_listeners)
        for cb in listeners:
            try:
                cb(ids)
            except Exception:
                log.exception("a note removal listener failed")

    # -- creating ----------------------------------------------------------------------------
    def validate(self, fields: Mapping[str, Any], *, line: int | None = None) -> NoteInput:
        return validate_note(fields, self._settings, line=line)

    def create(self, note: NoteInput) -> NoteView:
        """Store one note; queue it when its confidence reaches `auto_post_threshold`."""
        return self.create_many([note])[0]

    def create_many(self, notes: list[NoteInput]) -> list[NoteView]:
        """Store notes in one transaction. An external id already used refuses them all."""
        created = self._insert(notes, skip_duplicates=False)
        return [view for view in created if view is not None]

    def import_many(self, notes: list[NoteInput]) -> list[NoteView | None]:
        """Store notes in one transaction, skipping duplicates (None in the result).

        A duplicate has the external id of a stored note (or of an earlier one in `notes`), or,
        without an external id, the same platform, video URL, timestamp and text."""
        return self._insert(notes, skip_duplicates=True)

    def _insert(self, notes: list[NoteInput], *, skip_duplicates: bool) -> list[NoteView | None]:
        if not notes:
            return []
        for item in notes:
            if not isinstance(item, NoteInput):
                raise TypeError("notes must be NoteInput values (use validate_note)")
        threshold = self._settings.get("auto_post_threshold")
        results: list[tuple[Note, Video] | None] = []
        with self._db.write() as session, session.no_autoflush:
            now = self._clock()
            # What is stored already, fetched in a few queries (not one per row).
            videos = self._videos_by_url(session, {n.video_url for n in notes})
            known_ids = self._known_external_ids(
                session, {n.external_id for n in notes if n.external_id is not None}
            )
            known_content = self._known_content(
                session, {n.video_url for n in notes if n.external_id is None}
            )
            to_queue: list[Note] = []
            for index, item in enumerate(notes):
                if item.external_id is not None:
                    duplicate = item.external_id in known_ids
                    known_ids.add(item.external_id)
                else:
                    duplicate = item.content_key() in known_content
                    known_content.add(item.content_key())
                if duplicate:
                    if not skip_duplicates:
                        raise ValidationError(
                            "external_id",
                            f"a note with external id {item.external_id!r} already exists",
                            index + 1 if len(notes) > 1 else None,
                        )
                    results.append(None)
                    continue
                video = self._video_for(session, videos, item, now)
                duration = video.duration_seconds
                if duration is not None and item.timestamp_seconds > duration:
                    raise ValidationError(
                        "timestamp_seconds",
                        f"{item.timestamp_seconds:g} s is past the end of the video "
                        f"({duration:g} s)",
                        index + 1 if len(notes) > 1 else None,
                    )
                note = Note(
                    external_id=item.external_id,
                    video=video,
                    text=item.text,
                    transcript=item.transcript,
                    category=item.category,
                    confidence=item.confidence,
                    timestamp_seconds=item.timestamp_seconds,
                    status="ghost",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
                session.add(note)
                results.append((note, video))
                if item.confidence >= threshold:
                    to_queue.append(note)
            session.flush()
            if to_queue and self._scheduler is not None:
                self._queue(session, to_queue, manual=False)
            views = [None if r is None else _view(*r) for r in results]
        created = [v for v in views if v is not None]
        log.info(
            "%d note(s) created, %d queued",
            len(created),
            sum(1 for v in created if v.queued),
        )
        self._notify(created)
        return views

    @staticmethod
    def _videos_by_url(session: Session, urls: set[str]) -> dict[str, Video]:
        found: dict[str, Video] = {}
        for chunk in _chunks(sorted(urls)):
            for video in session.scalars(select(Video).where(Video.url.in_(chunk))):
                found[video.url] = video
        return found

    @staticmethod
    def _known_external_ids(session: Session, ids: set[str]) -> set[str]:
        known: set[str] = set()
        for chunk in _chunks(sorted(ids)):
            known.update(
                str(v)
                for v in session.scalars(
                    select(Note.external_id).where(Note.external_id.in_(chunk))
                )
            )
        return known

    @staticmethod
    def _known_content(session: Session, urls: set[str]) -> set[tuple[str, str, float, str]]:
        """The content keys of the stored notes on these videos (for rows without an id)."""
        known: set[tuple[str, str, float, str]] = set()
        for chunk in _chunks(sorted(urls)):
            rows = session.execute(
                select(Video.platform, Video.url, Note.timestamp_seconds, Note.text)
                .join(Note, Note.video_id == Video.id)
                .where(Video.url.in_(chunk))
            )
            known.update((p, u, float(t), x) for p, u, t, x in rows)
        return known

    @staticmethod
    def _video_for(
        session: Session, videos: dict[str, Video], item: NoteInput, now: float
    ) -> Video:
        video = videos.get(item.video_url)
        if video is None:
            video = Video(
                platform=item.platform,
                url=item.video_url,
                title=item.video_title,
                duration_seconds=item.video_duration,
                created_at=now,
            )
            session.add(video)
            videos[item.video_url] = video
            return video
        if video.platform != item.platform:
            raise ValidationError(
                "platform",
                f"the video {item.video_url} is already known as a {video.platform} video",
            )
        if item.video_title and not video.title:
            video.title = item.video_title
        if item.video_duration is not None:
            video.duration_seconds = item.video_duration
        return video

    def _queue(self, session: Session, notes: list[Note], *, manual: bool) -> None:
        """Ask the scheduler for jobs and record when each note is due."""
        assert self._scheduler is not None
        when = self._scheduler.schedule(session, [(n.id, n.video_id) for n in notes], manual=manual)
        for note in notes:
            due = when.get(note.id)
            if due is None:
                log.warning("note %d was not queued (the queue refused it)", note.id)
                continue
            self._transition(note, "queued")
            note.next_attempt_at = due

    # -- reading -----------------------------------------------------------------------------
    def get(self, note_id: int) -> NoteView:
        with self._db.read() as session:
            note = session.get(Note, note_id)
            if note is None:
                raise NotFoundError(f"no note with id {note_id}")
            return _view(note, note.video)

    def _filtered(
        self,
        query: Any,
        *,
        status: str | None,
        platform: str | None,
        video_id: int | None,
        search: str | None,
    ) -> Any:
        if status is not None:
            if status not in STATES:
                raise ValidationError("status", f"must be one of {', '.join(STATES)}")
            query = query.where(status_filter(status))
        if platform is not None:
            get_platform(platform)
            query = query.where(Video.platform == platform)
        if video_id is not None:
            query = query.where(Note.video_id == video_id)
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern += "%"
            query = query.where(
                or_(
                    Note.text.ilike(pattern, escape="\\"),
                    Note.transcript.ilike(pattern, escape="\\"),
                    Note.category.ilike(pattern, escape="\\"),
                    Video.title.ilike(pattern, escape="\\"),
                )
            )
        return query

    def list(
        self,
        *,
        status: str | None = None,
        platform: str | None = None,
        video_id: int | None = None,
        search: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[NoteView]:
        """Notes in creation order (oldest first). `status` may also be queued or held."""
        query = self._filtered(
            select(Note, Video).join(Video, Note.video_id == Video.id),
            status=status,
            platform=platform,
            video_id=video_id,
            search=search,
        ).order_by(Note.id)
        if offset:
            query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as session:
            return [_view(note, video) for note, video in session.execute(query).all()]

    def count(
        self,
        *,
        status: str | None = None,
        platform: str | None = None,
        video_id: int | None = None,
        search: str | None = None,
    ) -> int:
        query = self._filtered(
            select(func.count(Note.id)).join(Video, Note.video_id == Video.id),
            status=status,
            platform=platform,
            video_id=video_id,
            search=search,
        )
        with self._db.read() as session:
            return int(session.scalar(query) or 0)

    def videos(self) -> builtins.list[VideoView]:
        query = (
            select(Video, func.count(Note.id))
            .outerjoin(Note, Note.video_id == Video.id)
            .group_by(Video.id)
            .order_by(Video.id)
        )
        with self._db.read() as session:
            return [
                VideoView(
                    id=v.id,
                    platform=v.platform,
                    url=v.url,
                    title=v.title,
                    duration=v.duration_seconds,
                    note_count=int(n),
                    created_at=v.created_at,
                )
                for v, n in session.execute(query).all()
            ]

    # -- the state machine -------------------------------------------------------------------
    def _transition(self, note: Note, target: str) -> None:
        current = state_of(note)
        if target not in TRANSITIONS.get(current, frozenset()):
            raise IllegalTransition(
                f"note {note.id} is {current}; it can't become {target}"
                + _explain_illegal(current, target)
            )
        note.status = STORED_AS[target]
        note.updated_at = self._clock()

    def _change(
        self, note_ids: Iterable[int], change: Callable[[Session, Note], None]
    ) -> builtins.list[NoteView]:
        with self._db.write() as session:
            views = []
            for note_id in note_ids:
                note = session.get(Note, note_id)
                if note is None:
                    raise NotFoundError(f"no note with id {note_id}")
                change(session, note)
                session.flush()
                views.append(_view(note, note.video))
        self._notify(views)
        return views

    def _change_one(self, note_id: int, change: Callable[[Session, Note], None]) -> NoteView:
        return self._change([note_id], change)[0]

    # -- user actions ------------------------------------------------------------------------
    def _require_scheduler(self) -> PostingScheduler:
        if self._scheduler is None:
            raise LossyError("posting is not available here (no posting queue)")
        return self._scheduler

    def _requeue(self, session: Session, notes: builtins.list[Note]) -> None:
        """Queue notes for a new round of attempts (a user's action: never refused)."""
        for note in notes:
            # refuse before asking for any job, so an illegal request creates none
            if "queued" not in TRANSITIONS[state_of(note)]:
                self._transition(note, "queued")  # raises IllegalTransition
        self._queue(session, notes, manual=True)
        for note in notes:
            if state_of(note) == "queued":
                note.error_kind = None
                note.error = None
                note.attempts = 0

    def post_now(self, note_ids: Iterable[int]) -> builtins.list[NoteView]:
        """Queue ghost, held and failed notes now. Notes already queued stay as they are;
        a posting or posted note refuses the whole request."""
        self._require_scheduler()
        ids = list(dict.fromkeys(note_ids))

        with self._db.write() as session:
            notes: builtins.list[Note] = []
            for note_id in ids:
                note = session.get(Note, note_id)
                if note is None:
                    raise NotFoundError(f"no note with id {note_id}")
                notes.append(note)
            waiting = [n for n in notes if state_of(n) != "queued"]
            self._requeue(session, waiting)
            session.flush()
            views = [_view(n, n.video) for n in notes]
        self._notify(views)
        return views

    def retry(self, note_id: int) -> NoteView:
        """A failed (or held) note is queued again."""
        self._require_scheduler()

        def change(session: Session, note: Note) -> None:
            if state_of(note) not in ("failed", "held"):
                raise IllegalTransition(
                    f"note {note.id} is {state_of(note)}; only failed or held notes are retried"
                )
            self._requeue(session, [note])

        return self._change_one(note_id, change)

    def cancel(self, note_id: int) -> NoteView:
        """A queued or held note goes back to ghost; its waiting job is cancelled."""

        def change(_session: Session, note: Note) -> None:
            if state_of(note) not in ("queued", "held"):
                raise IllegalTransition(
                    f"note {note.id} is {state_of(note)}; only queued or held notes are cancelled"
                )
            self._transition(note, "ghost")
            note.next_attempt_at = None
            if note.error_kind in HOLD_KINDS:
                note.error_kind = None
                note.error = None

        view = self._change_one(note_id, change)
        if self._scheduler is not None:
            self._scheduler.cancel(note_id)
        return view

    def edit_text(self, note_id: int, text: str) -> NoteView:
        """Change the text of a note not posted yet (ghost, queued, held or failed)."""
        return self.edit(note_id, text=text)

    def edit(
        self,
        note_id: int,
        *,
        video_url: str | None = None,
        timestamp_seconds: Any = None,
        text: str | None = None,
    ) -> NoteView:
        """Change a note's video address, time and/or text whenever it is not posted or being
        posted (ghost, queued, held or failed); it keeps its state. A queued note moved to
        another video is queued again for that video (its waiting job is cancelled)."""
        moved_while_queued: builtins.list[int] = []

        def change(session: Session, note: Note) -> None:
            state = state_of(note)
            if note.status not in ("ghost", "failed"):
                raise IllegalTransition(
                    f"note {note.id} is {state}; a note can only be edited before it is posted"
                )
            platform = note.video.platform
            target = note.video
            if video_url is not None:
                url = check_video_url(platform, video_url, self._settings)
                if url != note.video.url:
                    target = self._videos_by_url(session, {url}).get(url) or Video(
                        platform=platform, url=url, created_at=self._clock()
                    )
                    if target.platform != platform:
                        raise ValidationError(
                            "video_url", f"is already known as a {target.platform} video"
                        )
            new_time = (
                check_timestamp(timestamp_seconds, target.duration_seconds)
                if timestamp_seconds is not None
                else None
            )
            new_text = validate_text(text, platform) if text is not None else None
            if target is not note.video:
                old = note.video
                if target.id is None:
                    session.add(target)
                note.video = target
                session.flush()
                left = session.scalar(select(func.count(Note.id)).where(Note.video_id == old.id))
                if not left:
                    session.delete(old)
                if state == "queued":
                    self._transition(note, "ghost")
                    note.next_attempt_at = None
                    moved_while_queued.append(note.id)
            if new_time is not None:
                note.timestamp_seconds = new_time
            if new_text is not None:
                note.text = new_text
            note.updated_at = self._clock()

        view = self._change_one(note_id, change)
        if moved_while_queued and self._scheduler is not None:
            self._scheduler.cancel(note_id)
            view = self.post_now([note_id])[0]
        return view

    def delete(self, note_id: int) -> None:
        """Delete a note (not while it is being posted), its failure artefact and waiting job."""
        with self._db.write() as session:
            note = session.get(Note, note_id)
            if note is None:
                raise NotFoundError(f"no note with id {note_id}")
            if note.status == "posting":
                raise IllegalTransition(
                    f"note {note_id} is being posted right now; delete it once that ends"
                )
            files = _artifact_files(session, note)
            video = note.video
            session.delete(note)  # its artifacts rows go with it (ON DELETE CASCADE)
            session.flush()
            left = session.scalar(select(func.count(Note.id)).where(Note.video_id == video.id))
            if not left:
                session.delete(video)
        if self._scheduler is not None:
            self._scheduler.cancel(note_id)
        for path in files:
            _remove_file(path)
        log.info("note %d deleted", note_id)
        self._notify_removed([note_id])

    # -- failure artefacts -------------------------------------------------------------------
    def _link_artifact(self, session: Session, note: Note, path: str) -> None:
        """Link an artefact (and the file saved beside it) to the note's current attempt."""
        known = set(session.scalars(select(Artifact.path).where(Artifact.note_id == note.id)))
        now = self._clock()
        for name in _siblings(str(path)):
            if name not in known and Path(name).exists():
                session.add(
                    Artifact(
                        note_id=note.id, attempt=max(note.attempts, 1), path=name, created_at=now
                    )
                )

    def artifacts(self, note_id: int) -> builtins.list[tuple[int, str]]:
        """(attempt, path) of every artefact linked to a note, oldest first."""
        with self._db.read() as session:
            rows = session.execute(
                select(Artifact.attempt, Artifact.path)
                .where(Artifact.note_id == note_id)
                .order_by(Artifact.created_at, Artifact.id)
            )
            return [(int(attempt), str(path)) for attempt, path in rows]

    def prune_artifacts(
        self, artifacts_dir: Path | None = None, *, now: float | None = None
    ) -> int:
        """Delete failure artefacts older than `artifact_retention_days`: their files, their
        rows, a note's link to them; and, in `artifacts_dir`, any file that old no note links
        to (saved before artefacts were linked, or by a process killed before linking it).
        Returns how many files were deleted."""
        now = self._clock() if now is None else now
        cutoff = now - float(self._settings.get("artifact_retention_days")) * 86400.0
        with self._db.write() as session:
            old = builtins.list(
                session.execute(
                    select(Artifact.id, Artifact.path).where(Artifact.created_at < cutoff)
                )
            )
            paths = [str(path) for _id, path in old]
            if old:
                session.execute(delete(Artifact).where(Artifact.id.in_([i for i, _ in old])))
                session.execute(
                    update(Note)
                    .where(Note.failure_artifact_path.in_(paths))
                    .values(failure_artifact_path=None)
                )
            kept = set(session.scalars(select(Artifact.path)))
            linked = session.scalars(
                select(Note.failure_artifact_path).where(Note.failure_artifact_path.is_not(None))
            )
            kept |= {name for path in linked if path for name in _siblings(path)}
        removed = 0
        for path in paths:
            if Path(path).exists():
                _remove_file(path)
                removed += not Path(path).exists()
        if artifacts_dir is not None and artifacts_dir.is_dir():
            for entry in artifacts_dir.iterdir():
                try:
                    stale = entry.is_file() and entry.stat().st_mtime < cutoff
                except OSError:
                    continue
                if stale and str(entry) not in kept:
                    _remove_file(str(entry))
                    removed += not entry.exists()
        if removed:
            log.info("pruned %d failure artefact file(s) older than the retention", removed)
        return removed

    # -- worker actions ----------------------------------------------------------------------
    def mark_posting(self, note_id: int, attempt: int) -> NoteView:
        """The worker starts attempt number `attempt` (the job's, from 1) of posting the note."""

        def change(_session: Session, note: Note) -> None:
            self._transition(note, "posting")
            note.attempts = max(int(attempt), 1)
            note.next_attempt_at = None

        return self._change_one(note_id, change)

    def mark_posted(
        self,
        note_id: int,
        *,
        permalink: str | None,
        comment_id: str | None,
        remark: str | None = None,
    ) -> NoteView:
        """Posted. `remark` records what the agent did beyond posting (e.g. removed an extra
        copy the platform held): kept in the note's message, with no error kind."""

        def change(_session: Session, note: Note) -> None:
            self._transition(note, "posted")
            note.posted_at = self._clock()
            note.external_permalink = permalink
            note.external_comment_id = comment_id
            note.error_kind = None
            note.error = _message(remark) if remark else None
            note.next_attempt_at = None

        return self._change_one(note_id, change)

    def mark_failed(
        self,
        note_id: int,
        *,
        kind: str,
        message: str,
        artifact_path: str | None = None,
    ) -> NoteView:
        """Failed for good: the note keeps the error kind, message and screenshot path; the
        screenshot (and its .txt) are linked to the note and this attempt."""

        def change(session: Session, note: Note) -> None:
            self._transition(note, "failed")
            note.error_kind = _kind(kind)
            note.error = _message(message)
            note.next_attempt_at = None
            if artifact_path is not None:
                self._link_artifact(session, note, artifact_path)
                note.failure_artifact_path = str(artifact_path)

        return self._change_one(note_id, change)

    def mark_retrying(
        self,
        note_id: int,
        *,
        kind: str,
        message: str,
        next_attempt_at: float,
        artifact_path: str | None = None,
    ) -> NoteView:
        """The attempt failed but the queue tries again at `next_attempt_at` (still queued).
        Its screenshot, if any, is linked to the note and this attempt."""
        when = _number("next_attempt_at", next_attempt_at)

        def change(session: Session, note: Note) -> None:
            if artifact_path is not None:
                self._link_artifact(session, note, artifact_path)
            self._transition(note, "queued")
            note.error_kind = _kind(kind)
            note.error = _message(message)
            note.next_attempt_at = when

        return self._change_one(note_id, change)

    def mark_waiting(self, note_id: int, *, next_attempt_at: float) -> NoteView:
        """Not an error: the note waits (still queued) for its account's next comment slot
        (pacing) and goes at `next_attempt_at`. The attempt is not used up."""
        when = _number("next_attempt_at", next_attempt_at)

        def change(_session: Session, note: Note) -> None:
            self._transition(note, "queued")
            note.next_attempt_at = when

        return self._change_one(note_id, change)

    def hold(
        self, note_id: int, *, kind: str, message: str, artifact_path: str | None = None
    ) -> NoteView:
        """The platform connection must be renewed: the note waits (ghost, not queued)."""
        if kind not in HOLD_KINDS:
            raise ValidationError(
                "kind", f"only {', '.join(HOLD_KINDS)} hold a note (got {kind!r})"
            )

        def change(session: Session, note: Note) -> None:
            if artifact_path is not None:
                self._link_artifact(session, note, artifact_path)
            self._transition(note, "held")
            note.status = "ghost"
            note.error_kind = kind
            note.error = _message(message)
            note.next_attempt_at = None

        return self._change_one(note_id, change)

    def requeue_held(self, platform: str) -> builtins.list[int]:
        """Queue every note of `platform` held for a reconnect. Returns their ids."""
        get_platform(platform)
        if self._scheduler is None:
            return []
        with self._db.write() as session:
            notes = list(
                session.scalars(
                    select(Note)
                    .join(Video, Note.video_id == Video.id)
                    .where(Video.platform == platform, state_is(HELD))
                    .order_by(Note.id)
                )
            )
            if not notes:
                return []
            self._requeue(session, notes)
            session.flush()
            views = [_view(n, n.video) for n in notes]
        log.info("%d held %s note(s) queued again", len(views), platform)
        self._notify(views)
        return [v.id for v in views if v.queued]

    # -- retracting a posted comment (workers/retract.py queues and runs it) ------------------
    def retract(
        self, note_id: int, *, enqueue: Callable[[Session, NoteView], None] | None = None
    ) -> NoteView:
        """A posted note's comment is to be deleted from the platform: the note becomes
        `removing` until the delete is done. `enqueue(session, view)` adds the job in the same
        transaction (a refused request adds none). Only a posted note is retracted."""

        def change(session: Session, note: Note) -> None:
            from lossy_desktop.core.wording import state_word

            state = state_of(note)
            if state != "posted":
                label = PLATFORMS[note.video.platform].label
                why = {
                    "removing": f"its comment is already being removed from {label}",
                    "posting": f"it is being posted to {label} right now",
                }.get(
                    state,
                    f"it is {state_word(state)}, not posted, so there is no comment on {label} "
                    "to remove",
                )
                raise IllegalTransition(f"note {note.id} can't be removed: {why}")
            self._transition(note, "removing")
            note.next_attempt_at = self._clock()
            note.error_kind = None
            note.error = None
            if enqueue is not None:
                session.flush()
                enqueue(session, _view(note, note.video))

        return self._change_one(note_id, change)

    def mark_removed(self, note_id: int, *, already_gone: bool = False) -> NoteView:
        """The comment is gone from the platform (deleted now, or found already gone): the note
        is a ghost again. Its history stays in its message: when it was posted, where, and when
        it was removed; the comment id and permalink are cleared."""

        def change(_session: Session, note: Note) -> None:
            label = PLATFORMS[note.video.platform].label
            now = self._clock()
            how = "found already deleted on" if already_gone else "removed from"
            history = f"Posted at {_when(note.posted_at)}"
            if note.external_permalink:
                history += f" ({note.external_permalink})"
            history += f"; {how} {label} at {_when(now)}."
            self._transition(note, "ghost")
            note.external_comment_id = None
            note.external_permalink = None
            note.next_attempt_at = None
            note.error_kind = None
            note.error = _message(history)

        view = self._change_one(note_id, change)
        log.info("note %d: comment removed from %s", note_id, view.platform)
        return view

    def mark_retract_retrying(
        self,
        note_id: int,
        *,
        kind: str,
        message: str,
        next_attempt_at: float,
        artifact_path: str | None = None,
    ) -> NoteView:
        """A delete attempt failed; the queue tries again at `next_attempt_at` (still removing)."""
        when = _number("next_attempt_at", next_attempt_at)

        def change(session: Session, note: Note) -> None:
            if state_of(note) != "removing":
                raise IllegalTransition(f"note {note.id} is {state_of(note)}, not removing")
            if artifact_path is not None:
                self._link_artifact(session, note, artifact_path)
            note.error_kind = _kind(kind)
            note.error = _message(message)
            note.next_attempt_at = when
            note.updated_at = self._clock()

        return self._change_one(note_id, change)

    def mark_retract_failed(
        self, note_id: int, *, kind: str, message: str, artifact_path: str | None = None
    ) -> NoteView:
        """The delete finally failed: the comment is still on the platform, so the note is
        posted again, with the error (and its screenshot) shown."""

        def change(session: Session, note: Note) -> None:
            self._transition(note, "posted")
            note.next_attempt_at = None
            note.error_kind = _kind(kind)
            note.error = _message(message)
            if artifact_path is not None:
                self._link_artifact(session, note, artifact_path)
                note.failure_artifact_path = str(artifact_path)

        return self._change_one(note_id, change)


def _when(timestamp: float | None) -> str:
    """A moment in the note's history, in local time."""
    from datetime import datetime

    if timestamp is None:
        return "an unknown time"
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M")


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _explain_illegal(current: str, target: str) -> str:
    if current == "posted" and target != "removing":
        return " (it is already posted)"
    if current == "removing":
        return " (its comment is being removed from the platform right now)"
    if current == "ghost" and target == "posting":
        return " (it is not queued: cancelled, or never queued)"
    if current == "posting":
        return " (it is being posted right now)"
    return ""


def _kind(kind: str) -> str:
    if not isinstance(kind, str) or not kind.strip() or len(kind) > 32:
        raise ValidationError("kind", f"must be a short error kind (got {kind!r})")
    return kind.strip()


def _message(message: str) -> str:
    """An error message fit to store and show: secrets redacted, length bounded."""
    from lossy_desktop.core.logs import redact

    text = redact(str(message).strip())
    return text[: MAX_ERROR - 1] + "…" if len(text) > MAX_ERROR else text


def _siblings(path: str) -> builtins.list[str]:
    """An artefact and the files saved with it (the screenshot's .txt, the .txt's screenshot)."""
    main = Path(path)
    names = [str(main)]
    for suffix in (".png", ".txt"):
        other = str(main.with_suffix(suffix))
        if other not in names:
            names.append(other)
    return names


def _artifact_files(session: Session, note: Note) -> builtins.list[str]:
    """Every file linked to a note (rows, plus the failure path and its siblings)."""
    files = builtins.list(session.scalars(select(Artifact.path).where(Artifact.note_id == note.id)))
    if note.failure_artifact_path:
        files += [p for p in _siblings(note.failure_artifact_path) if p not in files]
    return files


def _remove_file(path: str | None) -> None:
    if not path:
        return
    try:
        Path(path).unlink(missing_ok=True)
    except OSError as error:
        log.warning("could not delete the artefact %s: %s", path, error)
