"""Issue 10, files at rest: another local user can read nothing in the data folder (even one
that existed before at 0755), files with secrets are created 0600 whatever the umask, and
failure screenshots are linked to their note and attempt, deleted with it and pruned after
`artifact_retention_days` by the daily maintenance job."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lossy_desktop.automation.artifacts import copy_failure, save_failure
from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.db import Database
from lossy_desktop.core.logs import setup_logging
from lossy_desktop.services import Services

NOBODY = 65534
DAY = 86400.0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> Iterator[None]:
    """Put the test process's umask back afterwards (the app sets 0077 at start-up)."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


@pytest.fixture
def open_folder(umask: None) -> Iterator[Path]:
    """A data folder another user could reach, as a real one is (under /tmp, not pytest's
    0700 tmp_path): created 0755 by an older version, with a 0644 log and backup."""
    root = Path(tempfile.mkdtemp(prefix="lossy-at-rest-", dir="/tmp"))
    data = root / "data"
    try:
        os.chmod(root, 0o755)
        for sub in ("logs", "backups", "artifacts", "profiles/youtube/Default"):
            (data / sub).mkdir(parents=True)
        (data / "logs" / "lossy.log").write_text("2026-01-01 INFO lossy.core the notes\n")
        (data / "backups" / "lossy-20260101-old.sqlite3").write_bytes(b"SQLite format 3\0")
        (data / "artifacts" / "note-1-20260101-000000.png").write_bytes(b"\x89PNG")
        (data / "profiles" / "youtube" / "Default" / "Cookies").write_bytes(b"cookies")
        (data / "theirs").mkdir()
        for path in [data, *data.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        yield data
    finally:
        shutil.rmtree(root, ignore_errors=True)


def as_nobody(code: str) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root to run a process as another user")
    return subprocess.run(
        ["/usr/bin/python3", "-c", code],
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


def test_a_preexisting_0755_data_folder_is_closed_to_other_users(open_folder: Path) -> None:
    data = open_folder
    log = data / "logs" / "lossy.log"
    # Before: another local user reads the log (this is what the issue demonstrated).
    before = as_nobody(f"print(open({str(log)!r}).read())")
    assert before.returncode == 0 and "the notes" in before.stdout

    with Services.open(data) as services:
        services.db.backup(reason="test")
    assert os.umask(0o077) == 0o077  # the process's umask at start-up
    for folder in [data, *(p for p in data.rglob("*") if p.is_dir() and "theirs" not in p.parts)]:
        assert mode(folder) == 0o700, folder
    # A folder that is not the app's (--data-dir pointed at a folder with other things in it)
    # keeps its mode: only the data folder itself closes the way to it.
    assert mode(data / "theirs") == 0o755
    for sub in ("logs", "backups", "artifacts"):
        for path in (data / sub).iterdir():
            assert mode(path) == 0o600, path
    assert mode(data / "lossy.sqlite3") == 0o600

    for path in (
        log,
        data / "backups" / "lossy-20260101-old.sqlite3",
        data / "artifacts" / "note-1-20260101-000000.png",
        data / "profiles" / "youtube" / "Default" / "Cookies",
        data / "lossy.sqlite3",
    ):
        after = as_nobody(f"print(open({str(path)!r}, 'rb').read())")
        assert after.returncode != 0 and "PermissionError" in after.stderr, path
    listing = as_nobody(f"import os; print(os.listdir({str(data)!r}))")
    assert listing.returncode != 0 and "PermissionError" in listing.stderr


class _Page:
    url = "http://127.0.0.1/youtube/watch?v=x"

    async def screenshot(self, **_kw: Any) -> bytes:
        return b"\x89PNG picture of a logged-in page"


def test_log_backup_and_artifacts_are_created_0600_whatever_the_umask(
    tmp_path: Path, umask: None
) -> None:
    os.umask(0)  # the worst case: everything created would be world-readable
    (tmp_path / "logs").mkdir()
    log = setup_logging(tmp_path / "logs")
    import logging

    logging.getLogger("lossy.core").warning("a line")
    assert mode(log) == 0o600
    db = Database.open(tmp_path / "x.sqlite3")
    try:
        assert mode(tmp_path / "x.sqlite3") == 0o600
        backup = db.backup(reason="umask")
        assert backup is not None and mode(backup) == 0o600
    finally:
        db.dispose()
    shot = asyncio.run(save_failure(_Page(), tmp_path / "artifacts", 7, reason="selector_failed"))  # type: ignore[arg-type]
    assert shot is not None and shot.endswith(".png")
    assert mode(Path(shot)) == 0o600 and mode(Path(shot).with_suffix(".txt")) == 0o600
    copy = copy_failure(shot, tmp_path / "artifacts", 8)
    assert copy is not None
    assert mode(Path(copy)) == 0o600 and mode(Path(copy).with_suffix(".txt")) == 0o600


def _shot(services: Services, note_id: int) -> str:
    path = asyncio.run(save_failure(_Page(), services.data.artifacts, note_id, reason="x"))  # type: ignore[arg-type]
    assert path is not None
    return path


def _files(path: str) -> list[Path]:
    return [Path(path).with_suffix(".png"), Path(path).with_suffix(".txt")]


def _note(services: Services) -> int:
    return _add(services, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "a note")


def _add(services: Services, url: str, text: str) -> int:
    fields = {"video_url": url, "timestamp_seconds": 3, "text": text, "confidence": 0.9}
    return services.notes.create(services.notes.validate(fields)).id


def test_every_attempts_artifacts_are_linked_and_deleted_with_the_note(
    fake_services: Services,
) -> None:
    services = fake_services
    notes = services.notes
    note_id = _note(services)
    notes.mark_posting(note_id, 1)
    first = _shot(services, note_id)
    notes.mark_retrying(
        note_id, kind="network_error", message="x", next_attempt_at=1.0, artifact_path=first
    )
    notes.mark_posting(note_id, 2)
    second = _shot(services, note_id)
    notes.mark_failed(note_id, kind="selector_failed", message="gone", artifact_path=second)
    linked = notes.artifacts(note_id)
    assert sorted(linked) == sorted(
        [(1, str(p)) for p in _files(first)] + [(2, str(p)) for p in _files(second)]
    )
    notes.delete(note_id)
    for path in (*_files(first), *_files(second)):
        assert not path.exists(), path
    assert list(services.data.artifacts.iterdir()) == []


def test_artifacts_are_pruned_after_the_retention_by_the_daily_job(
    fake_services: Services, clock: FakeClock
) -> None:
    from lossy_desktop.workers.keep_alive import KeepAliveWorker

    services = fake_services
    assert services.settings.get("artifact_retention_days") == 30
    old_note = _note(services)
    new_note = _add(services, "https://vimeo.com/76979871", "b")
    services.notes.mark_posting(old_note, 1)
    old = _shot(services, old_note)
    services.notes.mark_failed(old_note, kind="selector_failed", message="x", artifact_path=old)
    stray_old = services.data.artifacts / "note-999-20200101-000000.png"  # linked to nothing
    stray_old.write_bytes(b"x")
    os.utime(stray_old, (clock() - 40 * DAY, clock() - 40 * DAY))
    clock.advance(20 * DAY)
    services.notes.mark_posting(new_note, 1)
    new = _shot(services, new_note)
    services.notes.mark_failed(new_note, kind="selector_failed", message="x", artifact_path=new)
    clock.advance(11 * DAY)  # the first is 31 days old, the second 11

    class Ctx:
        def step(self, *_args: Any) -> None:
            pass

    worker = KeepAliveWorker(services, engine=None)  # type: ignore[arg-type]
    job = services.queue.insert(KeepAliveWorker.name, {}, queue="maintenance")
    results = worker.perform([job], Ctx())  # type: ignore[arg-type]
    assert results[job.id].__class__.__name__ == "Ok"
    for path in _files(old):
        assert not path.exists()
    assert not stray_old.exists()
    assert services.notes.get(old_note).failure_artifact_path is None
    assert services.notes.artifacts(old_note) == []
    for path in _files(new):
        assert path.exists()
    assert services.notes.get(new_note).failure_artifact_path == new
    assert len(services.notes.artifacts(new_note)) == 2
