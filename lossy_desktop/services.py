"""The composition root: one object that opens the data folder and wires the Qt-free layers.

The CLI, the Qt app, tests and benchmarks all start from `Services.open(...)`. Attributes are
built on first use so a command that needs only settings never starts a browser or a runner.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.logs import setup_logging
from lossy_desktop.core.paths import DataDir, resolve_data_dir
from lossy_desktop.core.settings import Settings

if TYPE_CHECKING:
    from lossy_desktop.core.app_state import AppStateService
    from lossy_desktop.core.connections import ConnectionService, ConnectionView
    from lossy_desktop.core.notes import NoteService
    from lossy_desktop.core.usage import UsageService
    from lossy_desktop.queue.jobs import JobQueue
    from lossy_desktop.queue.pacing import CommentPacer

log = logging.getLogger("lossy.core")


class Services:
    def __init__(self, data: DataDir, db: Database, clock: Clock = system_clock) -> None:
        self.data = data
        self.db = db
        self.clock = clock
        self.settings = Settings(db, clock)
        self._verified_seen: dict[str, float | None] = {}

    @classmethod
    def open(
        cls,
        data_dir: str | Path | None = None,
        *,
        clock: Clock = system_clock,
        verbose: bool = False,
    ) -> Services:
        root = resolve_data_dir(data_dir)
        data = DataDir(root)
        setup_logging(data.logs, level=logging.DEBUG if verbose else logging.INFO)
        db = Database.open(data.database)
        log.info("data folder %s opened", root)
        return cls(data, db, clock)

    @cached_property
    def queue(self) -> JobQueue:
        from lossy_desktop.queue.jobs import JobQueue

        return JobQueue(self.db, self.settings, clock=self.clock)

    @cached_property
    def pacer(self) -> CommentPacer:
        """Pacing of each platform account's comments (durable; see queue/pacing.py)."""
        from lossy_desktop.queue.pacing import CommentPacer

        return CommentPacer(self.db, self.settings, clock=self.clock)

    @cached_property
    def notes(self) -> NoteService:
        from lossy_desktop.core.notes import NoteService
        from lossy_desktop.workers.scheduling import QueueScheduler

        return NoteService(self.db, self.settings, QueueScheduler(self.queue), clock=self.clock)

    @cached_property
    def connections(self) -> ConnectionService:
        from lossy_desktop.core.connections import ConnectionService

        service = ConnectionService(self.db, self.data, clock=self.clock)
        service.add_listener(self._requeue_when_connected)
        return service

    def _requeue_when_connected(self, view: ConnectionView) -> None:
        """A connection (re)verified active: queue the notes held for it again."""
        if view.active and self._verified_seen.get(view.platform) != view.verified_at:
            self._verified_seen[view.platform] = view.verified_at
            self.notes.requeue_held(view.platform)

    @cached_property
    def app_state(self) -> AppStateService:
        from lossy_desktop.core.app_state import AppStateService

        return AppStateService(self.db)

    @cached_property
    def usage(self) -> UsageService:
        """Browser usage: sessions' seconds and Browserbase billed seconds, monthly cost."""
        from lossy_desktop.core.usage import UsageService

        return UsageService(self.db, self.settings, clock=self.clock)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
