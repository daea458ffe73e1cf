"""How the queue reaches SQLite: one way.

Statements are written once with SQLAlchemy Core against the tables in core/models.py and
compiled once (when first run) to SQLite's SQL (`Statement`); `run` executes one on the driver's
cursor. The queue's claim and complete paths run thousands of times a second, and SQLAlchemy's
per-execution machinery (execution context, result objects, events) costs more than SQLite's
own work there: measured, a `complete` through `Connection.execute` took 2 to 2.5 times the CPU
of the same compiled statement on the driver (about 190 against 85 µs). Compiling once keeps
that speed and keeps every statement written against the schema (no hand-written SQL text).

A statement's free parameters are written `arg("name")` and given by name when it runs; lists
travel as one JSON text (`ids_in`), so every statement keeps one SQL text (and sqlite3 keeps it
prepared). JSON columns are stored as text, so callers pass them through `json.dumps`.

Driver errors become SQLAlchemy's (IntegrityError stays one), so `Database.translated_errors()`
turns locked / read-only / full / corrupt into DatabaseUnavailable as everywhere else.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.elements import ClauseElement

from lossy_desktop.core.db import Database

_DIALECT = sqlite.dialect(paramstyle="named")

# One lock per database file in this process. Writers of one process queue on it and hand over
# in microseconds, instead of meeting in SQLite's busy handler, which sleeps 1, 2, 5, 10 ... ms
# between retries (that made threads of one process crawl under contention). Other processes
# still wait on busy_timeout.
_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def writer_lock(db: Database) -> threading.Lock:
    """This process's lock for writing to `db`'s file (take it before BEGIN IMMEDIATE)."""
    key = str(db.path.resolve()) if db.path is not None else f"memory:{id(db)}"
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.Lock())


def arg(name: str) -> BindParameter[Any]:
    """A parameter given when the statement runs (`run(conn, stmt, name=value)`)."""
    return bindparam(name, None)


def ids_in(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column IN (the list given as json.dumps(list) in parameter `name`)`."""
    values = func.json_each(arg(name)).table_valued("value")
    return column.in_(select(values.c.value))


class Statement:
    """A Core statement, compiled for SQLite once (when first run); its constants kept with it."""

    __slots__ = ("_compiled", "_statement")

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._compiled: tuple[str, dict[str, Any], frozenset[str]] | None = None

    def compiled(self) -> tuple[str, dict[str, Any], frozenset[str]]:
        """(SQL text, the constants' values, the names to give when it runs)."""
        if self._compiled is None:
            compiled = self._statement.compile(
                dialect=_DIALECT, compile_kwargs={"render_postcompile": True}
            )
            params = dict(compiled.params)
            fixed = {name: value for name, value in params.items() if value is not None}
            self._compiled = (str(compiled), fixed, frozenset(params.keys() - fixed.keys()))
        return self._compiled

    @property
    def sql(self) -> str:
        return self.compiled()[0]

    def __repr__(self) -> str:
        return f"Statement({self.sql!r})"


def run(conn: PoolProxiedConnection, statement: Statement, **given: Any) -> list[Any]:
    """Run one statement on the driver's cursor; its rows (RETURNING or SELECT), as tuples."""
    sql, fixed, free = statement.compiled()
    if not free <= given.keys():
        raise TypeError(f"{', '.join(sorted(free - given.keys()))} not given for: {sql}")
    params = {**fixed, **given}
    cursor = conn.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    except sqlite3.IntegrityError as error:
        raise sa_exc.IntegrityError(sql, params, error) from error
    except sqlite3.Error as error:
        raise sa_exc.OperationalError(sql, params, error) from error
    finally:
        cursor.close()


def session_connection(session: Session) -> PoolProxiedConnection:
    """The driver connection under a Session (in its transaction: writes join it)."""
    return session.connection().connection


@contextmanager
def write_transaction(db: Database, lock: threading.Lock) -> Iterator[PoolProxiedConnection]:
    """BEGIN IMMEDIATE on a pooled driver connection, taken after this process's other
    writers (`lock`); committed on success, rolled back on error."""
    with lock, db.translated_errors():
        conn = db.engine.raw_connection()
        try:
            _execute(conn, "BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            try:
                conn.commit()
            except sqlite3.Error as error:
                conn.rollback()
                raise sa_exc.OperationalError("COMMIT", (), error) from error
        finally:
            conn.close()  # back to the pool


@contextmanager
def reading(db: Database) -> Iterator[PoolProxiedConnection]:
    """A pooled driver connection for single-statement reads (each is its own snapshot)."""
    with db.translated_errors():
        conn = db.engine.raw_connection()
        try:
            yield conn
        finally:
            conn.close()


def _execute(conn: PoolProxiedConnection, sql: str) -> None:
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
    except sqlite3.Error as error:
        raise sa_exc.OperationalError(sql, (), error) from error
    finally:
        cursor.close()
