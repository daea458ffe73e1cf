"""The application shell: one instance per data folder, autostart file, `lossy-desktop open`,
and — under Xvfb with a real tray host (trayer) — the tray icon shown and its menu opened by a
real click, then Quit from that menu."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from display import start_xvfb

from lossy_desktop.app.main import SingleInstance, autostart_path, instance_key, set_autostart

REPO = Path(__file__).resolve().parents[2]


def test_second_instance_brings_the_first_forward(qtbot, tmp_path):
    first = SingleInstance(tmp_path)
    assert first.claim()
    second = SingleInstance(tmp_path)
    with qtbot.waitSignal(first.activated, timeout=5000):
        assert second.claim() is False
    other_folder = SingleInstance(tmp_path / "other")
    assert other_folder.claim(), "another data folder is another instance"
    other_folder.release()
    first.release()
    again = SingleInstance(tmp_path)
    assert again.claim(), "the name is free again after the first one quits"
    again.release()
    assert instance_key(tmp_path) != instance_key(tmp_path / "other")


def test_autostart_file_is_written_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = set_autostart(True, tmp_path / "my data")
    assert path == autostart_path() == tmp_path / "config" / "autostart" / "lossy-desktop.desktop"
    text = path.read_text(encoding="utf-8")
    assert "[Desktop Entry]" in text and "Name=Lossy Desktop" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert "-m lossy_desktop --data-dir" in exec_line and "'" in exec_line  # quoted space
    assert exec_line.endswith("open --autostarted")
    set_autostart(False)
    assert not path.exists()


def test_open_is_the_default_command():
    from lossy_desktop.cli import build_parser
    from lossy_desktop.cli.app_cmd import open_app

    parser = build_parser()
    assert parser._lossy_default_handler is open_app
    args = parser.parse_args(["open", "--minimized"])
    assert args.handler is open_app and args.start_minimized is True
    assert parser.parse_args(["open"]).start_minimized is None


def test_shell_starts_minimised_without_tray_by_opening_the_window(qtbot, services):
    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.main import LossyApp

    controller = QueueController(services, workers=[])
    shell = LossyApp(services, controller=controller, exit_app=False)
    qtbot.addWidget(shell.window)
    shell.start(start_minimized=True)  # offscreen: no tray, so the window must open
    assert shell.window.isVisible() and not shell.window.tray_available
    with qtbot.waitSignal(shell.finished, timeout=10000):
        shell.window.actions_by_name["quit"].trigger()
    assert controller.closed


def test_start_up_heap_is_left_out_of_full_collections(qtbot, services):
    """Once the notes are in, what start-up made is frozen (gc.freeze): a full collection
    while notes post no longer walks the whole start-up heap on the GUI thread."""
    import gc

    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.main import LossyApp

    controller = QueueController(services, workers=[])
    shell = LossyApp(services, controller=controller, exit_app=False)
    qtbot.addWidget(shell.window)
    made_at_start_up = [object()]  # a container: tracked by the collector
    assert any(o is made_at_start_up for o in gc.get_objects())
    try:
        with qtbot.waitSignal(shell.window.model.fullyLoaded, timeout=10000):
            shell.start(start_minimized=False)
        assert not any(o is made_at_start_up for o in gc.get_objects())
        later = [object()]
        assert any(o is later for o in gc.get_objects()), "what comes later is collected as usual"
        with qtbot.waitSignal(shell.finished, timeout=10000):
            shell.quit()
    finally:
        gc.unfreeze()


# -- a real X display with a tray host -----------------------------------------------------
def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)  # polling an external process's file; there is no signal to wait on
    pytest.fail(f"timed out waiting for {what}")


def _events(report: Path, kind: str) -> list[dict[str, Any]]:
    if not report.exists():
        return []
    lines = report.read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("event") == kind]


@pytest.mark.xvfb
def test_tray_icon_and_menu_under_xvfb_with_a_real_tray(tmp_path, data_dir):
    missing = [tool for tool in ("Xvfb", "trayer", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (scripts/bootstrap.sh --test installs them)")
    xvfb, display = start_xvfb("1920x1080x24")
    processes: list[subprocess.Popen[bytes]] = [xvfb]
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "LOSSY_TEST_TRAY_REPORT": str(tmp_path / "tray.jsonl"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    report = tmp_path / "tray.jsonl"
    cli = [sys.executable, "-m", "lossy_desktop", "--data-dir", str(data_dir)]
    try:
        subprocess.run(
            [*cli, "settings", "set", "intake_port", "0"],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        trayer = subprocess.Popen(
            [
                "trayer",
                "--edge",
                "top",
                "--align",
                "right",
                "--widthtype",
                "pixel",
                "--width",
                "200",
                "--height",
                "32",
                "--transparent",
                "false",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(trayer)
        _wait_for(
            lambda: (
                subprocess.run(
                    ["xdotool", "search", "--class", "trayer"], env=env, capture_output=True
                ).returncode
                == 0
            ),
            40,
            "trayer's window",
        )
        app = subprocess.Popen(
            [*cli, "open", "--minimized"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(app)
        shown = _wait_for(lambda: _events(report, "shown"), 60, "the tray icon")[-1]
        assert shown["visible"] is True and shown["state"] == "idle"
        x, y, width, height = shown["geometry"]
        assert width > 0 and height > 0, shown
        assert 0 <= y < 40, "the icon sits in trayer's panel at the top"
        assert "Idle" in shown["tooltip"]

        second = subprocess.run([*cli, "open"], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0 and "already running" in second.stdout
        _wait_for(
            lambda: (
                subprocess.run(
                    ["xdotool", "search", "--onlyvisible", "--name", "^Lossy Desktop$"],
                    env=env,
                    capture_output=True,
                ).returncode
                == 0
            ),
            20,
            "the first instance's window to come forward",
        )

        menus_before = len(_events(report, "menu"))
        subprocess.run(
            ["xdotool", "mousemove", str(x + width // 2), str(y + height // 2), "click", "3"],
            env=env,
            check=True,
            timeout=10,
        )
        menu = _wait_for(lambda: _events(report, "menu")[menus_before:], 15, "the tray menu")
        entries = menu[-1]["entries"]
        assert entries[0] == "Open Lossy" and entries[-1] == "Quit"
        assert "Pause posting" in entries and "Nothing posted yet" in entries

        if shutil.which("import"):
            subprocess.run(
                [
                    "import",
                    "-window",
                    "root",
                    os.environ.get("LOSSY_TRAY_SHOT", str(tmp_path / "t.png")),
                ],
                env=env,
                timeout=20,
                capture_output=True,
            )
        where = _wait_for(lambda: _events(report, "menu_shown"), 15, "the menu's geometry")
        quit_x, quit_y = where[-1]["quit_at"]
        subprocess.run(
            ["xdotool", "mousemove", str(quit_x), str(quit_y), "click", "1"],
            env=env,
            check=True,
            timeout=10,
        )
        try:
            output = app.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            app.kill()
            output = app.communicate()[0].decode(errors="replace")
            pytest.fail(
                f"the app did not quit from the tray menu:\n{output}\n"
                f"{report.read_text(encoding='utf-8')}"
            )
        assert app.returncode == 0, output
        assert "QThread: Destroyed while thread" not in output
    finally:
        for proc in reversed(processes):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_tray_menu_lists_failures_and_opens_the_note(qtbot, services):
    from lossy_desktop.app.controller import QueueController
    from lossy_desktop.app.main import LossyApp
    from lossy_desktop.app.resources import tray_icon, tray_theme
    from lossy_desktop.core.notes import validate_note

    controller = QueueController(services, workers=[])
    shell = LossyApp(services, controller=controller, exit_app=False)
    qtbot.addWidget(shell.window)
    shell.start(start_minimized=False)
    fields = {
        "platform": "air",
        "video_url": "https://app.air.inc/lossy/c/abc1",
        "timestamp_seconds": 5,
        "text": "Logo flickers",
        "confidence": 0.2,
    }
    note = services.notes.create(validate_note(fields, services.settings))
    services.notes.post_now([note.id])
    services.notes.mark_posting(note.id, 1)
    services.notes.mark_failed(
        note.id,
        kind="comments_disabled",
        message="Comments are turned off for this Air video (Air: comments are turned off)",
    )
    qtbot.waitUntil(lambda: shell.window.model.counts()["failed"] == 1, timeout=5000)
    shell.tray.rebuild_menu()
    entries = shell.tray.entries()
    assert "Needs attention (1)" in entries
    line = next(e for e in entries if "Logo flickers" in e)
    assert "Comments are turned off" in line and "comments_disabled" not in line
    assert shell.tray.state == "attention"
    shell.window.hide()
    action = next(a for a in shell.tray.menu.actions() if "Logo flickers" in a.text())
    action.trigger()
    assert shell.window.isVisible()
    assert [n.id for n in shell.window.selected_notes()] == [note.id]
    assert tray_theme() == "any" and not tray_icon("idle").isNull()
    with qtbot.waitSignal(shell.finished, timeout=10000):
        shell.window.actions_by_name["quit"].trigger()
