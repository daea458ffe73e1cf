"""Posting through the fake Browserbase (real Chromium behind it) with the queue: a 429 is a
wait for browser capacity with its retry-after (no attempt used); a recorded session's failure
links to its replay; sessions left running by a crash are released at start-up."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fixtures import connect_on_sandbox

from lossy_desktop.automation.chromium import BrowserNotFound, find_browser
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.automation.providers import provider_for
from lossy_desktop.core.notes import validate_note
from lossy_desktop.workers import build_runner, recover_interrupted
from lossy_desktop.workers.scheduling import note_key

try:
    find_browser()
except BrowserNotFound:
    pytest.skip("no Chromium installed", allow_module_level=True)

pytestmark = pytest.mark.browser


@pytest.fixture
def wired(on_sandbox: Any, bb_env: Any) -> Any:
    on_sandbox.settings.set("provider", "browserbase")
    return on_sandbox


def _connect(services: Any, engine: AutomationEngine, sandbox: Any, platform: str) -> None:
    connect_on_sandbox(services, engine, sandbox, platform, provider="browserbase")


def _note(services: Any, sandbox: Any, platform: str, video: str, seconds: int, text: str) -> Any:
    fields = {
        "platform": platform,
        "video_url": sandbox.video_url(platform, video),
        "timestamp_seconds": seconds,
        "text": text,
        "confidence": 0.9,
    }
    return services.notes.create(validate_note(fields, services.settings))


def _run(services: Any, engine: AutomationEngine) -> None:
    runner = build_runner(services, engine)
    try:
        runner.run_until_idle(timeout=180)
    finally:
        runner.stop()


def test_a_429_waits_for_browser_capacity_then_posts_once(wired, sandbox, engine):
    _connect(wired, engine, sandbox, "vimeo")
    note = _note(wired, sandbox, "vimeo", "cap1", 42, "Flash frame")
    sandbox.set_fault("browserbase", "rate_limited", count=1, retry_after=2)
    _run(wired, engine)
    assert [c["text"] for c in sandbox.comments("vimeo")] == ["0:42 — Flash frame"]
    assert wired.notes.get(note.id).status == "posted"
    (job,) = wired.queue.jobs_for(note_key(note.id))
    assert job.meta.get("snoozed") == 1  # a wait for capacity, not a failed attempt
    assert job.attempt == 1


def test_a_recorded_sessions_failure_links_to_its_replay(wired, sandbox, engine):
    wired.settings.set("browserbase_record_sessions", True)
    _connect(wired, engine, sandbox, "vimeo")
    sandbox.set_fault("vimeo", "comments_disabled")
    note = _note(wired, sandbox, "vimeo", "rec1", 7, "Cannot post here")
    _run(wired, engine)
    view = wired.notes.get(note.id)
    assert view.status == "failed" and view.error_kind == "comments_disabled"
    assert "session replay: " in view.error
    replay = view.error.split("session replay: ", 1)[1].split()[0]
    assert replay.startswith(f"{sandbox.base_url}/sessions/")
    assert httpx.get(replay, trust_env=False).status_code == 200


def test_sessions_left_running_by_a_crash_are_released_at_start_up(wired, sandbox, engine):
    _connect(wired, engine, sandbox, "air")
    connection = wired.connections.get("air")
    provider = provider_for(connection, wired.settings, wired.data)

    async def crash(pw: Any) -> str:
        session = await provider.open(pw, connection, purpose="post", detached=True)
        await provider.detach(session)  # the app died: nobody releases it
        assert session.session_id is not None
        return session.session_id

    orphan = engine.run(crash, 90)
    assert sandbox.browserbase.sessions[orphan].status == "RUNNING"
    recover_interrupted(wired)
    assert sandbox.browserbase.sessions[orphan].status == "COMPLETED"
