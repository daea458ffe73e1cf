"""The local database: SQLite through SQLAlchemy 2, WAL, busy_timeout, foreign keys, migrations.

`Database.open(path)` backs the file up, runs pending Alembic migrations, and turns every way a
database can be unusable (locked, read-only, full, corrupt, not a database) into a
`DatabaseUnavailable` with a message a user can act on.

Transactions: `db.read()` opens a deferred transaction (readers never block under WAL);
`db.write()` opens `BEGIN IMMEDIATE`, so a writer takes the lock up front and waits
`busy_timeout` for it instead of failing with SQLITE_BUSY half-way through.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from lossy_desktop.core.paths import open_private

log = logging.getLogger("lossy.core")

BUSY_TIMEOUT_MS = 5000
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
KEEP_BACKUPS = 5


def _explain(error: BaseException, path: Path) -> str:
    """Turn an sqlite error into a sentence a user can act on."""
    text = str(getattr(error, "orig", None) or error).lower()
    if "locked" in text or "busy" in text:
        return (
            f"The database {path} is locked by another program (is Lossy Desktop already "
            "running?). Close it and try again."
        )
    if (
        "readonly" in text
        or "read-only" in text
        or "attempt to write" in text
        or ("unable to open" in text and _exists_read_only(path))
    ):
        # (SQLite says "unable to open" when it can't create the -wal/-shm files beside a
        # database on a read-only disk or folder.)
        return (
            f"The database {path} is read-only (the file, its folder or the disk holding "
            "it). Give your user write permission on them, then try again."
        )
    if "disk is full" in text or "database or disk is full" in text or "no space" in text:
        return f"The disk holding {path} is full. Free some space, then try again."
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The database {path} is damaged (not a readable SQLite database). Your backups "
            f"are in {path.parent / 'backups'}; move the damaged file away to start afresh."
        )
    if "unable to open" in text:
        return f"The database {path} can't be opened: check the folder exists and is writable."
    return f"The database {path} can't be used: {error}"


def _exists_read_only(path: Path) -> bool:
    """The file is there but can't be written (permissions, immutable, read-only mount)."""
    try:
        return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
    except OSError:
        return False


class Database:
    """One SQLite file. Thread-safe: each thread gets its own connection from the pool."""

    def __init__(self, engine: Engine, path: Path | None) -> None:
        self.engine = engine
        self.path = path
        self._immediate = engine.execution_options(lossy_immediate=True)
        self._read_sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=self._immediate, expire_on_commit=False)

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, migrate: bool = True, backup: bool = True) -> Database:
        from lossy_desktop.core.errors import DatabaseUnavailable

        path = Path(path)
        try:
            existed = path.exists() and path.stat().st_size > 0
            if existed:
                _check_header(path)
            elif not path.exists():
                os.close(open_private(path, os.O_WRONLY | os.O_CREAT))  # 0600 from the start
            engine = _make_engine(f"sqlite:///{path}")
            db = cls(engine, path)
            with db.engine.connect() as conn:
                ok = conn.exec_driver_sql("PRAGMA quick_check").scalar()
                if ok != "ok":
                    raise DatabaseUnavailable(_explain(RuntimeError("malformed: " + str(ok)), path))
            _restrict(path)
            if migrate:
                db.migrate(backup=backup and existed)
            return db
        except DatabaseUnavailable:
            raise
        except (exc.SQLAlchemyError, sqlite3.Error, OSError) as error:
            raise DatabaseUnavailable(_explain(error, path)) from None

    @classmethod
    def in_memory(cls) -> Database:
        """A private in-memory database (one shared connection), migrated. For tests and tools."""
        from sqlalchemy.pool import StaticPool

        engine = create_engine(
            "sqlite://",
            connect_args={"check_same_thread": False},
            poolclass=StaticPool,
        )
        _install_listeners(engine)
        db = cls(engine, None)
        db.migrate(backup=False)
        return db

    def migrate(self, *, backup: bool = True) -> None:
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        script = ScriptDirectory.from_config(cfg)
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = script.get_current_head()
        if current == head:
            return
        if backup and self.path is not None:
            self.backup(reason=f"before-migration-{current or 'none'}-to-{head}")
        log.info("migrating database from %s to %s", current, head)
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def backup(self, reason: str = "manual") -> Path | None:
        """Copy the database (consistently, via sqlite's backup API) into backups/."""
        if self.path is None:
            return None
        folder = self.path.parent / "backups"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        import time

        target = folder / f"{self.path.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{reason}.sqlite3"
        # Created 0600 before sqlite writes a byte into it (a copy of every note and login).
        os.close(open_private(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC))
        src = sqlite3.connect(str(self.path))
        try:
            dst = sqlite3.connect(str(target))
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        _restrict(target)
        backups = sorted(folder.glob(f"{self.path.stem}-*.sqlite3"))
        for old in backups[:-KEEP_BACKUPS]:
            old.unlink(missing_ok=True)
        log.info("database backed up to %s", target.name)
        return target

    # -- sessions --------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction (deferred). Commits nothing."""
        with self.translated_errors(), self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction opened with BEGIN IMMEDIATE; committed on success."""
        with self.translated_errors(), self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def translated_errors(self) -> Iterator[None]:
        """Locked / read-only / full / corrupt → DatabaseUnavailable; constraint errors pass."""
        from lossy_desktop.core.errors import DatabaseUnavailable

        try:
            yield
        except exc.IntegrityError:
            raise
        except (exc.OperationalError, exc.DatabaseError) as error:
            raise DatabaseUnavailable(_explain(error, self.path or Path(":memory:"))) from error

    def dispose(self) -> None:
        self.engine.dispose()


def _check_header(path: Path) -> None:
    from lossy_desktop.core.errors import DatabaseUnavailable

    with open(path, "rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise DatabaseUnavailable(_explain(RuntimeError("file is not a database"), path))


def _restrict(path: Path) -> None:
    """Readable by its user only (the WAL and shm files too)."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if candidate.exists():
                os.chmod(candidate, stat.S_IRUSR | stat.S_IWUSR)
        except OSError:
            pass


def _make_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )
    _install_listeners(engine)
    return engine


def _install_listeners(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the driver) decide when transactions begin, so BEGIN IMMEDIATE works.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("lossy_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
