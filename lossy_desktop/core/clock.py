"""Time as the rest of the app sees it: epoch seconds (UTC), injectable for tests.

`Clock` tells the time; `Sleep` waits. A `FakeClock` is both: its `sleep` moves it forward at
once, so code that waits (the pacing between comments) runs in no real time in tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def system_clock() -> float:
    """Seconds since the epoch, UTC."""
    return time.time()


def system_sleep(seconds: float) -> None:
    """Wait `seconds` of real time (nothing for a negative value)."""
    if seconds > 0:
        time.sleep(seconds)


def sleep_for(clock: Clock) -> Sleep:
    """The way to wait that goes with `clock`: a FakeClock's own `sleep`, else real time."""
    return clock.sleep if isinstance(clock, FakeClock) else system_sleep


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

    def sleep(self, seconds: float) -> None:
        """Waiting on a fake clock: it moves forward by `seconds`, at once."""
        self.advance(max(seconds, 0.0))


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
