"""Notes: validation (every rule names its field), auto-queue, the state machine, user actions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.errors import IllegalTransition, NotFoundError, ValidationError
from lossy_desktop.core.notes import (
    TRANSITIONS,
    NoteInput,
    NoteService,
    NoteView,
    validate_note,
)
from lossy_desktop.services import Services

YT = "https://www.youtube.com/watch?v=abc123"


class FakeScheduler:
    """Stands in for the job queue: refuses an automatic re-queue within 60 s, like the queue."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.scheduled: list[tuple[int, int, bool]] = []
        self.cancelled: list[int] = []
        self.last: dict[int, float] = {}

    def schedule(
        self, session: Session, notes: list[tuple[int, int]], *, manual: bool
    ) -> dict[int, float | None]:
        assert session.in_transaction()
        out: dict[int, float | None] = {}
        for note_id, video_id in notes:
            now = self.clock()
            if not manual and now - self.last.get(note_id, -1e9) < 60:
                out[note_id] = None
                continue
            self.last[note_id] = now
            self.scheduled.append((note_id, video_id, manual))
            out[note_id] = now
        return out

    def cancel(self, note_id: int) -> int:
        self.cancelled.append(note_id)
        return 1


@pytest.fixture
def scheduler(clock: FakeClock) -> FakeScheduler:
    return FakeScheduler(clock)


@pytest.fixture
def notes(fake_services: Services, scheduler: FakeScheduler, clock: FakeClock) -> NoteService:
    return NoteService(fake_services.db, fake_services.settings, scheduler, clock=clock)


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "platform": "youtube",
        "video_url": YT,
        "video_title": "Cut 3",
        "video_duration": 600,
        "timestamp_seconds": 83.5,
        "text": "Colour shifts here",
        "category": "colour",
        "confidence": 0.9,
        "transcript": "the colour shifts",
        "external_id": None,
    }
    base.update(overrides)
    return base


def make(service: NoteService, **overrides: Any) -> NoteView:
    return service.create(service.validate(fields(**overrides)))


# -- validation --------------------------------------------------------------------------------
BAD_FIELDS = [
    ({"text": ""}, "text"),
    ({"text": "   \n "}, "text"),
    ({"text": None}, "text"),
    ({"text": "bad\x00nul"}, "text"),
    ({"text": "bell\x07"}, "text"),
    ({"text": "x" * 10_001}, "text"),
    ({"text": 12}, "text"),
    ({"timestamp_seconds": None}, "timestamp_seconds"),
    ({"timestamp_seconds": "soon"}, "timestamp_seconds"),
    ({"timestamp_seconds": math.nan}, "timestamp_seconds"),
    ({"timestamp_seconds": math.inf}, "timestamp_seconds"),
    ({"timestamp_seconds": -1}, "timestamp_seconds"),
    ({"timestamp_seconds": 601}, "timestamp_seconds"),
    ({"timestamp_seconds": True}, "timestamp_seconds"),
    ({"video_url": ""}, "video_url"),
    ({"video_url": "ftp://www.youtube.com/watch?v=1"}, "video_url"),
    ({"video_url": "https://evil.example/watch?v=1"}, "video_url"),
    ({"video_url": "https://vimeo.com/123"}, "video_url"),
    ({"video_url": "https://www.youtube.com/watch?v=1 x"}, "video_url"),
    ({"video_url": 5}, "video_url"),
    ({"confidence": 1.5}, "confidence"),
    ({"confidence": -0.1}, "confidence"),
    ({"confidence": "high"}, "confidence"),
    ({"confidence": math.nan}, "confidence"),
    ({"platform": "dailymotion"}, "platform"),
    ({"platform": 3}, "platform"),
    ({"platform": None, "video_url": "https://example.org/v"}, "platform"),
    ({"video_duration": 0}, "video_duration"),
    ({"video_duration": -5}, "video_duration"),
    ({"video_duration": math.inf}, "video_duration"),
    ({"video_duration": "long"}, "video_duration"),
    ({"external_id": "x" * 201}, "external_id"),
    ({"external_id": "a\nb"}, "external_id"),
    ({"category": "c" * 65}, "category"),
    ({"category": "a\tb"}, "category"),
    ({"video_title": "t" * 501}, "video_title"),
    ({"transcript": "a\x00b"}, "transcript"),
]


@pytest.mark.parametrize(("override", "field"), BAD_FIELDS)
def test_every_bad_field_is_named(fake_services: Services, override: dict[str, Any], field: str):
    with pytest.raises(ValidationError) as info:
        validate_note(fields(**override), fake_services.settings, line=7)
    assert info.value.field == field
    assert info.value.line == 7
    assert str(info.value).startswith(f"line 7: {field}:")


def test_valid_note_is_normalised(fake_services: Services):
    note = validate_note(
        {
            "video_url": " https://youtu.be/abc ",
            "timestamp_seconds": "1:02:03.5",
            "text": "  two\r\nlines\tand a tab ",
            "confidence": "0.25",
            "external_id": 42,
            "category": "",
        },
        fake_services.settings,
    )
    assert note == NoteInput(
        platform="youtube",  # inferred from the host
        video_url="https://youtu.be/abc",
        video_title=None,
        video_duration=None,
        timestamp_seconds=3723.5,
        text="two\nlines\tand a tab",
        category=None,
        confidence=0.25,
        transcript=None,
        external_id="42",
    )


def test_limits_are_per_platform(fake_services: Services):
    validate_note(fields(text="y" * 10_000), fake_services.settings)
    with pytest.raises(ValidationError, match="Vimeo allows 5,000") as info:
        validate_note(
            fields(platform="vimeo", video_url="https://vimeo.com/1", text="y" * 5_001),
            fake_services.settings,
        )
    assert info.value.field == "text"


def test_sandbox_base_urls_are_accepted_only_when_configured(
    fake_services: Services, monkeypatch: pytest.MonkeyPatch
):
    sandbox = "http://127.0.0.1:9999/youtube/watch?v=abc"
    with pytest.raises(ValidationError):
        validate_note(fields(video_url=sandbox), fake_services.settings)
    monkeypatch.setenv("LOSSY_PLATFORM_BASE", "http://127.0.0.1:9999")
    assert validate_note(fields(video_url=sandbox), fake_services.settings).video_url == sandbox


def test_timestamp_past_a_known_video_duration_is_refused(notes: NoteService):
    make(notes, timestamp_seconds=10)  # stores the video with a 600 s duration
    later = notes.validate(fields(video_duration=None, timestamp_seconds=700))
    with pytest.raises(ValidationError) as info:
        notes.create(later)
    assert info.value.field == "timestamp_seconds"
    assert notes.count() == 1


# -- creating and auto-queue -------------------------------------------------------------------
def test_auto_queue_threshold(notes: NoteService, fake_services: Services, scheduler):
    low = make(notes, confidence=0.69)
    high = make(notes, confidence=0.7, text="another")
    assert (low.status, low.queued) == ("ghost", False)
    assert (high.status, high.queued, high.state) == ("ghost", True, "queued")
    assert [s[0] for s in scheduler.scheduled] == [high.id]
    assert scheduler.scheduled[0][2] is False  # automatic, not manual

    fake_services.settings.set("auto_post_threshold", "0.5")
    mid = make(notes, confidence=0.6, text="third")
    assert mid.queued


def test_without_a_scheduler_notes_stay_ghost(fake_services: Services, clock: FakeClock):
    service = NoteService(fake_services.db, fake_services.settings, None, clock=clock)
    view = service.create(service.validate(fields(confidence=1.0)))
    assert view.state == "ghost"


def test_create_many_is_one_transaction(notes: NoteService):
    good = notes.validate(fields(external_id="a"))
    clash = notes.validate(fields(external_id="a", text="other"))
    with pytest.raises(ValidationError) as info:
        notes.create_many([good, clash])
    assert info.value.field == "external_id"
    assert notes.count() == 0
    assert notes.videos() == []


def test_view_carries_video_and_snapshot_fields(notes: NoteService, clock: FakeClock):
    view = make(notes, confidence=0.1)
    assert view.platform == "youtube" and view.video_url == YT
    assert view.video_title == "Cut 3" and view.video_duration == 600
    assert view.created_at == view.updated_at == clock()
    data = view.to_dict()
    assert {"id", "queued", "held", "state", "failure_artifact_path"} <= set(data)
    with pytest.raises(AttributeError):
        view.text = "x"  # type: ignore[misc]


# -- state machine -----------------------------------------------------------------------------
def _in_state(service: NoteService, state: str, **kw: Any) -> NoteView:
    view = make(service, confidence=0.1, **kw)
    if state == "ghost":
        return view
    if state == "failed":
        service.post_now([view.id])
        service.mark_posting(view.id, 1)
        return service.mark_failed(view.id, kind="selector_failed", message="no box")
    view = service.post_now([view.id])[0]
    if state == "queued":
        return view
    if state == "held":
        return service.hold(view.id, kind="session_expired", message="reconnect")
    view = service.mark_posting(view.id, 1)
    if state == "posting":
        return view
    assert state == "posted"
    return service.mark_posted(view.id, permalink=f"{YT}&lc=c1", comment_id="c1")


WORKER_ACTIONS = {
    "posting": lambda s, i: s.mark_posting(i, 1),
    "posted": lambda s, i: s.mark_posted(i, permalink="p", comment_id="c"),
    "failed": lambda s, i: s.mark_failed(i, kind="comments_disabled", message="off"),
    "queued": lambda s, i: s.mark_retrying(i, kind="network_error", message="n", next_attempt_at=5),
    "held": lambda s, i: s.hold(i, kind="not_logged_in", message="log in"),
}


# The note lifecycle, written out here (not read from the product): start -> allowed targets.
EXPECTED_TRANSITIONS: dict[str, set[str]] = {
    "ghost": {"queued", "failed", "held"},
    "queued": {"posting", "ghost", "held", "failed", "queued"},
    "held": {"queued", "ghost", "failed"},
    "posting": {"posted", "failed", "queued", "held", "posting"},
    "failed": {"queued", "ghost"},
    "posted": {"removing"},
    "removing": {"ghost", "posted"},
}


def test_the_transition_table_is_the_documented_lifecycle():
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED_TRANSITIONS


@pytest.mark.parametrize("start", ["ghost", "queued", "held", "posting", "posted", "failed"])
@pytest.mark.parametrize("target", sorted(WORKER_ACTIONS))
def test_worker_transitions_follow_the_table(notes: NoteService, start: str, target: str):
    view = _in_state(notes, start, text=f"{start}->{target}")
    assert view.state == start
    if target in EXPECTED_TRANSITIONS[start]:
        after = WORKER_ACTIONS[target](notes, view.id)
        assert after.state == target
        assert notes.get(view.id).state == target
    else:
        with pytest.raises(IllegalTransition):
            WORKER_ACTIONS[target](notes, view.id)
        assert notes.get(view.id) == view  # nothing written


def test_a_full_posting_run(notes: NoteService, clock: FakeClock):
    view = make(notes)
    assert view.queued
    posting = notes.mark_posting(view.id, 1)
    assert (posting.status, posting.attempts, posting.next_attempt_at) == ("posting", 1, None)
    retry_at = clock() + 30
    again = notes.mark_retrying(
        view.id, kind="rate_limited", message="slow", next_attempt_at=retry_at
    )
    assert again.queued and again.next_attempt_at == retry_at and again.error_kind == "rate_limited"
    notes.mark_posting(view.id, 2)
    clock.advance(5)
    done = notes.mark_posted(view.id, permalink=f"{YT}&lc=xyz", comment_id="xyz")
    assert done.status == "posted" and done.posted_at == clock()
    assert done.error is None and done.external_comment_id == "xyz"
    for action in (
        lambda: notes.retry(view.id),
        lambda: notes.cancel(view.id),
        lambda: notes.edit_text(view.id, "new"),
        lambda: notes.post_now([view.id]),
    ):
        with pytest.raises(IllegalTransition):
            action()


def test_hold_accepts_only_reconnect_kinds(notes: NoteService):
    view = _in_state(notes, "posting")
    with pytest.raises(ValidationError) as info:
        notes.hold(view.id, kind="network_error", message="x")
    assert info.value.field == "kind"


# -- user actions ------------------------------------------------------------------------------
def test_retry_failed_note(notes: NoteService, scheduler: FakeScheduler):
    view = _in_state(notes, "failed")
    assert view.error_kind == "selector_failed"
    retried = notes.retry(view.id)
    assert retried.queued and retried.error is None and retried.error_kind is None
    assert scheduler.scheduled[-1] == (view.id, view.video_id, True)
    with pytest.raises(IllegalTransition):
        notes.retry(make(notes, confidence=0.1, text="plain ghost").id)


def test_post_now_queues_ghosts_and_refuses_posted(notes: NoteService):
    a = make(notes, confidence=0.1, text="a")
    b = make(notes, confidence=0.9, text="b")  # already queued: left as it is
    views = notes.post_now([a.id, b.id])
    assert [v.queued for v in views] == [True, True]
    assert views[1].next_attempt_at == b.next_attempt_at
    posted = _in_state(notes, "posted", text="c")
    d = make(notes, confidence=0.1, text="d")
    with pytest.raises(IllegalTransition):
        notes.post_now([d.id, posted.id])
    assert not notes.get(d.id).queued  # all or nothing
    with pytest.raises(NotFoundError):
        notes.post_now([999])


def test_cancel_queued_and_held(notes: NoteService, scheduler: FakeScheduler):
    queued = _in_state(notes, "queued", text="q")
    cancelled = notes.cancel(queued.id)
    assert cancelled.state == "ghost" and cancelled.next_attempt_at is None
    assert scheduler.cancelled == [queued.id]
    held = _in_state(notes, "held", text="h")
    assert notes.cancel(held.id).state == "ghost"
    with pytest.raises(IllegalTransition):
        notes.cancel(queued.id)  # a ghost is not cancelled again
    # a cancelled note is not posted by a job that was already claimed
    with pytest.raises(IllegalTransition, match="not queued"):
        notes.mark_posting(queued.id, 1)


def test_edit_text_before_posting_only(notes: NoteService):
    view = make(notes, confidence=0.1)
    assert notes.edit_text(view.id, "  better words ").text == "better words"
    with pytest.raises(ValidationError) as info:
        notes.edit_text(view.id, "")
    assert info.value.field == "text"
    with pytest.raises(ValidationError):
        notes.edit_text(view.id, "z" * 10_001)
    failed = _in_state(notes, "failed", text="f")
    assert notes.edit_text(failed.id, "fixed").status == "failed"
    posting = _in_state(notes, "posting", text="p")
    with pytest.raises(IllegalTransition):
        notes.edit_text(posting.id, "too late")
    assert notes.get(view.id).text == "better words"


def test_delete_removes_artifact_job_and_empty_video(
    notes: NoteService, scheduler: FakeScheduler, tmp_path: Path
):
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"png")
    view = make(notes)
    notes.mark_posting(view.id, 1)
    notes.mark_failed(view.id, kind="selector_failed", message="gone", artifact_path=str(shot))
    assert notes.get(view.id).failure_artifact_path == str(shot)
    removed: list[list[int]] = []
    notes.add_removal_listener(removed.append)
    notes.delete(view.id)
    assert not shot.exists()
    assert view.id in scheduler.cancelled
    assert removed == [[view.id]]
    assert notes.videos() == []
    with pytest.raises(NotFoundError):
        notes.get(view.id)
    with pytest.raises(NotFoundError):
        notes.delete(view.id)


def test_a_note_being_posted_is_not_deleted(notes: NoteService):
    view = _in_state(notes, "posting")
    with pytest.raises(IllegalTransition):
        notes.delete(view.id)
    assert notes.get(view.id).status == "posting"


def test_held_notes_are_requeued_per_platform(notes: NoteService):
    yt = _in_state(notes, "held", text="yt")
    vimeo = _in_state(notes, "held", text="vm", platform="vimeo", video_url="https://vimeo.com/77")
    assert yt.held and yt.error_kind == "session_expired"
    assert notes.list(status="held") == [yt, vimeo]
    assert notes.requeue_held("youtube") == [yt.id]
    assert notes.get(yt.id).queued and notes.get(yt.id).error is None
    assert notes.get(vimeo.id).held
    assert notes.requeue_held("youtube") == []


def test_listeners_get_snapshots_and_a_failing_listener_is_contained(notes: NoteService):
    seen: list[list[NoteView]] = []
    notes.add_listener(lambda views: 1 / 0)
    notes.add_listener(seen.append)
    view = make(notes, confidence=0.1)
    notes.post_now([view.id])
    assert [[v.state for v in batch] for batch in seen] == [["ghost"], ["queued"]]


def test_list_filters_search_and_count(notes: NoteService):
    a = make(notes, confidence=0.1, text="Audio pops 100%", category="sound")
    b = make(notes, confidence=0.9, text="Cut too early")
    c = make(notes, platform="vimeo", video_url="https://vimeo.com/5", text="Grade", confidence=0.1)
    assert [v.id for v in notes.list()] == [a.id, b.id, c.id]
    assert [v.id for v in notes.list(status="queued")] == [b.id]
    assert [v.id for v in notes.list(platform="vimeo")] == [c.id]
    assert [v.id for v in notes.list(search="100%")] == [a.id]
    assert [v.id for v in notes.list(search="SOUND")] == [a.id]
    assert [v.id for v in notes.list(search="_")] == []
    assert [v.id for v in notes.list(limit=1, offset=1)] == [b.id]
    assert notes.count(status="ghost") == 3 and notes.count(platform="youtube") == 2
    assert [(v.platform, v.note_count) for v in notes.videos()] == [("youtube", 2), ("vimeo", 1)]
    with pytest.raises(ValidationError) as info:
        notes.list(status="lost")
    assert info.value.field == "status"


def test_error_messages_are_stored_without_secrets(notes: NoteService):
    view = _in_state(notes, "posting")
    failed = notes.mark_failed(
        view.id,
        kind="network_error",
        message="lost wss://connect.browserbase.com/?signingKey=TOPSECRET42 " + "x" * 5000,
    )
    assert "TOPSECRET42" not in (failed.error or "")
    assert len(failed.error or "") <= 2000


# -- editing the video, time and text (issue 12) ------------------------------------------------
@pytest.mark.parametrize("state", ["ghost", "queued", "held", "failed"])
def test_edit_video_time_and_text_in_every_state_before_posting(
    notes: NoteService, scheduler: FakeScheduler, state: str
):
    view = _in_state(notes, state)
    other = "https://www.youtube.com/watch?v=other1"
    edited = notes.edit(view.id, video_url=other, timestamp_seconds="1:05", text="moved")
    assert (edited.video_url, edited.timestamp_seconds, edited.text) == (other, 65.0, "moved")
    assert edited.state == state
    if state == "queued":  # queued again for the new video, the old job cancelled
        assert view.id in scheduler.cancelled
        assert scheduler.scheduled[-1] == (view.id, edited.video_id, True)
    assert YT not in {v.url for v in notes.videos()}, "the emptied video is gone"


@pytest.mark.parametrize("state", ["posting", "posted"])
def test_edit_is_refused_while_posting_or_posted(notes: NoteService, state: str):
    view = _in_state(notes, state)
    with pytest.raises(IllegalTransition):
        notes.edit(view.id, timestamp_seconds=5)
    assert notes.get(view.id).timestamp_seconds == view.timestamp_seconds


def test_edit_checks_each_field(notes: NoteService):
    view = make(notes, confidence=0.1)
    with pytest.raises(ValidationError) as info:
        notes.edit(view.id, video_url="https://vimeo.com/123")
    assert info.value.field == "video_url"
    with pytest.raises(ValidationError) as info:
        notes.edit(view.id, timestamp_seconds="99:99")
    assert "not a time" in info.value.message and "59" in info.value.message
    with pytest.raises(ValidationError):
        notes.edit(view.id, timestamp_seconds=601)  # past the video's 600 s
    assert notes.get(view.id).video_url == YT


def test_note_problems_lists_every_bad_field_at_once(fake_services: Services):
    from lossy_desktop.core.notes import note_problems

    problems = note_problems(
        fields(video_url="https://www.youtube.com/wa", timestamp_seconds="99:99", text=" "),
        fake_services.settings,
    )
    assert set(problems) == {"video_url", "timestamp_seconds", "text"}
    assert "watch?v=" in problems["video_url"]
    assert note_problems(fields(), fake_services.settings) == {}


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/wahttps://vimeo.com/1tch?v=abc",
        "https://www.youtube.com/watch",
        "https://www.youtube.com/channel/UCabc",
        "https://vimeo.com/about",
        "https://app.air.inc/workspace",
    ],
)
def test_addresses_that_are_not_a_video_are_refused(fake_services: Services, url: str):
    platform = "air" if "air.inc" in url else "vimeo" if "vimeo" in url else "youtube"
    with pytest.raises(ValidationError) as info:
        validate_note(fields(platform=platform, video_url=url), fake_services.settings)
    assert info.value.field == "video_url"


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("youtube", "https://youtu.be/dQw4w9WgXcQ"),
        ("youtube", "https://www.youtube.com/shorts/abc_12"),
        ("vimeo", "https://vimeo.com/channels/staffpicks/123456"),
        ("vimeo", "https://player.vimeo.com/video/123456"),
        ("air", "https://app.air.inc/lossy/c/abc1"),
        ("air", "https://air.inc/a/lossy/assets/5f3c2b"),
    ],
)
def test_every_known_video_address_form_is_accepted(
    fake_services: Services, platform: str, url: str
):
    note = validate_note(fields(platform=platform, video_url=url), fake_services.settings)
    assert note.video_url == url


def test_another_platforms_address_is_named(fake_services: Services):
    with pytest.raises(ValidationError) as info:
        validate_note(fields(video_url="https://vimeo.com/123"), fake_services.settings)
    assert info.value.message == "is a Vimeo address, not a YouTube one"


def test_sandbox_addresses_must_be_video_pages_too(fake_services: Services):
    fake_services.settings.set("platform_base", "http://127.0.0.1:9")
    ok = "http://127.0.0.1:9/youtube/watch?v=abc"
    assert validate_note(fields(video_url=ok), fake_services.settings).video_url == ok
    bad = "http://127.0.0.1:9/youtube/wahttps://vimeo.com/1tch?v=abc"
    with pytest.raises(ValidationError):
        validate_note(fields(video_url=bad), fake_services.settings)


def test_video_url_at_uses_each_platforms_time_parameter():
    from lossy_desktop.core.platforms import video_url_at

    assert video_url_at("youtube", "https://www.youtube.com/watch?v=abc&t=5s", 83.7) == (
        "https://www.youtube.com/watch?v=abc&t=83s"
    )
    assert video_url_at("vimeo", "https://vimeo.com/123", 83) == "https://vimeo.com/123#t=83s"
    assert video_url_at("air", "https://app.air.inc/w/c/a1", 5) == "https://app.air.inc/w/c/a1#t=5s"


# -- retracting a posted comment (workers/retract.py drives these) ------------------------------
@pytest.mark.parametrize("start", ["ghost", "queued", "held", "posting", "failed"])
def test_only_a_posted_note_is_retracted(notes: NoteService, start: str):
    view = _in_state(notes, start, text=f"retract {start}")
    enqueued: list[int] = []
    with pytest.raises(IllegalTransition, match="can't be removed") as info:
        notes.retract(view.id, enqueue=lambda _s, v: enqueued.append(v.id))
    assert "YouTube" in str(info.value) and "_" not in str(info.value)
    assert enqueued == [] and notes.get(view.id) == view  # nothing written, no job


def test_retract_then_removed_is_a_ghost_with_its_history(notes: NoteService, clock: FakeClock):
    posted = _in_state(notes, "posted")
    enqueued: list[int] = []
    removing = notes.retract(posted.id, enqueue=lambda s, v: enqueued.append(v.id))
    assert enqueued == [posted.id]
    assert removing.state == "removing" and removing.status == "posted" and removing.removing
    assert removing.external_comment_id == "c1"
    with pytest.raises(IllegalTransition, match="already being removed"):
        notes.retract(posted.id)
    with pytest.raises(IllegalTransition):
        notes.edit_text(posted.id, "changed")
    assert notes.list(status="posted")[0].id == posted.id  # still on the platform until removed

    retrying = notes.mark_retract_retrying(
        posted.id, kind="network_error", message="dropped", next_attempt_at=clock() + 30
    )
    assert retrying.state == "removing" and retrying.error_kind == "network_error"

    clock.advance(3600)
    ghost = notes.mark_removed(posted.id)
    assert ghost.state == "ghost" and ghost.error_kind is None
    assert ghost.external_comment_id is None and ghost.external_permalink is None
    assert ghost.posted_at == posted.posted_at
    assert ghost.error is not None
    assert "Posted at" in ghost.error and f"{YT}&lc=c1" in ghost.error
    assert "removed from YouTube at" in ghost.error
    assert notes.post_now([posted.id])[0].state == "queued"  # it can be posted again


def test_a_failed_retract_leaves_the_note_posted_with_the_reason(notes: NoteService):
    posted = _in_state(notes, "posted")
    notes.retract(posted.id)
    back = notes.mark_retract_failed(
        posted.id, kind="selector_failed", message="Not removed from YouTube: the page changed"
    )
    assert back.state == "posted" and back.external_comment_id == "c1"
    assert back.error_kind == "selector_failed" and back.error and "Not removed" in back.error
    assert notes.retract(posted.id).state == "removing"  # and it can be retracted again
