from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from lossy_desktop.core.db import Database
from lossy_desktop.core.errors import DatabaseUnavailable


def test_open_migrates_and_sets_pragmas(tmp_path: Path):
    db = Database.open(tmp_path / "x.sqlite3")
    with db.read() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        tables = set(s.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars())
    assert {
        "videos",
        "notes",
        "platform_connections",
        "jobs",
        "cron_runs",
        "browser_usage",
        "settings",
    } <= tables
    mode = stat.S_IMODE(os.stat(tmp_path / "x.sqlite3").st_mode)
    assert mode == 0o600
    db.dispose()


def _tables(path: Path) -> set[str]:
    con = sqlite3.connect(str(path))
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()


def test_reopen_is_idempotent_and_backs_up_only_on_migration(tmp_path: Path):
    path = tmp_path / "x.sqlite3"
    Database.open(path).dispose()  # a new file: nothing to back up
    Database.open(path).dispose()  # already at head: no migration, no backup
    backups = tmp_path / "backups"
    assert not backups.exists() or list(backups.iterdir()) == []


def test_a_backup_is_made_before_a_migration(tmp_path: Path):
    """A database written by an older version (here: before any migration) is copied into
    backups/ before it is migrated: the copy holds the old content, not the new schema."""
    path = tmp_path / "x.sqlite3"
    con = sqlite3.connect(str(path))
    con.execute("CREATE TABLE older_data (v TEXT)")
    con.execute("INSERT INTO older_data VALUES ('kept')")
    con.commit()
    con.close()
    db = Database.open(path)
    db.dispose()
    assert {"notes", "alembic_version"} <= _tables(path)  # migrated
    copies = list((tmp_path / "backups").glob("x-*-before-migration-none-to-*.sqlite3"))
    assert len(copies) == 1, list((tmp_path / "backups").iterdir())
    assert _tables(copies[0]) == {"older_data"}  # taken before the migration ran
    con = sqlite3.connect(str(copies[0]))
    assert con.execute("SELECT v FROM older_data").fetchall() == [("kept",)]
    con.close()
    assert stat.S_IMODE(os.stat(copies[0]).st_mode) == 0o600


def test_corrupt_file_gives_clear_message(tmp_path: Path):
    path = tmp_path / "x.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(DatabaseUnavailable, match="damaged"):
        Database.open(path)
    assert path.read_bytes().startswith(b"this is not")  # nothing overwritten


def test_read_only_file_gives_clear_message(tmp_path: Path):
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    path = tmp_path / "x.sqlite3"
    Database.open(path).dispose()
    os.chmod(path, 0o400)
    with pytest.raises(DatabaseUnavailable, match="read-only"):
        db = Database.open(path)
        with db.write() as s:
            s.execute(text("INSERT INTO settings VALUES ('k', '1', 0)"))


def test_locked_database_gives_clear_message(tmp_path: Path, monkeypatch):
    path = tmp_path / "x.sqlite3"
    Database.open(path).dispose()
    monkeypatch.setattr("lossy_desktop.core.db.BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseUnavailable, match="locked"):
            db = Database.open(path)
            with db.write() as s:
                s.execute(text("INSERT INTO settings VALUES ('k', '1', 0)"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_cli_on_corrupt_database_exits_nonzero_without_traceback(tmp_path: Path):
    (tmp_path / "lossy.sqlite3").write_bytes(b"garbage" * 1000)
    result = subprocess.run(
        [sys.executable, "-m", "lossy_desktop", "--data-dir", str(tmp_path), "settings", "list"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 10
    assert "damaged" in result.stderr
    assert "Traceback" not in result.stderr
