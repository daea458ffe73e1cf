"""Time as the rest of the app sees it: epoch seconds (UTC), injectable for tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]


def system_clock() -> float:
    """Seconds since the epoch, UTC."""
    return time.time()


class FakeClock:
    """A clock that only moves when told to. Thread-safe; callable like `system_clock`."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, when: float) -> None:
        with self._lock:
            self._now = when


def to_datetime(ts: float | None) -> datetime | None:
    """Epoch seconds to an aware local datetime (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).astimezone()


def format_timecode(seconds: float) -> str:
    """M:SS below an hour, H:MM:SS from an hour on (what the platforms turn into links)."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
