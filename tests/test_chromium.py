"""The local Chromium process: finding a browser, driving it through a pipe on a profile (no TCP
port, not marked automated), the login window's switches, profile locks, the crash reporter
kept off, and stopping without leaving processes behind. (The DevTools-port process is the
sandbox's fake Browserbase's.)"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from lossy_desktop.automation import chromium
from lossy_desktop.automation.chromium import (
    BrowserNotFound,
    ChromiumProcess,
    LoginWindow,
    ProfileBrowser,
    ProfileInUse,
    find_browser,
    launch_persistent,
)
from lossy_desktop.automation.engine import AutomationEngine

HAVE_BROWSER = True
try:
    find_browser()
except BrowserNotFound:
    HAVE_BROWSER = False

needs_browser = pytest.mark.skipif(not HAVE_BROWSER, reason="no Chromium installed")


@pytest.fixture
def started() -> Iterator[list[ChromiumProcess]]:
    """Processes a test starts; every one is stopped (and checked gone) at the end."""
    procs: list[ChromiumProcess] = []
    yield procs
    for proc in procs:
        proc.stop(timeout=5)
        assert not psutil.pid_exists(proc.pid) or not proc.alive


def _fake_executable(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---------------------------------------------------------------------------- find_browser


def test_find_browser_uses_configured_path(tmp_path: Path):
    exe = _fake_executable(tmp_path, "my-chrome")
    assert find_browser(str(exe)) == exe.resolve()


def test_find_browser_configured_path_missing_says_which_setting(tmp_path: Path):
    with pytest.raises(BrowserNotFound, match="browser_path") as info:
        find_browser(str(tmp_path / "nope"))
    assert "nope" in str(info.value)


def test_find_browser_searches_path_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _fake_executable(tmp_path, "google-chrome")
    edge = _fake_executable(tmp_path, "microsoft-edge")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_browser() == tmp_path / "google-chrome"
    (tmp_path / "google-chrome").unlink()
    assert find_browser() == edge


def test_find_browser_falls_back_to_install_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    exe = _fake_executable(tmp_path, "chrome")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(chromium, "candidate_paths", lambda: [tmp_path / "missing", exe])
    assert find_browser() == exe


def test_no_browser_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(chromium, "candidate_paths", lambda: [])
    monkeypatch.setattr(chromium, "_linux_distro_ids", lambda: {"debian"})
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(BrowserNotFound) as info:
        find_browser()
    message = str(info.value)
    assert "sudo apt install chromium" in message
    assert "browser_path" in message


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ({"ubuntu", "debian"}, "snap install chromium"),
        ({"fedora"}, "dnf install chromium"),
        ({"arch"}, "pacman -S chromium"),
    ],
)
def test_install_hint_per_distribution(
    monkeypatch: pytest.MonkeyPatch, ids: set[str], expected: str
):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(chromium, "_linux_distro_ids", lambda: ids)
    assert expected in chromium.install_hint()


def test_build_args_headless_and_root(tmp_path: Path):
    args = ChromiumProcess.build_args(Path("/x/chromium"), tmp_path, headless=True)
    assert f"--user-data-dir={tmp_path}" in args
    assert "--remote-debugging-port=0" in args
    assert "--headless=new" in args
    for flag in ("--disable-background-networking", "--disable-component-update"):
        assert flag in args
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)
    headed = ChromiumProcess.build_args(Path("/x/chromium"), tmp_path, headless=False)
    assert not any(a.startswith("--headless") for a in headed)
    assert f"--breakpad-dump-location={tmp_path / chromium.CRASH_DIR}" in args


def test_login_window_is_an_ordinary_browser(tmp_path: Path):
    args = LoginWindow.build_args(Path("/x/chromium"), tmp_path, "http://127.0.0.1:1/youtube")
    assert args[0] == "/x/chromium" and args[-1] == "http://127.0.0.1:1/youtube"
    assert f"--user-data-dir={tmp_path}" in args
    assert not any(a.startswith("--remote-debugging") for a in args)
    assert not any(a.startswith("--headless") for a in args)
    assert "--enable-automation" not in args
    assert not any("AutomationControlled" in a for a in args)  # nothing changed in the page
    # the same cookie encryption as the headless sessions that check the login
    assert "--password-store=basic" in args
    for flag in ("--disable-crash-reporter", "--disable-breakpad", "--no-first-run"):
        assert flag in args
    assert f"--breakpad-dump-location={tmp_path / chromium.CRASH_DIR}" in args
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)


def test_login_window_needs_a_display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if chromium.has_display():
        pytest.skip("this OS always has a display")
    with pytest.raises(chromium.BrowserStartFailed, match="no display"):
        LoginWindow.open(tmp_path / "p", "http://127.0.0.1:1/", executable=Path("/bin/true"))


# ---------------------------------------------------------------------------- profile locks


def test_stale_lock_of_dead_process_is_cleaned(tmp_path: Path):
    profile = tmp_path / "profile"
    profile.mkdir()
    os.symlink(f"{socket.gethostname()}-{_dead_pid()}", profile / "SingletonLock")
    os.symlink("12345", profile / "SingletonCookie")
    chromium.check_profile_free(profile)
    assert not os.path.lexists(profile / "SingletonLock")
    assert not os.path.lexists(profile / "SingletonCookie")


def test_lock_held_by_a_non_browser_pid_is_stale(tmp_path: Path):
    # pid reuse: the lock names a pid that now belongs to something else (this test process)
    profile = tmp_path / "profile"
    profile.mkdir()
    os.symlink(f"{socket.gethostname()}-{os.getpid()}", profile / "SingletonLock")
    chromium.check_profile_free(profile)
    assert not os.path.lexists(profile / "SingletonLock")


def test_lock_from_another_computer_is_never_removed(tmp_path: Path):
    profile = tmp_path / "profile"
    profile.mkdir()
    os.symlink("other-host.example-4242", profile / "SingletonLock")
    with pytest.raises(ProfileInUse, match=r"other-host\.example"):
        chromium.check_profile_free(profile)
    assert os.path.islink(profile / "SingletonLock")


# ---------------------------------------------------------------------------- real Chromium


@needs_browser
@pytest.mark.browser
def test_sandbox_process_serves_devtools_on_loopback_and_stops_cleanly(
    tmp_path: Path, started: list[ChromiumProcess]
):
    profile = tmp_path / "profile"
    proc = ChromiumProcess.start(profile, headless=True)
    started.append(proc)
    assert proc.alive
    assert proc.port > 0
    assert proc.http_url == f"http://127.0.0.1:{proc.port}"
    assert proc.browser_ws_url.startswith(f"ws://127.0.0.1:{proc.port}/devtools/browser/")
    pages = proc.pages()
    assert [p["url"] for p in pages] == ["about:blank"]
    # only loopback: the port is not reachable on another address of this machine
    listening = {
        c.laddr.ip
        for c in psutil.net_connections("tcp")
        if c.laddr and c.laddr.port == proc.port and c.status == psutil.CONN_LISTEN
    }
    assert listening == {"127.0.0.1"}

    children = psutil.Process(proc.pid).children(recursive=True)
    proc.stop(timeout=10)
    assert not proc.alive
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    assert not (profile / "DevToolsActivePort").exists()
    # the profile is free again: a new browser starts on it
    again = ChromiumProcess.start(profile, headless=True)
    started.append(again)
    assert again.port > 0


@needs_browser
@pytest.mark.browser
def test_profile_in_use_is_refused_and_left_alone(tmp_path: Path, started: list[ChromiumProcess]):
    profile = tmp_path / "profile"
    first = ChromiumProcess.start(profile, headless=True)
    started.append(first)
    lock_before = os.readlink(profile / "SingletonLock")
    with pytest.raises(ProfileInUse, match=f"pid {first.pid}"):
        ChromiumProcess.start(profile, headless=True)
    assert os.readlink(profile / "SingletonLock") == lock_before
    assert first.alive
    assert first.pages()  # still answering


@needs_browser
@pytest.mark.browser
def test_start_after_a_crash_reuses_the_profile(tmp_path: Path, started: list[ChromiumProcess]):
    profile = tmp_path / "profile"
    crashed = ChromiumProcess.start(profile, headless=True)
    chromium._kill_tree(crashed.pid)
    crashed.stop(timeout=2)  # reaps
    assert os.path.lexists(profile / "SingletonLock")  # a killed browser leaves its lock
    proc = ChromiumProcess.start(profile, headless=True)
    started.append(proc)
    assert proc.alive and proc.port != 0


@needs_browser
@pytest.mark.browser
def test_attach_finds_a_detached_browser(tmp_path: Path, started: list[ChromiumProcess]):
    profile = tmp_path / "profile"
    assert ChromiumProcess.attach(profile) is None
    proc = ChromiumProcess.start(profile, headless=True, detached=True)
    started.append(proc)
    found = ChromiumProcess.attach(profile)
    assert found is not None
    assert (found.pid, found.port, found.browser_ws_url) == (
        proc.pid,
        proc.port,
        proc.browser_ws_url,
    )
    assert found.headless
    found.stop(timeout=10)
    assert not proc.alive
    assert ChromiumProcess.attach(profile) is None


@needs_browser
@pytest.mark.browser
def test_browser_that_dies_at_start_is_reported(tmp_path: Path):
    script = tmp_path / "broken-browser"
    script.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(chromium.BrowserStartFailed, match="cannot open display"):
        ChromiumProcess.start(tmp_path / "p", headless=True, executable=script, timeout=10)


# ---------------------------------------------------------------------------- over a pipe


async def _webdriver_and_tree(pipe: chromium.PipeBrowser) -> tuple[Any, list[psutil.Process]]:
    page = pipe.context.pages[0]
    await page.set_content("<p>hello</p>")
    return await page.evaluate("navigator.webdriver"), pipe.process.tree()


async def _open_second_page(pipe: chromium.PipeBrowser) -> list[psutil.Process]:
    page = await pipe.context.new_page()
    await page.set_content("<p>a second tab: a renderer forked after the start</p>")
    return pipe.process.tree()


@needs_browser
@pytest.mark.browser
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX nice values")
def test_a_headless_browser_runs_below_the_apps_priority(tmp_path: Path, engine: AutomationEngine):
    """Posting's browser must not take the CPU from the window the person is using: the
    processes of a headless (background) browser run at BACKGROUND_PRIORITY, also a renderer
    forked after the start; the app's own process keeps its priority. (Chromium asks for its
    own nice values for tabs; a normal user may not raise a priority, so they stay at
    BACKGROUND_PRIORITY or lower. Root may, so as root only the browser process is checked.)"""
    ours, ours_group = psutil.Process().nice(), _autogroup_nice(os.getpid())
    pipe = engine.run(lambda pw: launch_persistent(pw, tmp_path / "profile", headless=True), 120)
    try:
        engine.run(lambda _pw: _webdriver_and_tree(pipe), 60)
        later = engine.run(lambda _pw: _open_second_page(pipe), 60)
        assert later[0].pid == pipe.pid and later[0].nice() == chromium.BACKGROUND_PRIORITY
        if os.geteuid() != 0:
            alive = [p for p in later if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            assert min(p.nice() for p in alive) >= chromium.BACKGROUND_PRIORITY
        assert psutil.Process().nice() == ours
        # Playwright starts the browser in a session of its own; where the kernel shares the
        # CPU between sessions first (autogroup), the browser's session is lowered as a whole
        # (its renderers included) and the app's is not.
        if _autogroup_nice(os.getpid()) is not None:
            assert os.getsid(pipe.pid) != os.getsid(0)
            assert _autogroup_nice(pipe.pid) == chromium.BACKGROUND_PRIORITY
            assert _autogroup_nice(later[-1].pid) == chromium.BACKGROUND_PRIORITY
            assert _autogroup_nice(os.getpid()) == ours_group
    finally:
        engine.run(lambda _pw: pipe.close(), 60)


def _autogroup_nice(pid: int) -> int | None:
    """The nice value of `pid`'s autogroup ("/autogroup-42 nice 10"), None without autogroup."""
    try:
        return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


@needs_browser
@pytest.mark.browser
def test_pipe_browser_has_no_tcp_port_and_is_not_marked_automated(
    tmp_path: Path, engine: AutomationEngine
):
    profile = tmp_path / "profile"
    pipe = engine.run(lambda pw: launch_persistent(pw, profile, headless=True), 120)
    try:
        webdriver, tree = engine.run(lambda _pw: _webdriver_and_tree(pipe), 60)
        assert webdriver is False
        assert len(tree) > 1  # the browser and its helpers
        listening = [
            (p.pid, c.laddr)
            for p in tree
            for c in p.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        ]
        assert listening == []
        cmdline = tree[0].cmdline()
        assert "--remote-debugging-pipe" in cmdline
        assert not any(a.startswith("--remote-debugging-port") for a in cmdline)
        assert "--enable-automation" not in cmdline
        assert f"--user-data-dir={profile.resolve()}" in cmdline
        assert not (profile / "DevToolsActivePort").exists()
        found = ProfileBrowser.find(profile)
        assert found is not None and found.pid == pipe.pid and not found.orphaned
    finally:
        engine.run(lambda _pw: pipe.close(), 60)
    assert not pipe.alive
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree)
    assert ProfileBrowser.find(profile) is None


@needs_browser
@pytest.mark.browser
def test_pipe_profile_in_use_is_refused_and_left_alone(tmp_path: Path, engine: AutomationEngine):
    profile = tmp_path / "profile"
    pipe = engine.run(lambda pw: launch_persistent(pw, profile), 120)
    try:
        with pytest.raises(ProfileInUse, match=f"pid {pipe.pid}"):
            engine.run(lambda pw: launch_persistent(pw, profile), 120)
        assert pipe.alive
    finally:
        engine.run(lambda _pw: pipe.close(), 60)
    # free again: a killed browser's lock does not block the next start either
    again = engine.run(lambda pw: launch_persistent(pw, profile), 120)
    chromium._kill_tree(again.pid)
    engine.run(lambda _pw: again.close(), 60)
    assert os.path.lexists(profile / "SingletonLock")
    third = engine.run(lambda pw: launch_persistent(pw, profile), 120)
    engine.run(lambda _pw: third.close(), 60)


@needs_browser
@pytest.mark.browser
def test_a_crash_dump_stays_in_the_profile_and_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Chromium's crash reporter still writes dumps with --disable-breakpad; they must not land
    in the user's own ~/.config/chromium/Crash Reports, and none may be left behind."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))  # where Chromium's default dumps go
    profile = tmp_path / "profile"
    dumps = profile / chromium.CRASH_DIR

    async def crash_a_tab(pipe: chromium.PipeBrowser) -> None:
        page = await pipe.context.new_page()
        with contextlib.suppress(Exception):
            await page.goto("chrome://crash", timeout=10_000)

    with AutomationEngine() as engine:  # a driver started with that environment
        pipe = engine.run(lambda pw: launch_persistent(pw, profile), 120)
        try:
            engine.run(lambda _pw: crash_a_tab(pipe), 60)
            deadline = time.monotonic() + 60
            while not list(dumps.rglob("*.dmp")):  # the handler writes it a moment later
                assert time.monotonic() < deadline, "the crash wrote no dump in the profile"
                time.sleep(0.1)
        finally:
            engine.run(lambda _pw: pipe.close(), 60)
    assert not list(dumps.rglob("*.dmp"))  # deleted when the browser stopped
    assert not list(config.rglob("*.dmp"))
