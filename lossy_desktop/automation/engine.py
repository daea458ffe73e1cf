"""One background thread with one asyncio loop and ONE Playwright instance for the whole app.

Every browser operation (posting, login, verify, keep-alive) runs as a coroutine on this loop,
so a single Playwright driver process serves them all and several sessions can run at once.
Callers live on other threads (the queue's worker pool, the CLI, the Qt app's helpers):

    engine = AutomationEngine()
    title = engine.run(lambda pw: open_and_read_title(pw, url), timeout=60)
    future = engine.submit(some_coroutine)        # concurrent.futures.Future
    engine.close()

`run`'s factory gets the started Playwright object (`playwright.async_api.Playwright`);
Playwright starts lazily on first use (`async_playwright().start()`) and stops on close().
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from playwright.async_api import Playwright, async_playwright

log = logging.getLogger("lossy.automation")

T = TypeVar("T")

CANCEL_GRACE_S = 30.0


class EngineClosed(RuntimeError):
    """The engine was closed; no more work is accepted."""


class AutomationEngine:
    def __init__(self, name: str = "lossy-automation") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._closed = False
        self._playwright: Playwright | None = None
        self._starting: asyncio.Future[Playwright] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: set[concurrent.futures.Future[Any]] = set()

    # -- the loop thread

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise EngineClosed("the automation engine is closed")
            if self._loop is None:
                self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
                self._thread.start()
                self._ready.wait()
            assert self._loop is not None
            return self._loop

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    @property
    def in_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The engine's event loop (started if needed)."""
        return self._ensure_loop()

    # -- Playwright

    async def playwright(self) -> Playwright:
        """The engine's Playwright instance, started on first use. Call on the engine's loop."""
        if self._playwright is not None:
            return self._playwright
        if self._closed:
            raise EngineClosed("the automation engine is closed")
        if self._starting is None:
            log.info("starting Playwright")
            self._starting = asyncio.ensure_future(async_playwright().start())
        # Shielded: a caller's timeout must not abandon a half-started driver.
        self._playwright = await asyncio.shield(self._starting)
        return self._playwright

    @property
    def playwright_started(self) -> bool:
        return self._playwright is not None

    # -- running work

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule a coroutine on the engine's loop; returns at once."""
        try:
            loop = self._ensure_loop()
        except EngineClosed:
            coro.close()
            raise
        future = asyncio.run_coroutine_threadsafe(self._tracked(coro), loop)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    async def _tracked(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            return await coro
        finally:
            self._tasks.discard(task)

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def run(
        self,
        coro_factory: Callable[[Playwright], Awaitable[T]],
        timeout: float | None = None,
    ) -> T:
        """Run `coro_factory(playwright)` on the engine's loop and wait for its result.

        Blocking: call from any thread except the engine's own. On timeout the coroutine is
        cancelled (its `finally` blocks run, so sessions are released) and TimeoutError raised.
        """
        if self.in_loop_thread:
            raise RuntimeError("AutomationEngine.run() called from the engine's own thread")

        finished = threading.Event()

        async def runner() -> T:
            try:
                pw = await self.playwright()
                return await coro_factory(pw)
            finally:
                finished.set()

        future = self.submit(runner())
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            # Let the cancellation unwind: `finally` blocks release browser sessions.
            if not finished.wait(CANCEL_GRACE_S):
                log.warning("a cancelled browser operation is still cleaning up")
            raise TimeoutError(f"browser operation did not finish within {timeout:g} s") from None

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """Run a plain callback on the engine's loop."""
        self._ensure_loop().call_soon_threadsafe(callback)

    # -- shutdown

    def close(self, timeout: float = 30.0) -> None:
        """Cancel pending work, stop Playwright, end the loop thread. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
            pending = list(self._pending)
        if loop is None or thread is None:
            return
        for future in pending:
            future.cancel()

        async def shutdown() -> None:
            # Only our own work is cancelled: Playwright's internal tasks must keep running
            # until it has stopped.
            tasks = [t for t in self._tasks if not t.done()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout / 2)
            playwright = self._playwright
            if playwright is None and self._starting is not None:
                with contextlib.suppress(Exception):
                    playwright = await self._starting
            if playwright is not None:
                try:
                    await asyncio.wait_for(playwright.stop(), timeout / 2)
                except Exception as error:
                    log.warning("Playwright did not stop cleanly: %s", type(error).__name__)
                self._playwright = None

        if not thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout)
        except Exception as error:
            log.warning("automation engine shutdown: %s", type(error).__name__)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        log.info("automation engine closed")

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> AutomationEngine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
