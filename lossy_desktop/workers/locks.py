"""One browser session per platform connection at a time.

A local profile can be open in one Chromium only, and a Browserbase context should be used by
one session at a time (DESIGN.md): posting batches and keep-alive visits of the same platform
take turns; different platforms run side by side (up to the queue's concurrency).
"""

from __future__ import annotations

import threading

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def connection_lock(platform: str) -> threading.Lock:
    with _guard:
        lock = _locks.get(platform)
        if lock is None:
            lock = _locks[platform] = threading.Lock()
        return lock
