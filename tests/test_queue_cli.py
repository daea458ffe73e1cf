"""`lossy-desktop queue status [--json]`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from lossy_desktop.cli import main
from lossy_desktop.core.clock import system_clock
from lossy_desktop.services import Services


def test_queue_status_json_counts_per_queue_and_next_run(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Services.open(data_dir) as svc:
        later = system_clock() + 600
        done = svc.queue.insert("post_note", {"note_id": 1})
        svc.queue.insert("post_note", {"note_id": 2}, scheduled_at=later)
        svc.queue.insert("keepalive", {}, queue="maintenance")
        svc.queue.claim("automation", 1)
        assert done is not None
        svc.queue.complete(done.id)
    assert main(["--data-dir", str(data_dir), "queue", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    automation = data["queues"]["automation"]
    assert automation["counts"]["completed"] == 1 and automation["counts"]["scheduled"] == 1
    assert data["queues"]["maintenance"]["counts"]["available"] == 1
    assert data["totals"]["completed"] == 1 and data["totals"]["available"] == 1
    assert data["next_scheduled_at"] == pytest.approx(later)
    local = datetime.fromisoformat(data["next_scheduled_at_local"])
    assert local.tzinfo is not None and abs(local.timestamp() - later) < 1
    assert data["pacing"] == {}  # no connection, no comment yet


def test_queue_status_shows_each_accounts_pacing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Services.open(data_dir) as svc:
        svc.settings.set("automation_rate_allowed", 2)
        assert svc.pacer.try_acquire("youtube")[0] is not None
        before = system_clock()
    assert main(["--data-dir", str(data_dir), "queue", "status", "--json"]) == 0
    pace = json.loads(capsys.readouterr().out)["pacing"]["youtube"]
    assert pace["comments_in_window"] == 1 and pace["allowed"] == 2
    assert pace["period_s"] == 60 and pace["comment_interval_s"] == 6
    assert pace["waiting_for"] == "interval"
    assert 6 <= pace["next_comment_at"] - before <= 9.5
    assert main(["--data-dir", str(data_dir), "queue", "status"]) == 0
    out = capsys.readouterr().out
    assert "youtube: 1/2 comments in the last 60 s; next comment in " in out


def test_queue_status_text_on_an_empty_database(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(data_dir), "queue", "status"]) == 0
    out = capsys.readouterr().out
    assert "automation" in out and "maintenance" in out
    assert "next scheduled run: none" in out


def test_post_progress_says_when_the_next_comment_goes(
    fake_services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    from lossy_desktop.cli.post_cmd import _Progress
    from lossy_desktop.queue import JobEvent

    now = fake_services.clock()
    progress = _Progress(fake_services)
    common = {"job_id": 1, "worker": "post_note", "queue": "automation", "args": {"note_id": 9}}
    progress.on_event(
        JobEvent("step", step="waiting", next_run_at=now + 7.2, attempt=1, max_attempts=3, **common)
    )
    progress.on_event(
        JobEvent("snoozed", error="paced", next_run_at=now + 600, max_attempts=3, **common)
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "note 9: waiting — next comment in 8 s [attempt 1/3]",
        "note 9: waiting — next comment in 600 s (browser released) [attempt 0/3]",
    ]


def test_post_says_a_note_waits_for_a_login_in_the_lists_words(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A confident note on a platform that is not connected: `post --until-idle` says
    "waiting for login" with the sentence, as `notes list` does — not the queue's
    "discarded", not the stored "ghost"."""
    base = ["--data-dir", str(data_dir)]
    url = "https://www.youtube.com/watch?v=abc"
    assert main([*base, "notes", "add", "--url", url, "--time", "1:05", "--text", "Hi"]) == 0
    capsys.readouterr()
    assert main([*base, "post", "--until-idle", "--timeout", "60"]) == 1
    out = capsys.readouterr().out
    assert "note 1 (youtube 1:05): waiting for login — YouTube is not connected" in out
    assert "  note 1: waiting for login — You are not logged in to YouTube" in out
    assert "discarded" not in out and "ghost" not in out
