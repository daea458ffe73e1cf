"""End to end through the queue: notes → runner → post_note worker → a real headless Chromium
(local provider) → the sandbox's platform pages. Checks what the platform really shows."""

from __future__ import annotations

import re

import pytest
from fixtures import connect_on_sandbox

from lossy_desktop.core.notes import validate_note
from lossy_desktop.workers import build_runner, recover_interrupted

pytestmark = pytest.mark.browser

ACCOUNT = "Reviewer One"


@pytest.fixture
def wired(on_sandbox):
    on_sandbox.settings.set("comment_interval_s", 0)  # pacing: tests/test_workers_pacing.py
    return on_sandbox


def add_note(services, sandbox, platform, video, seconds, text, confidence=0.9):
    fields = {
        "platform": platform,
        "video_url": sandbox.video_url(platform, video),
        "timestamp_seconds": seconds,
        "text": text,
        "confidence": confidence,
    }
    return services.notes.create(validate_note(fields, services.settings))


@pytest.mark.parametrize("platform", ["youtube", "vimeo", "air"])
def test_queued_notes_are_posted_once_with_timecodes_and_permalinks(
    wired, sandbox, engine, platform
):
    services = wired
    connect_on_sandbox(services, engine, sandbox, platform)
    sandbox.set_video(platform, "vidA", duration=4000)
    notes = [
        add_note(services, sandbox, platform, "vidA", 83, "Audio drops here"),
        add_note(services, sandbox, platform, "vidA", 3723, "Colour shift after the cut"),
        add_note(services, sandbox, platform, "vidB", 5, "Logo too small"),
        add_note(services, sandbox, platform, "vidB", 9, "Not sure about this", confidence=0.3),
    ]
    assert [n.queued for n in notes] == [True, True, True, False]

    runner = build_runner(services, engine)
    try:
        runner.run_until_idle(timeout=240)
    finally:
        runner.stop()

    comments = sandbox.comments(platform)
    texts = sorted(c["text"] for c in comments)
    assert texts == sorted(
        ["1:23 — Audio drops here", "1:02:03 — Colour shift after the cut", "0:05 — Logo too small"]
    )
    assert all(c["author"] == ACCOUNT for c in comments)
    by_text = {c["text"]: c for c in comments}
    for note in notes[:3]:
        view = services.notes.get(note.id)
        assert view.status == "posted", (view.error_kind, view.error)
        assert view.external_comment_id
        assert view.external_permalink and view.external_comment_id in view.external_permalink
        posted = [c for c in comments if c["id"] == view.external_comment_id]
        assert len(posted) == 1
        assert re.match(r"\d+:\d\d", posted[0]["text"])
        assert by_text[posted[0]["text"]]["id"] == view.external_comment_id
    assert services.notes.get(notes[3].id).status == "ghost"
    usage = services.usage.month_summary(services.clock())
    assert usage.sessions >= 2  # one per video batch (and the login), not one per note


def test_expired_login_holds_notes_and_reconnect_requeues(wired, sandbox, engine):
    services = wired
    connect_on_sandbox(services, engine, sandbox, "youtube")
    sandbox.logout("youtube")  # the platform ends the session: the profile's cookie is dead
    note = add_note(services, sandbox, "youtube", "vidC", 12, "Hold me")
    runner = build_runner(services, engine)
    try:
        runner.run_until_idle(timeout=120)
    finally:
        runner.stop()
    view = services.notes.get(note.id)
    assert view.status == "ghost" and view.held, (view.status, view.error_kind)
    assert view.error_kind in ("session_expired", "not_logged_in")
    assert services.connections.get("youtube").status in ("expired", "logged_out")
    assert sandbox.comments("youtube") == []

    connect_on_sandbox(services, engine, sandbox, "youtube")  # reconnect → held notes queue again
    assert services.notes.get(note.id).queued
    runner = build_runner(services, engine)
    try:
        runner.run_until_idle(timeout=120)
    finally:
        runner.stop()
    assert services.notes.get(note.id).status == "posted"
    assert [c["text"] for c in sandbox.comments("youtube")] == ["0:12 — Hold me"]


def test_comment_already_on_the_page_is_not_posted_twice(wired, sandbox, engine):
    """A crash between submit and save: the job runs again, finds the comment, records it."""
    services = wired
    connect_on_sandbox(services, engine, sandbox, "vimeo")
    note = add_note(services, sandbox, "vimeo", "vidD", 61, "Already there")
    sandbox.add_comment("vimeo", "vidD", "1:01 — Already there", author=ACCOUNT)
    runner = build_runner(services, engine)
    try:
        runner.run_until_idle(timeout=120)
    finally:
        runner.stop()
    view = services.notes.get(note.id)
    assert view.status == "posted"
    comments = sandbox.comments("vimeo", "vidD")
    assert len(comments) == 1
    assert view.external_comment_id == comments[0]["id"]


def test_a_post_the_browser_resent_ends_as_one_comment_and_the_note_says_so(wired, sandbox, engine):
    """The platform stored the comment twice and the answer was lost: one attempt, one comment
    left, the first copy's permalink on the note, and the removal recorded on the note."""
    services = wired
    connect_on_sandbox(services, engine, sandbox, "vimeo")
    sandbox.set_fault(
        "vimeo", "dropped_connection", on="post", after_commit=True, resent=True, count=1
    )
    note = add_note(services, sandbox, "vimeo", "vidR", 61, "Sent twice")
    runner = build_runner(services, engine)
    try:
        runner.run_until_idle(timeout=120)
    finally:
        runner.stop()
    view = services.notes.get(note.id)
    assert view.status == "posted" and view.attempts == 1
    comments = sandbox.comments("vimeo", "vidR")
    assert len(comments) == 1
    assert view.external_comment_id == comments[0]["id"]
    assert view.external_permalink and view.external_permalink.endswith(
        f"#comment_{comments[0]['id']}"
    )
    assert view.error is not None and "removed 1 extra copy" in view.error
    assert view.error_kind is None


def test_start_up_recovery_requeues_notes_left_posting(wired, sandbox):
    services = wired
    note = add_note(services, sandbox, "youtube", "vidE", 1, "Interrupted")
    claimed = services.queue.claim("automation", 1)
    services.notes.mark_posting(note.id, claimed[0][0].attempt)
    assert services.notes.get(note.id).status == "posting"
    assert recover_interrupted(services) == 1
    view = services.notes.get(note.id)
    assert view.status == "ghost" and view.queued


def test_note_past_the_end_of_the_video_fails_at_once_and_is_not_retried(wired, sandbox, engine):
    from lossy_desktop.workers.scheduling import note_key

    services = wired
    connect_on_sandbox(services, engine, sandbox, "youtube")
    sandbox.set_video("youtube", "vidShort", duration=600)
    late = add_note(services, sandbox, "youtube", "vidShort", 3723, "After the end")
    fine = add_note(services, sandbox, "youtube", "vidShort", 83, "Inside the video")
    runner = build_runner(services, engine)
    try:
        runner.run_until_idle(timeout=120)
    finally:
        runner.stop()
    view = services.notes.get(late.id)
    assert view.status == "failed" and not view.queued
    assert view.error_kind == "invalid_video"
    assert "the note's time 1:02:03 is past the end of the video (10:00)" in (view.error or "")
    jobs = services.queue.jobs_for(note_key(late.id))
    assert [(j.state, j.attempt) for j in jobs] == [("discarded", 1)]  # no retry
    assert services.notes.get(fine.id).status == "posted"
    assert [c["text"] for c in sandbox.comments("youtube")] == ["1:23 — Inside the video"]


def test_each_note_is_saved_as_posted_the_moment_it_is_seen(wired, sandbox, engine):
    """In a batch, note 1 is already `posted` in the database while note 2 is being typed."""
    services = wired
    connect_on_sandbox(services, engine, sandbox, "air")
    first = add_note(services, sandbox, "air", "vidF", 10, "First of the batch")
    second = add_note(services, sandbox, "air", "vidF", 20, "Second of the batch")
    order: list[str] = []
    services.notes.add_listener(
        lambda views: order.extend(f"posted:{v.id}" for v in views if v.status == "posted")
    )
    runner = build_runner(services, engine)
    runner.add_listener(
        lambda e: order.append(f"{e.step}:{e.args['note_id']}") if e.kind == "step" else None
    )
    try:
        runner.run_until_idle(timeout=120)
    finally:
        runner.stop()
    assert f"posted:{first.id}" in order and f"posted:{second.id}" in order
    assert order.index(f"posted:{first.id}") < order.index(f"typing:{second.id}")
    assert len(sandbox.comments("air", "vidF")) == 2
