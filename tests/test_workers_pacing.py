"""Pacing end to end on the sandbox, through the fake Browserbase (real headless Chromium): the
comments of one account land at least `comment_interval_s` apart (the platform page's own
times), a short wait keeps the browser session, a long wait releases it — and a restart, or
another video of the same account, opens no browser until the account's slot comes."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest
from fixtures import connect_on_sandbox
from sqlalchemy import select

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.models import PacingEvent
from lossy_desktop.core.notes import validate_note
from lossy_desktop.queue import JobEvent
from lossy_desktop.queue.pacing import PACED, pacing_wait
from lossy_desktop.services import Services
from lossy_desktop.workers import build_runner
from lossy_desktop.workers.scheduling import note_key

pytestmark = pytest.mark.browser

ACCOUNT = "Careful Reviewer"
WAIT = 180.0


class Events:
    def __init__(self) -> None:
        self.items: list[JobEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: JobEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait(self, predicate: Callable[[list[JobEvent]], bool]) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.items), WAIT), self.items


@pytest.fixture
def bb(services: Services, bb_env, engine) -> Services:
    """A YouTube connection on the fake Browserbase, logged in."""
    services.settings.set("platform_base", bb_env.base_url)
    connect_on_sandbox(services, engine, bb_env, "youtube", ACCOUNT, provider="browserbase")
    return services


def add_note(services: Services, sandbox, video: str, seconds: int, text: str):
    fields = {
        "platform": "youtube",
        "video_url": sandbox.video_url("youtube", video),
        "timestamp_seconds": seconds,
        "text": text,
        "confidence": 0.9,
    }
    view = services.notes.create(validate_note(fields, services.settings))
    assert view.queued
    return view


def posting_sessions(services: Services) -> list:
    return [u for u in services.usage.recent(100) if u.purpose == "post"]


def running_sessions(sandbox) -> list:
    return [s for s in sandbox.browserbase_sessions() if s["status"] in ("PENDING", "RUNNING")]


def test_comments_are_the_interval_apart_and_short_waits_keep_the_session(bb, sandbox, engine):
    services = bb
    interval = 3.0
    services.settings.set("comment_interval_s", interval)
    sandbox.set_video("youtube", "pace1", duration=600)
    notes = [
        add_note(services, sandbox, "pace1", 10 * (i + 1), f"Paced note {i}") for i in range(3)
    ]
    events = Events()
    runner = build_runner(services, engine)
    runner.add_listener(events)
    try:
        runner.run_until_idle(timeout=WAIT)
    finally:
        runner.stop()

    comments = sorted(sandbox.comments("youtube", "pace1"), key=lambda c: c["created_at"])
    assert sorted(c["text"] for c in comments) == sorted(
        ["0:10 — Paced note 0", "0:20 — Paced note 1", "0:30 — Paced note 2"]
    )
    assert all(c["author"] == ACCOUNT for c in comments)
    gaps = [b["created_at"] - a["created_at"] for a, b in itertools.pairwise(comments)]
    assert all(gap >= interval for gap in gaps), gaps
    assert all(services.notes.get(n.id).status == "posted" for n in notes)
    # The waits were short: one session posted all three, and it was released at the end.
    [session] = posting_sessions(services)
    assert session.provider == "browserbase" and session.notes_posted == 3
    assert running_sessions(sandbox) == []
    waits = [e for e in events.items if e.kind == "step" and pacing_wait(e) is not None]
    assert waits, "no job reported waiting for the next comment"
    assert not [e for e in events.items if e.kind == "snoozed"]


def test_a_long_wait_releases_the_session_and_a_restart_allows_no_burst(
    bb, sandbox, engine, data_dir
):
    services = bb
    services.settings.set("comment_interval_s", 0)
    services.settings.set("automation_rate_allowed", 2)
    services.settings.set("automation_rate_period_s", 3600)
    sandbox.set_video("youtube", "pace2", duration=600)
    sandbox.set_video("youtube", "pace3", duration=600)
    notes = [
        add_note(services, sandbox, "pace2", 10 * (i + 1), f"Rated note {i}") for i in range(3)
    ]
    third = notes[2]
    events = Events()
    runner = build_runner(services, engine)
    runner.add_listener(events)
    runner.start()
    try:
        events.wait(lambda items: any(e.kind == "snoozed" for e in items))
    finally:
        runner.stop()

    # Two comments (the window's room), then the browser was released, not held for an hour.
    assert len(sandbox.comments("youtube", "pace2")) == 2
    [session] = posting_sessions(services)
    assert session.notes_posted == 2
    assert running_sessions(sandbox) == []
    view = services.notes.get(third.id)
    assert view.queued and view.status == "ghost" and view.error is None
    first_comment = services.pacer.state("youtube").window
    assert first_comment.reopens_at is not None
    assert view.next_attempt_at == pytest.approx(first_comment.reopens_at, abs=1.0)
    assert view.next_attempt_at > services.clock() + 3500
    [job] = services.queue.jobs_for(note_key(third.id))
    assert job.state == "scheduled" and job.attempt == 0  # no attempt used up
    assert job.meta["snoozed_for"] == {PACED: 1}
    snoozed = [e for e in events.items if e.kind == "snoozed"]
    assert [pacing_wait(e) for e in snoozed] == [pytest.approx(view.next_attempt_at, abs=1.0)]

    # A restart, and a note on another video of the same account: no browser, no comment.
    services.close()
    sessions_before = len(sandbox.browserbase_sessions())
    with Services.open(data_dir) as again:
        other = add_note(again, sandbox, "pace3", 5, "Another video")
        events2 = Events()
        runner2 = build_runner(again, engine)
        runner2.add_listener(events2)
        runner2.start()
        try:
            events2.wait(
                lambda items: any(
                    e.kind == "snoozed" and e.args.get("note_id") == other.id for e in items
                )
            )
        finally:
            runner2.stop()
        assert sandbox.comments("youtube", "pace3") == []
        assert len(sandbox.browserbase_sessions()) == sessions_before
        waiting = again.notes.get(other.id)
        assert waiting.queued and waiting.next_attempt_at == pytest.approx(
            view.next_attempt_at, abs=1.0
        )


def test_a_platform_slow_down_snoozes_and_holds_the_whole_account(bb, sandbox, engine):
    """YouTube's "slow down" on one video: that note snoozes (rate limited), and a note on
    another video of the same account waits for the same moment, without opening a browser."""
    services = bb
    services.settings.set("rate_limit_snooze_base_s", 120)  # longer than a session is held
    sandbox.set_video("youtube", "pace4", duration=600)
    sandbox.set_video("youtube", "pace5", duration=600)
    sandbox.set_fault("youtube", "rate_limited", count=1, video_id="pace4")
    limited = add_note(services, sandbox, "pace4", 7, "Too fast")
    events = Events()
    runner = build_runner(services, engine)
    runner.add_listener(events)
    runner.start()
    try:
        events.wait(lambda items: any(e.kind == "snoozed" for e in items))
        sessions_before = len(sandbox.browserbase_sessions())
        other = add_note(services, sandbox, "pace5", 8, "Same account, other video")
        events.wait(
            lambda items: any(
                e.kind == "snoozed" and e.args.get("note_id") == other.id for e in items
            )
        )
    finally:
        runner.stop()
    first = services.notes.get(limited.id)
    assert first.queued and first.error_kind == "rate_limited"
    assert first.next_attempt_at is not None and first.next_attempt_at > services.clock() + 100
    second = services.notes.get(other.id)
    assert second.queued and second.error is None
    assert second.next_attempt_at == pytest.approx(first.next_attempt_at, abs=1.0)
    assert services.pacer.state("youtube").reason == "paused"
    assert sandbox.comments("youtube") == []
    assert len(sandbox.browserbase_sessions()) == sessions_before
    reasons = [e.error for e in events.items if e.kind == "snoozed"]
    assert reasons == ["rate_limited", PACED]


def test_default_pacing_on_an_injected_clock(data_dir, sandbox, engine):
    """The shipped pacing (6 s + up to 50 % jitter) through the real worker and a real page,
    on a FakeClock: each wait moves the clock instead of sleeping, and the account's comments
    are recorded at least 6 s apart in its time — one session for the whole batch."""
    clock = FakeClock()
    with Services.open(data_dir, clock=clock) as services:
        assert services.settings.get("comment_interval_s") == 6.0
        services.settings.set("platform_base", sandbox.base_url)
        connect_on_sandbox(services, engine, sandbox, "vimeo", ACCOUNT)
        sandbox.set_video("vimeo", "pace6", duration=600)
        fields = [
            {
                "platform": "vimeo",
                "video_url": sandbox.video_url("vimeo", "pace6"),
                "timestamp_seconds": 5 * (i + 1),
                "text": f"Fake-time note {i}",
                "confidence": 0.9,
            }
            for i in range(4)
        ]
        notes = [services.notes.create(validate_note(f, services.settings)) for f in fields]
        start = clock()
        runner = build_runner(services, engine)
        try:
            runner.run_until_idle(timeout=WAIT)
        finally:
            runner.stop()
        assert all(services.notes.get(n.id).status == "posted" for n in notes)
        assert len(sandbox.comments("vimeo", "pace6")) == 4
        with services.db.read() as s:
            times = sorted(
                s.execute(
                    select(PacingEvent.at).where(
                        PacingEvent.account == "vimeo", PacingEvent.kind == "comment"
                    )
                ).scalars()
            )
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(gaps) == 3 and all(6.0 <= g <= 9.0 + 0.5 for g in gaps), gaps
        assert clock() - start >= 18.0  # the clock moved through three waits
        [session] = posting_sessions(services)
        assert session.notes_posted == 4
