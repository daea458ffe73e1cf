"""A posting process killed with SIGKILL: its browser, driven through a pipe, exits with it (the
pipe closes). A browser that does outlive a killed starter (one not driven through a pipe, like
an app's login window, stood in for here by a plain Chromium process the child starts) must not
be reused nor block the profile: the next start stops the orphan and starts a fresh browser. A
detached browser (a login window of `connections add`, whose starter exits on purpose) is not an
orphan."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from reliability_helpers import kill_all, live_browsers, wait_for

from lossy_desktop.automation.chromium import (
    OWNER_FILE,
    BrowserNotFound,
    ProfileBrowser,
    find_browser,
)
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.automation.providers import session_scope
from lossy_desktop.automation.providers.local import LocalProvider
from lossy_desktop.core.paths import DataDir

try:
    find_browser()
except BrowserNotFound:
    pytest.skip("no Chromium installed", allow_module_level=True)

pytestmark = pytest.mark.browser

STARTER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lossy_desktop.automation.chromium import ChromiumProcess
    proc = ChromiumProcess.start(Path(sys.argv[1]), headless=True, detached=sys.argv[2] == "1")
    print(proc.pid, flush=True)
    if sys.argv[2] != "1":
        sys.stdin.read()  # stay until killed
    """
)


class Conn:
    platform = "youtube"
    provider = "local"
    browserbase_context_id = None
    browserbase_session_id = None
    local_profile_path = None


def _start_in_child(profile: Path, detached: bool) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(profile), "1" if detached else "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip().isdigit(), line
    return child, int(line)


def test_orphan_of_a_killed_process_is_stopped_and_replaced(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    profile = data.profiles / "youtube"
    child, orphan_pid = _start_in_child(profile, detached=False)
    try:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert psutil.Process(orphan_pid).is_running()  # the browser outlived its starter
        found = ProfileBrowser.find(profile)
        assert found is not None and found.pid == orphan_pid and found.orphaned
        # Killed between starting the browser and learning its pid: the record written
        # before the start (no browser pid yet) still names the dead owner.
        record = json.loads((profile / OWNER_FILE).read_text())
        (profile / OWNER_FILE).write_text(json.dumps({**record, "browser_pid": None}))
        again = ProfileBrowser.find(profile)
        assert again is not None and again.orphaned

        provider = LocalProvider(data)

        async def use(pw):  # type: ignore[no-untyped-def]
            async with session_scope(provider, pw, Conn(), purpose="post") as session:
                await session.page.goto("about:blank")
                return session.extra["pipe"].pid

        with AutomationEngine() as engine:
            new_pid = engine.run(use, 60)
        assert new_pid != orphan_pid
        assert not _alive(orphan_pid)
        # the fresh browser was ours: stopped when the session ended; nothing left on the profile
        wait_for(lambda: not live_browsers(data.profiles), 10, "the profile's browsers to end")
    finally:
        kill_all(live_browsers(data.profiles))
        child.stdin.close()  # type: ignore[union-attr]


def test_detached_login_browser_is_not_an_orphan(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    child, pid = _start_in_child(profile, detached=True)
    try:
        child.wait(20)
        found = ProfileBrowser.find(profile)
        assert found is not None and found.pid == pid
        assert not found.orphaned  # its starter left on purpose
        found.stop(10)
        assert not _alive(pid)
    finally:
        kill_all(live_browsers(tmp_path))
        child.stdin.close()  # type: ignore[union-attr]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_start_up_recovery_stops_an_orphan_even_with_nothing_to_post(tmp_path: Path) -> None:
    from lossy_desktop.services import Services
    from lossy_desktop.workers import recover_interrupted

    data_dir = tmp_path / "data"
    with Services.open(data_dir) as services:
        profile = services.data.profiles / "vimeo"
        child, orphan_pid = _start_in_child(profile, detached=False)
        try:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            assert _alive(orphan_pid)
            recover_interrupted(services)
            assert not _alive(orphan_pid)
            assert live_browsers(services.data.profiles) == []
        finally:
            kill_all(live_browsers(data_dir))
            child.stdin.close()  # type: ignore[union-attr]


PIPE_STARTER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from playwright.async_api import async_playwright
    from lossy_desktop.automation.chromium import launch_persistent

    async def main():
        playwright = await async_playwright().start()
        pipe = await launch_persistent(playwright, Path(sys.argv[1]))
        print(pipe.pid, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until killed

    asyncio.run(main())
    """
)


def test_a_killed_process_takes_its_pipe_browser_with_it(tmp_path: Path) -> None:
    profile = tmp_path / "data" / "profiles" / "air"
    child = subprocess.Popen(
        [sys.executable, "-c", PIPE_STARTER, str(profile)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        pid = int(child.stdout.readline())
        assert _alive(pid)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        wait_for(lambda: not _alive(pid), 30, "the browser to exit with its pipe")
        wait_for(lambda: not live_browsers(profile.parent), 30, "its helpers to exit")
    finally:
        kill_all(live_browsers(tmp_path))
        child.stdin.close()  # type: ignore[union-attr]
