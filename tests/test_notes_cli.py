"""The notes command line, end to end on a fresh --data-dir.

The fresh-clone path (import, list --json, a refused import) runs as real processes; the other
commands run through the same `main()` in this process (the machine is shared and each process
start costs seconds under load)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lossy_desktop.cli import main
from lossy_desktop.cli.notes_cmd import EXPORT_COLUMNS

DATA = Path(__file__).parent / "data"
YT = "https://www.youtube.com/watch?v=abcdefghijk"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def proc(data_dir: Path):
    """`lossy-desktop --data-dir DIR ...` as a real process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOSSY_", "BROWSERBASE_"))}

    def run(*args: str) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "lossy_desktop", "--data-dir", str(data_dir), *args],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str]):
    """The same command line, in this process."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(["--data-dir", str(data_dir), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def listed(cli) -> list[dict]:
    result = cli("notes", "list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_import_list_json_and_reimport(proc, cli):
    result = proc("notes", "import", str(DATA / "sample_notes.csv"))
    assert result.returncode == 0, result.stderr
    assert "4 note(s) imported (2 queued for posting)" in result.stdout
    notes = listed(proc)
    assert len(notes) == 4
    assert list(notes[0]) == [*EXPORT_COLUMNS[:-4], "queued", "held", "state"]
    assert [n["state"] for n in notes] == ["queued", "queued", "ghost", "ghost"]
    assert notes[0]["video_url"] == "https://www.youtube.com/watch?v=LossySample"
    status = proc("queue", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["totals"]["available"] == 2  # the two confident notes

    for name in ("sample_notes.json", "sample_notes.jsonl"):
        result = cli("notes", "import", "--json", str(DATA / name))
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)["created"]) == 4
    again = cli("notes", "import", str(DATA / "sample_notes.csv"))
    assert "0 note(s) imported" in again.stdout and "4 duplicate(s)" in again.stdout
    assert len(listed(cli)) == 12
    queued = cli("notes", "list", "--status", "queued", "--platform", "youtube", "--json")
    assert len(json.loads(queued.stdout)) == 6


def test_import_refuses_a_file_with_bad_rows(proc, cli, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "platform,video_url,timestamp_seconds,text,confidence\n"
        f"youtube,{YT},1,good,0.1\n"
        f"youtube,{YT},-1,negative,0.1\n"
        f"youtube,{YT},2,,0.1\n"
        f"youtube,{YT},3,also good,0.1\n"
        f"youtube,{YT},4,too sure,7\n",
        encoding="utf-8",
    )
    result = proc("notes", "import", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for needle in (
        "3 bad row(s)",
        "line 3: timestamp_seconds",
        "line 4: text",
        "line 6: confidence",
        "nothing was imported",
    ):
        assert needle in result.stderr
    assert listed(cli) == []
    result = cli("notes", "import", "--skip-invalid", str(bad))
    assert result.returncode == 0
    assert "2 note(s) imported" in result.stdout and "skipped line 3:" in result.stdout
    assert [n["text"] for n in listed(cli)] == ["good", "also good"]


def test_add_cancel_post_retry_delete_and_errors(cli):
    result = cli("notes", "add", "--url", YT, "--time", "1:05", "--text", "Jump cut", "--json")
    assert result.returncode == 0, result.stderr
    note = json.loads(result.stdout)
    assert (note["platform"], note["timestamp_seconds"], note["state"]) == ("youtube", 65, "queued")
    nid = str(note["id"])

    cancelled = cli("notes", "cancel", nid)
    assert cancelled.returncode == 0 and "ghost" in cancelled.stdout
    refused = cli("notes", "retry", nid)
    assert refused.returncode == 4 and "only failed or held" in refused.stderr
    posted = cli("notes", "post", nid)
    assert posted.returncode == 0 and "queued" in posted.stdout

    bad = cli("notes", "add", "--url", "https://evil.example/x", "--platform", "youtube",
              "--time", "3", "--text", "x")  # fmt: skip
    assert bad.returncode == 2 and "video_url:" in bad.stderr
    bad_time = cli("notes", "add", "--url", YT, "--time", "later", "--text", "x")
    assert bad_time.returncode == 2 and "timestamp_seconds:" in bad_time.stderr

    assert cli("notes", "delete", nid).returncode == 0
    missing = cli("notes", "show", nid)
    assert missing.returncode == 3 and f"no note with id {nid}" in missing.stderr
    assert cli("notes", "cancel", "999").returncode == 3


def test_export_csv_round_trips(cli, tmp_path: Path):
    assert cli("notes", "import", str(DATA / "sample_notes.json")).returncode == 0
    out = tmp_path / "review.csv"
    result = cli("notes", "export", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [r["timecode"] for r in rows] == ["0:12", "1:35", "10:10", "0:42"]
    assert rows[3]["text"] == "0:42 Consider a shorter cut\n(two lines: the second is fine)"
    # the export is importable as it is, and adds nothing new
    again = cli("notes", "import", str(out))
    assert again.returncode == 0 and "4 duplicate(s)" in again.stdout
    no_folder = cli("notes", "export", str(tmp_path / "missing" / "x.csv"))
    assert no_folder.returncode == 2 and "no folder" in no_folder.stderr


def test_list_speaks_plain_words_and_json_keeps_the_codes(cli, data_dir: Path):
    from lossy_desktop.services import Services

    for second in (1, 2):
        result = cli("notes", "add", "--url", YT, "--time", str(second), "--text", f"n{second}")
        assert result.returncode == 0, result.stderr
    with Services.open(data_dir) as services:
        held, failed = services.notes.list()
        services.notes.hold(held.id, kind="not_logged_in", message="You are not logged in")
        services.notes.mark_posting(failed.id, 1)
        services.notes.mark_failed(
            failed.id,
            kind="comments_disabled",
            message="Comments are turned off for this YouTube video (YouTube: comments off)",
        )
    text = cli("notes", "list").stdout
    assert "waiting for login" in text and " held " not in text
    assert "[Comments are turned off for this YouTube video]" in text
    assert "comments_disabled" not in text and "comments off" not in text
    data = {n["id"]: n for n in json.loads(cli("notes", "list", "--json").stdout)}
    assert data[held.id]["state"] == "held"
    assert data[failed.id]["error_kind"] == "comments_disabled"
