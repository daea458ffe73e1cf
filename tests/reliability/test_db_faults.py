"""Database faults as a user meets them: disk full, read-only, corrupt, locked by another
process. Each gives DatabaseUnavailable (the CLI: exit 10) with the right sentence, loses no
earlier row, and the app carries on once the fault is gone.

How each fault is made here (the test reports which mode it used):
- disk full: a 3 MB tmpfs holding the data folder, filled with a file (root with mount), else
  PRAGMA max_page_count capped on every connection;
- read-only: a read-only bind mount over the data folder (root with mount), else chattr +i on
  the files and folder (root without mount), else chmod (not root: permissions apply);
- corrupt: the file's pages after the header overwritten;
- locked: another process holding BEGIN EXCLUSIVE.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import report, wait_for
from sqlalchemy import event

from lossy_desktop.core.errors import DatabaseUnavailable
from lossy_desktop.core.notes import validate_note
from lossy_desktop.queue import JobContext, JobRecord, Ok, Result, Runner
from lossy_desktop.services import Services

DB_NAME = "lossy.sqlite3"


def _note(services: Services, i: int, text_len: int = 40) -> Any:
    fields = {
        "platform": "youtube",
        "video_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "timestamp_seconds": i,
        "text": f"note {i:05d} " + "x" * text_len,
        "confidence": 0.9,
    }
    return services.notes.create(validate_note(fields, services.settings))


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lossy_desktop", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run(*cmd: str) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextlib.contextmanager
def _mounted_tmpfs(where: Path, size: str) -> Iterator[bool]:
    where.mkdir(parents=True, exist_ok=True)
    ok = os.geteuid() == 0 and _run(
        "mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)
    )
    try:
        yield ok
    finally:
        if ok:
            _run("umount", "-l", str(where))


# -- disk full ---------------------------------------------------------------------------------
def test_disk_full_then_space_freed(tmp_path: Path) -> None:
    with _mounted_tmpfs(tmp_path / "small", "3m") as tmpfs:
        data_dir = tmp_path / "small" / "data"
        mode = "tmpfs 3 MB, filled" if tmpfs else "PRAGMA max_page_count"
        with Services.open(data_dir) as services:
            before = [_note(services, i).id for i in range(20)]
            filler = tmp_path / "small" / "filler"
            cap = None
            if tmpfs:
                with open(filler, "wb") as handle, contextlib.suppress(OSError):
                    while True:
                        handle.write(b"\0" * 65536)
                        handle.flush()
            else:
                engine = services.db.engine
                with engine.connect() as conn:
                    pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)

                def cap(dbapi: Any, _record: Any) -> None:
                    dbapi.execute(f"PRAGMA max_page_count = {pages + 2}")

                event.listen(engine, "connect", cap)
                engine.dispose()
            accepted, error = 0, None
            for i in range(1000):
                try:
                    _note(services, 1000 + i, text_len=4000)
                    accepted += 1
                except DatabaseUnavailable as caught:
                    error = caught
                    break
            assert error is not None, "the database never reported the disk full"
            assert "full" in str(error) and "Free some space" in str(error), error
            assert "Traceback" not in str(error)
            ids = {v.id for v in services.notes.list()}
            assert set(before) <= ids and len(ids) == 20 + accepted  # nothing lost, nothing half

            if tmpfs:
                filler.unlink()
            else:
                event.remove(services.db.engine, "connect", cap)
                services.db.engine.dispose()
            after = _note(services, 99_999)  # the same Services carries on
        with Services.open(data_dir) as services:
            ids = {v.id for v in services.notes.list()}
            assert set(before) | {after.id} <= ids and len(ids) == 21 + accepted
            with services.db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    report(
        "db_disk_full",
        {"mode": mode, "rows_before": 20, "writes_accepted_while_filling": accepted,
         "message": str(error), "rows_after_recovery": len(ids)},
        tmp_path,
    )  # fmt: skip


# -- read-only ---------------------------------------------------------------------------------
@contextlib.contextmanager
def _read_only(data_dir: Path) -> Iterator[str]:
    files = [data_dir / DB_NAME, data_dir / f"{DB_NAME}-wal", data_dir / f"{DB_NAME}-shm"]
    if os.geteuid() != 0:
        os.chmod(data_dir / DB_NAME, 0o400)
        os.chmod(data_dir, 0o500)
        try:
            yield "chmod (not root)"
        finally:
            os.chmod(data_dir, 0o700)
            os.chmod(data_dir / DB_NAME, 0o600)
        return
    if _run("mount", "--bind", str(data_dir), str(data_dir)):
        if _run("mount", "-o", "remount,bind,ro", str(data_dir)):
            try:
                yield "read-only bind mount"
            finally:
                _run("umount", "-l", str(data_dir))
            return
        _run("umount", "-l", str(data_dir))
    targets = [str(p) for p in files if p.exists()] + [str(data_dir)]
    if shutil.which("chattr") and _run("chattr", "+i", *targets):
        try:
            yield "chattr +i"
        finally:
            _run("chattr", "-i", *targets)
        return
    pytest.skip("root here, and neither a read-only mount nor chattr +i works")


def test_read_only_database_then_writable_again(tmp_path: Path) -> None:
    """The app (re)started on a read-only database: a clear message, nothing lost, and it
    works again once the file is writable. (A running process keeps writing through the file
    handles it already has, whichever way the file is made read-only, so the fault is met at
    the next start: the CLI here, as a user would.)"""
    data_dir = tmp_path / "data"
    with Services.open(data_dir) as services:
        before = [_note(services, i).id for i in range(10)]
    with _read_only(data_dir) as mode:
        cli = _cli(data_dir, "settings", "set", "auto_post_threshold", "0.8")
        try:
            with Services.open(data_dir) as services:
                read_back = {v.id for v in services.notes.list()}
                with pytest.raises(DatabaseUnavailable) as info:
                    _note(services, 100)
                opened = "opened; reads work; the first write fails"
        except DatabaseUnavailable as error:  # refused at open: equally clear
            info, read_back, opened = (
                pytest.ExceptionInfo.from_exception(error),
                set(before),
                "refused at open",
            )
        message = str(info.value)
    assert "read-only" in message, message
    assert read_back == set(before)
    assert cli.returncode == 10, (cli.returncode, cli.stdout, cli.stderr)
    assert "read-only" in cli.stderr and "Traceback" not in cli.stderr, cli.stderr
    after = _cli(data_dir, "settings", "set", "auto_post_threshold", "0.8")
    assert after.returncode == 0, after.stderr
    with Services.open(data_dir) as services:
        _note(services, 101)
        assert len(services.notes.list()) == 11
        assert services.settings.get("auto_post_threshold") == 0.8
    report(
        "db_read_only",
        {"mode": mode, "app_start": opened, "message": message,
         "cli_exit_code": cli.returncode, "cli_message": cli.stderr.strip(),
         "cli_exit_code_after": after.returncode, "rows_after": 11},
        tmp_path,
    )  # fmt: skip


# -- corrupt -----------------------------------------------------------------------------------
def test_corrupt_file_is_named_left_untouched_and_a_restored_copy_works(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with Services.open(data_dir) as services:
        ids = [_note(services, i).id for i in range(30)]
    path = data_dir / DB_NAME
    good = tmp_path / "users-copy.sqlite3"
    shutil.copy2(path, good)
    raw = bytearray(path.read_bytes())
    for offset in range(4096, len(raw), 7):
        raw[offset] = (raw[offset] * 31 + 7) % 256
    path.write_bytes(bytes(raw))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    cli = _cli(data_dir, "notes", "list")
    with pytest.raises(DatabaseUnavailable, match="damaged") as info:
        Services.open(data_dir)
    assert cli.returncode == 10 and "damaged" in cli.stderr, (cli.returncode, cli.stderr)
    assert "Traceback" not in cli.stderr
    assert str(data_dir / "backups") in str(info.value)  # says where the backups are
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # never overwritten

    shutil.move(path, tmp_path / "damaged.sqlite3")  # what the message tells the user to do
    shutil.copy2(good, path)
    after = _cli(data_dir, "notes", "list", "--json")
    assert after.returncode == 0, after.stderr
    with Services.open(data_dir) as services:
        assert [v.id for v in services.notes.list()] == sorted(ids) or {
            v.id for v in services.notes.list()
        } == set(ids)
    report(
        "db_corrupt",
        {"mode": "pages after the header overwritten", "message": str(info.value),
         "cli_exit_code": cli.returncode, "file_untouched": True, "rows_after_restore": len(ids)},
        tmp_path,
    )  # fmt: skip


# -- locked by another process -----------------------------------------------------------------
HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
print("released", flush=True)
"""


class Holder:
    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "held"

    def release(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "released"
        self.proc.wait(30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


def test_locked_by_another_process_cli_exits_10_then_works(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with Services.open(data_dir) as services:
        ids = [_note(services, i).id for i in range(5)]
    holder = Holder(data_dir / DB_NAME)
    try:
        locked = _cli(data_dir, "settings", "set", "auto_post_threshold", "0.75")
        holder.release()
    finally:
        holder.close()
    assert locked.returncode == 10, (locked.returncode, locked.stderr)
    assert "locked by another program" in locked.stderr and "Traceback" not in locked.stderr
    after = _cli(data_dir, "settings", "set", "auto_post_threshold", "0.75")
    assert after.returncode == 0, after.stderr
    with Services.open(data_dir) as services:
        assert {v.id for v in services.notes.list()} == set(ids)
        assert services.settings.get("auto_post_threshold") == 0.75
    report(
        "db_locked_cli",
        {"mode": "another process holds BEGIN EXCLUSIVE", "cli_exit_code": locked.returncode,
         "message": locked.stderr.strip(), "cli_exit_code_after": after.returncode},
        tmp_path,
    )  # fmt: skip


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_runner_survives_a_lock_longer_than_busy_timeout(tmp_path: Path) -> None:
    """Jobs finish while another process holds the database for longer than busy_timeout:
    the runner keeps the results, records them once the lock is gone, runs nothing twice."""
    data_dir = tmp_path / "data"
    gate = threading.Event()
    ran: list[int] = []

    class Worker:
        name, queue, group_limit = "w", "automation", 1

        def perform(self, jobs: list[JobRecord], ctx: JobContext) -> dict[int, Result]:
            assert gate.wait(60)
            ran.extend(j.id for j in jobs)
            return {j.id: Ok() for j in jobs}

    warnings = _Warnings()
    logging.getLogger("lossy.queue").addHandler(warnings)
    holder = None
    with Services.open(data_dir) as services:
        services.settings.set("automation_rate_allowed", 1000)
        jobs = [services.queue.insert("w", {"i": i}) for i in range(3)]
        runner = Runner(services.queue, [Worker()], services.settings, poll_interval=0.2)
        try:
            runner.start()
            wait_for(lambda: services.queue.counts().get("executing", 0) == 3, 30, "3 running")
            holder = Holder(data_dir / DB_NAME)
            gate.set()  # the jobs finish while the database is locked
            wait_for(
                lambda: sum("recording the result" in m for m in warnings.messages) >= 1,
                60,
                "a failed attempt to record a result",
            )
            holder.release()
            runner.run_until_idle(timeout=120)
        finally:
            gate.set()
            if holder is not None:
                holder.close()
            runner.stop()
            logging.getLogger("lossy.queue").removeHandler(warnings)
        states = [services.queue.get(j.id).state for j in jobs if j is not None]  # type: ignore[union-attr]
    assert states == ["completed"] * 3
    assert sorted(ran) == sorted(j.id for j in jobs if j is not None)  # each ran once
    report(
        "db_locked_runner",
        {"jobs": 3, "failed_record_attempts_while_locked":
            sum("recording the result" in m for m in warnings.messages),
         "final_states": states, "runs_per_job": 1},
        tmp_path,
    )  # fmt: skip
