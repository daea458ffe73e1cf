"""The Qt app layer (the only one importing Qt).

PySide6 6.12's `SignalInstance.emit()` returns `True` without taking a reference, so every
Python-side `emit()` takes one reference from `True` away; after enough emits (a few thousand in
a long session or a test run) CPython 3.11 aborts with "bool_dealloc: deallocating True or
False". `True`, `False` and `None` are static objects that are never freed: we give them a huge
reference count once (what CPython 3.12 does by making them immortal), so the stray decrefs can
never reach zero. Applied only when the bug is detected, and only on CPython < 3.12.
"""

from __future__ import annotations

import sys


def _protect_singletons_from_pyside_refcount_bug() -> bool:
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    import ctypes

    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    if sys.getrefcount(True) >= before:
        return False
    for singleton in (True, False, None):
        # ob_refcnt is the first field of every object in a release build of CPython.
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40
    return True


PYSIDE_REFCOUNT_WORKAROUND = _protect_singletons_from_pyside_refcount_bug()
