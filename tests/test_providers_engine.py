"""The AutomationEngine: one loop thread, one lazily started Playwright, work from any thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import psutil
import pytest

from lossy_desktop.automation.engine import AutomationEngine, EngineClosed


def _playwright_drivers() -> list[psutil.Process]:
    """The live Playwright drivers among this process's children (one that exited meanwhile,
    or is a zombie not yet reaped, is none)."""
    drivers = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "playwright" in " ".join(p.cmdline()) or p.name() == "node":
                drivers.append(p)
        except psutil.Error:  # gone, or a zombie: its command line can't be read
            continue
    return drivers


def test_run_returns_results_and_shares_one_playwright():
    with AutomationEngine() as engine:
        assert not engine.playwright_started  # lazy
        seen: list[object] = []

        async def work(pw: object) -> str:
            seen.append(pw)
            return threading.current_thread().name

        results: list[str] = []
        threads = [
            threading.Thread(target=lambda: results.append(engine.run(work, timeout=60)))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == ["lossy-automation"] * 4
        assert len({id(pw) for pw in seen}) == 1
        assert engine.playwright_started
        drivers = _playwright_drivers()
        assert len(drivers) >= 1
    assert engine.closed
    _gone, alive = psutil.wait_procs(drivers, timeout=15)
    assert alive == []  # the driver process was stopped


def test_runs_overlap_on_the_one_loop():
    with AutomationEngine() as engine:
        both_started = asyncio.Event()
        arrived = 0

        async def meet(_pw: object) -> int:
            nonlocal arrived
            arrived += 1
            if arrived == 2:
                both_started.set()
            await asyncio.wait_for(both_started.wait(), 10)
            return arrived

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(engine.run, meet, 30) for _ in range(2)]
            assert [f.result(30) for f in futures] == [2, 2]


def test_errors_propagate_to_the_caller():
    with AutomationEngine() as engine:

        async def boom(_pw: object) -> None:
            raise ValueError("bad thing")

        with pytest.raises(ValueError, match="bad thing"):
            engine.run(boom, timeout=30)
        # the engine still works afterwards
        assert engine.submit(asyncio.sleep(0, result=7)).result(10) == 7


def test_timeout_cancels_the_work_and_runs_its_cleanup():
    with AutomationEngine() as engine:
        cleaned = threading.Event()
        engine.run(lambda pw: asyncio.sleep(0), timeout=60)  # Playwright started

        async def slow(_pw: object) -> None:
            try:
                await asyncio.Event().wait()  # forever
            finally:
                cleaned.set()

        with pytest.raises(TimeoutError, match=r"within 0\.2 s"):
            engine.run(slow, timeout=0.2)
        assert cleaned.wait(10)


def test_close_cancels_pending_work_and_refuses_more():
    engine = AutomationEngine()
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    future = engine.submit(forever())
    assert started.wait(10)
    engine.close()
    assert future.cancelled()
    with pytest.raises(EngineClosed):
        engine.submit(asyncio.sleep(0))
    with pytest.raises(EngineClosed):
        engine.run(lambda pw: asyncio.sleep(0))
    engine.close()  # idempotent


def test_run_from_the_loop_thread_is_refused():
    with AutomationEngine() as engine:

        async def nested() -> None:
            engine.run(lambda pw: asyncio.sleep(0))

        with pytest.raises(RuntimeError, match="own thread"):
            engine.submit(nested()).result(10)
