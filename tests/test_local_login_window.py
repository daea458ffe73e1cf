"""Logging in with the local provider, under a real X display (Xvfb), as a person does: an
ordinary browser window on the connection's profile (no debugging port, no automation switch),
the sandbox's sign-in page typed into with xdotool, the login noticed when the window is
closed and checked headless over the pipe. Then verify and posting on that login. While any of
it runs, no process of the app's browsers listens on a TCP port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lossy_desktop.automation.chromium import BrowserNotFound, ProfileBrowser, find_browser
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.core.notes import validate_note
from lossy_desktop.services import Services
from lossy_desktop.workers import build_runner
from lossy_desktop.workers.connect import LoginFlow, verify_connection

try:
    find_browser()
except BrowserNotFound:
    pytest.skip("no Chromium installed", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.xvfb]

ACCOUNT = "alice"


@pytest.fixture
def on_sandbox(on_sandbox: Services) -> Services:
    """The shared on_sandbox, with the local provider."""
    on_sandbox.settings.set("provider", "local")
    return on_sandbox


def test_login_window_is_an_ordinary_browser_that_sign_in_accepts(
    person: Any,
    on_sandbox: Services,
    sandbox: Any,
    engine: AutomationEngine,
    data_dir: Path,
    browser_tree_watch: Any,
) -> None:
    services = on_sandbox
    flow = LoginFlow(services, engine, "youtube", provider="local")
    assert flow.window_mode
    with browser_tree_watch(data_dir / "profiles") as watch:
        assert flow.start() is None  # no live view of a local browser
        assert services.connections.get("youtube").status == "awaiting_auth"
        state = flow.check()
        assert not state.logged_in  # the window is open: not yet
        person.log_in(sandbox, "youtube", ACCOUNT)
        # The sandbox's sign-in refuses a browser whose navigator.webdriver is true, as
        # Google's does; the window passed, and the page saw "false".
        assert [s["webdriver"] for s in sandbox.sign_ins()] == ["false"]
        assert [entry["account"] for entry in sandbox.logins()] == [ACCOUNT]
        watch.sample()
        window_cmdlines = [c for c in watch.main_cmdlines() if "--new-window" in c]
        # The user closes the window; the flow notices and checks the login headless.
        person.close_window()
        state = person.wait_for(lambda: _checked(flow), "the login to be noticed", timeout=120)
        flow.finish()
    assert state.account == ACCOUNT
    connection = services.connections.get("youtube")
    assert connection.status == "active" and connection.account_name == ACCOUNT
    assert watch.listening == []
    assert watch.pids, "the watch saw no browser process"
    assert len(window_cmdlines) == 1, window_cmdlines
    (window,) = window_cmdlines
    assert not any(a.startswith("--remote-debugging") for a in window)
    assert "--enable-automation" not in window
    assert not any("AutomationControlled" in a for a in window)
    assert "--disable-crash-reporter" in window
    # the headless check drove a browser through a pipe, headless
    piped = [c for c in watch.main_cmdlines() if "--remote-debugging-pipe" in c]
    assert piped and all("--headless" in c for c in piped)
    assert not any("--enable-automation" in c for c in piped)


def _checked(flow: LoginFlow) -> Any:
    state = flow.check()
    return state if state.logged_in else None


def test_verify_and_posting_on_a_window_login_use_no_tcp_port(
    person: Any,
    on_sandbox: Services,
    sandbox: Any,
    engine: AutomationEngine,
    data_dir: Path,
    browser_tree_watch: Any,
) -> None:
    services = on_sandbox
    flow = LoginFlow(services, engine, "vimeo", provider="local")
    flow.start()
    person.log_in(sandbox, "vimeo", ACCOUNT)
    # The window stays open: the flow notices the login in what the browser has saved to the
    # profile (a copy, checked headless), then closes the window.
    state = person.wait_for(lambda: _checked(flow), "the saved login to be noticed", timeout=120)
    assert state.account == ACCOUNT
    profile = Path(services.connections.get("vimeo").local_profile_path)
    assert ProfileBrowser.find(profile) is not None  # the window is still open
    flow.finish()
    assert ProfileBrowser.find(profile) is None
    assert not list(profile.parent.glob(".lossy-snapshot-*"))  # the copies are gone
    sandbox.set_video("vimeo", "vidA", duration=600)
    note = services.notes.create(
        validate_note(
            {
                "platform": "vimeo",
                "video_url": sandbox.video_url("vimeo", "vidA"),
                "timestamp_seconds": 42,
                "text": "Posted over a pipe",
                "confidence": 0.9,
            },
            services.settings,
        )
    )
    with browser_tree_watch(data_dir / "profiles") as watch:
        assert verify_connection(services, engine, "vimeo").logged_in
        runner = build_runner(services, engine)
        try:
            runner.run_until_idle(timeout=240)
        finally:
            runner.stop()
    assert services.notes.get(note.id).status == "posted"
    assert [c["text"] for c in sandbox.comments("vimeo")] == ["0:42 — Posted over a pipe"]
    assert len(watch.main_cmdlines()) >= 2  # verify, then posting
    assert watch.listening == []
    for cmdline in watch.main_cmdlines():
        assert "--remote-debugging-pipe" in cmdline
        assert not any(a.startswith("--remote-debugging-port") for a in cmdline)


def _cli(data_dir: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lossy_desktop", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


def test_cli_add_opens_a_window_and_verify_checks_headless(
    person: Any, on_sandbox: Services, sandbox: Any, data_dir: Path, browser_tree_watch: Any
) -> None:
    env = {**os.environ, "DISPLAY": person.display}
    with browser_tree_watch(data_dir / "profiles") as watch:
        added = _cli(data_dir, "connections", "add", "air", "--provider", "local", env=env)
        assert added.returncode == 0, added.stderr
        assert "connections verify air" in added.stdout
        assert "Live view" not in added.stdout  # no view of a local browser
        person.log_in(sandbox, "air", ACCOUNT)
        person.close_window()  # the user closes the window
        profile = data_dir / "profiles" / "air"
        person.wait_for(lambda: ProfileBrowser.find(profile) is None, "the window to close")
        verified = _cli(data_dir, "connections", "verify", "air", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"logged in as {ACCOUNT}" in verified.stdout
    assert watch.listening == []
    listed = _cli(data_dir, "connections", "list", "--json", env=env)
    assert [c["status"] for c in json.loads(listed.stdout)] == ["active"]


def test_cli_add_without_a_display_says_how_to_log_in(on_sandbox: Services, data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    added = _cli(data_dir, "connections", "add", "youtube", "--provider", "local", env=env)
    assert added.returncode == 0, added.stderr
    assert "no display" in added.stdout
    assert "connections verify youtube" in added.stdout
    listed = _cli(data_dir, "connections", "list", "--json", env=env)
    assert [c["status"] for c in json.loads(listed.stdout)] == ["awaiting_auth"]
