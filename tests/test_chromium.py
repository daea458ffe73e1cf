"""The local Chromium process: finding a browser, starting it on a profile, its DevTools
endpoint, profile locks, and stopping it without leaving processes behind."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from lossy_desktop.automation import chromium
from lossy_desktop.automation.chromium import (
    BrowserNotFound,
    ChromiumProcess,
    ProfileInUse,
    find_browser,
)

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
def test_start_headless_serves_devtools_and_stops_cleanly(
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
    inspector = proc.inspector_url(pages[0]["id"])
    assert inspector == (
        f"http://127.0.0.1:{proc.port}/devtools/inspector.html"
        f"?ws=127.0.0.1:{proc.port}/devtools/page/{pages[0]['id']}"
    )
    assert httpx.get(inspector, trust_env=False).status_code == 200
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
