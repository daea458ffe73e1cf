"""The durable posting queue: Oban's semantics on SQLite, Qt-free (see DESIGN.md)."""

from lossy_desktop.queue.cron import CronEntry, CronSchedule
from lossy_desktop.queue.jobs import JobQueue, JobRecord, backoff_seconds
from lossy_desktop.queue.pacing import CommentPacer, PaceState, RateWindow
from lossy_desktop.queue.results import Cancel, Discard, Error, Ok, Result, Snooze
from lossy_desktop.queue.runner import JobContext, JobEvent, Runner, Worker

__all__ = [
    "Cancel",
    "CommentPacer",
    "CronEntry",
    "CronSchedule",
    "Discard",
    "Error",
    "JobContext",
    "JobEvent",
    "JobQueue",
    "JobRecord",
    "Ok",
    "PaceState",
    "RateWindow",
    "Result",
    "Runner",
    "Snooze",
    "Worker",
    "backoff_seconds",
]
