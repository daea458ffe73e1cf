"""`lossy-desktop notes retract ID`: queues the removal of a posted note's comment; a note that
is not posted is refused in plain words (exit 4, like other state refusals)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lossy_desktop.cli import main
from lossy_desktop.services import Services
from lossy_desktop.workers.retract import WORKER_NAME, retract_key

YT = "https://www.youtube.com/watch?v=abcdefghijk"


def run(data_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_retract_refuses_a_note_not_posted_and_queues_a_posted_one(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(data_dir, capsys, "notes", "add", "--url", YT, "--time", "5",
                         "--text", "Too loud", "--json")  # fmt: skip
    assert code == 0, err
    nid = str(json.loads(out)["id"])

    code, out, err = run(data_dir, capsys, "notes", "retract", nid)
    assert code == 4 and out == ""
    assert "can't be removed" in err and "not posted" in err and "YouTube" in err
    assert "Traceback" not in err and "illegal" not in err.lower()

    with Services.open(data_dir) as services:  # as the posting worker leaves it
        services.notes.mark_posting(int(nid), 1)
        services.notes.mark_posted(int(nid), permalink=f"{YT}&lc=Ugzabc", comment_id="Ugzabc")

    code, out, err = run(data_dir, capsys, "notes", "retract", nid)
    assert code == 0, err
    assert f"note {nid} removing" in out and "post --until-idle" in out

    code, out, err = run(data_dir, capsys, "notes", "retract", nid, "--json")
    assert code == 4 and "already being removed from YouTube" in err

    code, out, err = run(data_dir, capsys, "notes", "show", nid, "--json")
    note = json.loads(out)
    assert note["state"] == "removing" and note["external_comment_id"] == "Ugzabc"
    with Services.open(data_dir) as services:
        jobs = services.queue.jobs_for(retract_key(int(nid)))
        assert [(j.worker, j.state) for j in jobs] == [(WORKER_NAME, "available")]

    code, out, err = run(data_dir, capsys, "notes", "retract", "999")
    assert code == 3 and "no note with id 999" in err


def test_start_up_recovery_keeps_a_waiting_retract_and_puts_a_lost_one_back(
    services: Services,
) -> None:
    from lossy_desktop.core.notes import validate_note
    from lossy_desktop.workers import recover_interrupted
    from lossy_desktop.workers.retract import queue_retract

    ids = []
    for seconds in (5, 6):
        fields = {"video_url": YT, "timestamp_seconds": seconds, "text": f"note {seconds}"}
        view = services.notes.create(validate_note(fields, services.settings))
        services.notes.mark_posting(view.id, 1)
        services.notes.mark_posted(view.id, permalink=f"{YT}&lc=c{seconds}", comment_id="c")
        queue_retract(services, view.id)
        ids.append(view.id)
    services.queue.cancel_where(retract_key(ids[1]))  # its job is lost

    recover_interrupted(services)

    assert services.notes.get(ids[0]).state == "removing"  # its job still waits
    back = services.notes.get(ids[1])
    assert back.state == "posted" and back.error and "choose Delete again" in back.error
    assert queue_retract(services, ids[1]).state == "removing"
