"""Retracting a posted comment, end to end: notes → queue → retract_comment worker → a real
headless Chromium (local provider) → the sandbox's platform page. Checks what the platform
really shows, and how many delete requests reached it."""

from __future__ import annotations

import pytest
from fixtures import connect_on_sandbox

from lossy_desktop.core.errors import IllegalTransition
from lossy_desktop.core.notes import validate_note
from lossy_desktop.workers import build_runner
from lossy_desktop.workers.retract import QUEUE, WORKER_NAME, queue_retract, retract_key

pytestmark = pytest.mark.browser

ACCOUNT = "Reviewer One"


@pytest.fixture
def wired(on_sandbox, sandbox, engine):
    on_sandbox.settings.set("retry_backoff_base_s", 0.2)
    connect_on_sandbox(on_sandbox, engine, sandbox, "youtube", ACCOUNT)
    return on_sandbox


def cli(data_dir, capsys, *args: str) -> tuple[int, str, str]:
    from lossy_desktop.cli import main

    capsys.readouterr()
    code = main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_queue(services, engine) -> None:
    runner = build_runner(services, engine)
    try:
        runner.run_until_idle(timeout=180)
    finally:
        runner.stop()


def posted_note(services, sandbox, engine, video: str, seconds: float, text: str):
    fields = {
        "platform": "youtube",
        "video_url": sandbox.video_url("youtube", video),
        "timestamp_seconds": seconds,
        "text": text,
        "confidence": 1.0,
    }
    note = services.notes.create(validate_note(fields, services.settings))
    run_queue(services, engine)
    view = services.notes.get(note.id)
    assert view.status == "posted", (view.error_kind, view.error)
    mine = [c["id"] for c in sandbox.comments("youtube", video) if c["author"] == ACCOUNT]
    assert mine == [view.external_comment_id]
    return view


def test_retract_deletes_the_comment_once_and_a_second_run_deletes_nothing(wired, sandbox, engine):
    services = wired
    sandbox.add_comment("youtube", "vidR", "0:03 — someone else's comment")
    view = posted_note(services, sandbox, engine, "vidR", 42, "Cut this pause")
    comment_id = view.external_comment_id
    # a dropped connection on the first page load: the job retries, and still deletes once
    sandbox.set_fault("youtube", "dropped_connection", on="page", count=1)

    removing = queue_retract(services, view.id)
    assert removing.state == "removing" and removing.external_comment_id == comment_id
    with pytest.raises(IllegalTransition, match="already being removed"):
        queue_retract(services, view.id)  # one job per note: effectively once
    run_queue(services, engine)

    assert [c["text"] for c in sandbox.comments("youtube", "vidR")] == [
        "0:03 — someone else's comment"
    ]
    requests = sandbox.delete_requests("youtube")
    assert [(r["id"], r["deleted"]) for r in requests] == [(comment_id, True)]
    note = services.notes.get(view.id)
    assert note.state == "ghost", (note.error_kind, note.error)
    assert note.external_comment_id is None and note.external_permalink is None
    assert note.posted_at == view.posted_at  # its history stays
    assert note.error and "Posted at" in note.error and "removed from YouTube at" in note.error
    assert view.external_permalink and view.external_permalink in note.error
    jobs = services.queue.jobs_for(retract_key(view.id))
    assert [j.state for j in jobs] == ["completed"] and jobs[0].attempt == 2

    # The same job again (a retry the queue had already handed out): nothing more is deleted.
    services.queue.insert(
        WORKER_NAME,
        {"note_id": view.id},
        queue=QUEUE,
        unique_key=retract_key(view.id),
        unique_period=0.0,
    )
    run_queue(services, engine)
    assert len(sandbox.delete_requests("youtube")) == 1
    assert services.notes.get(view.id).state == "ghost"

    # A ghost has no comment to retract: refused in plain words.
    with pytest.raises(IllegalTransition, match="not posted"):
        queue_retract(services, view.id)


def test_a_comment_already_deleted_by_hand_counts_as_done(wired, sandbox, engine, data_dir, capsys):
    """Through the command line: `notes retract ID`, then `post --until-idle` runs it."""
    services = wired
    view = posted_note(services, sandbox, engine, "vidH", 7, "Deleted on the site")
    assert sandbox.delete_by_hand("youtube", "vidH", view.external_comment_id)
    assert sandbox.comments("youtube", "vidH") == []

    code, out, err = cli(data_dir, capsys, "notes", "retract", str(view.id))
    assert code == 0 and "removing" in out, err
    code, out, err = cli(data_dir, capsys, "post", "--until-idle", "--timeout", "120")
    assert code == 0, (out, err)
    assert "1 of 1 comment(s) removed" in out and "note(s) posted" not in out

    assert sandbox.delete_requests("youtube") == []  # nothing left to delete on the page
    note = services.notes.get(view.id)
    assert note.state == "ghost", (note.error_kind, note.error)
    assert note.external_comment_id is None
    assert note.error and "found already deleted on YouTube" in note.error
    assert [j.state for j in services.queue.jobs_for(retract_key(view.id))] == ["completed"]


def test_a_lost_login_puts_the_note_back_to_posted_with_the_reason(wired, sandbox, engine):
    services = wired
    view = posted_note(services, sandbox, engine, "vidL", 5, "Still there")
    sandbox.logout("youtube")

    queue_retract(services, view.id)
    run_queue(services, engine)

    note = services.notes.get(view.id)
    assert note.state == "posted" and note.external_comment_id == view.external_comment_id
    assert note.error_kind in ("session_expired", "not_logged_in")
    assert note.error and note.error.startswith("Not removed from YouTube")
    assert len(sandbox.comments("youtube", "vidL")) == 1
    assert sandbox.delete_requests("youtube") == []
    assert services.connections.get("youtube").status in ("expired", "logged_out")


def test_a_delete_that_finally_fails_leaves_the_note_posted_with_the_reason(wired, sandbox, engine):
    services = wired
    view = posted_note(services, sandbox, engine, "vidN", 9, "Keep me")
    sandbox.set_fault("youtube", "dropped_connection", on="page")  # every load, every attempt

    queue_retract(services, view.id)
    run_queue(services, engine)

    note = services.notes.get(view.id)
    assert note.state == "posted", (note.state, note.error)
    assert note.error_kind == "network_error" and note.external_comment_id
    assert note.error and note.error.startswith("Not removed from YouTube")
    assert len(sandbox.comments("youtube", "vidN")) == 1
    assert sandbox.delete_requests("youtube") == []
    jobs = services.queue.jobs_for(retract_key(view.id))
    assert [(j.state, j.attempt) for j in jobs] == [("discarded", j.max_attempts) for j in jobs]
