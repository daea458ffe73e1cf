"""The demo: the sandbox, logged-in local-Chromium connections, sample notes that post."""

from __future__ import annotations

from typing import Any

import pytest

from lossy_desktop.app.demo import COMMENTS_OFF, DEMO_ACCOUNT, SAMPLE_NOTES, prepare_demo
from lossy_desktop.app.models.notes_model import status_key
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.services import Services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.qt_allow(r"(?i)vulkan", r"(?i)GPUInfo", r"(?i)dbus"),
]

CONFIDENT = sum(1 for note in SAMPLE_NOTES if note[6] >= 0.7)


def test_prepare_logs_in_and_adds_sample_notes(
    services: Services, sandbox: Any, engine: AutomationEngine
) -> None:
    info = prepare_demo(services, sandbox, engine)
    assert info.notes == len(SAMPLE_NOTES)
    assert info.queued == CONFIDENT
    for platform in ("youtube", "vimeo", "air"):
        connection = services.connections.get(platform)
        assert connection is not None
        assert (connection.provider, connection.status) == ("local", "active")
        assert DEMO_ACCOUNT in str(connection.account_name)
    assert services.settings.platform_base() == sandbox.base_url
    assert services.settings.get("intake_port") == 0
    assert {note.platform for note in services.notes.list()} == {"youtube", "vimeo", "air"}


def test_demo_notes_post_for_real_on_the_sandbox(
    services: Services, sandbox: Any, engine: AutomationEngine
) -> None:
    from lossy_desktop.workers import build_runner

    prepare_demo(services, sandbox, engine)
    sandbox.clear_faults()  # no slow pages in the test
    runner = build_runner(services, engine)
    runner.start()
    try:
        runner.run_until_idle(timeout=180)
    finally:
        runner.stop()
    notes = services.notes.list()
    by_status: dict[str, int] = {}
    for note in notes:
        by_status[note.status] = by_status.get(note.status, 0) + 1
    # Every confident note posted, except the one on the video with comments turned off.
    assert by_status == {
        "posted": CONFIDENT - 1,
        "failed": 1,
        "ghost": len(SAMPLE_NOTES) - CONFIDENT,
    }
    failed = next(n for n in notes if n.status == "failed")
    assert failed.error_kind == "comments_disabled"
    assert COMMENTS_OFF[1] in failed.video_url
    posted = [n for n in notes if n.status == "posted"]
    for note in posted:
        assert note.external_permalink and note.external_permalink.startswith(sandbox.base_url)
    received = [c for p in ("youtube", "vimeo", "air") for c in sandbox.comments(p)]
    assert len(received) == CONFIDENT - 1
    assert all(DEMO_ACCOUNT in str(c["author"]) for c in received)


def test_demo_app_shows_notes_go_from_queued_to_posted(
    qtbot: Any, services: Services, sandbox: Any, engine: AutomationEngine
) -> None:
    """The real app shell in demo mode: the notes in the window reach 'posted' by themselves."""
    from lossy_desktop.app.main import LossyApp

    prepare_demo(services, sandbox, engine)
    sandbox.clear_faults()
    shell = LossyApp(services, demo=True)
    qtbot.addWidget(shell.window)
    seen: set[str] = set()

    def shown() -> dict[int, str]:
        """Each note's state as the window's own model shows it."""
        current = {n.id: status_key(n) for n in shell.window.model.notes()}
        seen.update(current.values())
        return current

    try:
        shell.start(start_minimized=False)
        assert "demo" in shell.window.windowTitle()
        qtbot.waitUntil(
            lambda: (
                list(shown().values()).count("posted") == CONFIDENT - 1
                and "posting" not in shown().values()
                and _idle(services)
            ),
            timeout=180_000,
        )
    finally:
        shell.controller.stop()
        shell.tray.hide()
    window = shell.window
    states = shown()
    assert window.model.rowCount() == len(SAMPLE_NOTES) == window.proxy.rowCount()
    assert "posting" in seen or "queued" in seen  # the window showed them on their way
    assert sorted(states.values()).count("failed") == 1
    # What the window shows is what was stored.
    assert states == {n.id: status_key(n) for n in services.notes.list()}


def test_demo_window_shows_at_once_while_the_sandbox_is_prepared(
    qtbot: Any, services: Services, sandbox: Any, engine: AutomationEngine
) -> None:
    """The window is up, saying "Preparing the sandbox…" with its progress, before the sandbox
    is ready; then the notes fill in and posting starts."""
    import threading

    from lossy_desktop.app.main import LossyApp

    gate = threading.Event()
    steps: list[tuple[str, int, int]] = []

    def prepare(progress: Any) -> Any:
        progress("Starting…", 0, 4)
        assert gate.wait(60), "the test never let the preparation go on"

        def report(text: str, done: int, total: int) -> None:
            steps.append((text, done, total))
            progress(text, done, total)

        return prepare_demo(services, sandbox, engine, report)

    shell = LossyApp(services, demo=True, prepare=prepare)
    qtbot.addWidget(shell.window)
    empty = shell.window.table.empty
    try:
        shell.start(start_minimized=False)
        # Shown before the sandbox is ready, with a visible "preparing" state and its progress.
        assert shell.window.isVisible()
        qtbot.waitUntil(lambda: empty.isVisible() and empty.mode == "preparing", timeout=5000)
        assert empty.title.text() == "Preparing the sandbox…"
        assert empty.progress.isVisible()  # busy until the first step is reported, then 0 of 4
        qtbot.waitUntil(lambda: empty.progress.maximum() == 4, timeout=5000)
        assert not empty.guide.isVisible()  # not the first-run guide
        assert services.notes.list() == [] and shell.controller.runner is None
        gate.set()
        qtbot.waitUntil(lambda: "Logging the demo account in" in empty.hint.text(), timeout=30_000)
        qtbot.waitUntil(lambda: shell.preparation.done, timeout=120_000)
        qtbot.waitUntil(lambda: shell.window.model.rowCount() == len(SAMPLE_NOTES), timeout=10_000)
        assert not empty.isVisible()
        assert "sandbox is ready" in shell.window.message_bar.text()
        qtbot.waitUntil(lambda: shell.controller.runner is not None, timeout=10_000)
        assert [done for _text, done, _total in steps] == [0, 1, 2, 3, 4]
    finally:
        gate.set()
        shell.controller.stop()
        shell.tray.hide()


def _idle(services: Services) -> bool:
    counts = services.queue.counts("automation")
    return not any(counts.get(s, 0) for s in ("available", "scheduled", "executing", "retryable"))


def test_demo_command_is_registered_without_services() -> None:
    from lossy_desktop.cli import build_parser
    from lossy_desktop.cli.demo_cmd import run_demo

    args = build_parser().parse_args(["demo", "--keep"])
    assert args.handler is run_demo
    assert args.needs_services is False
    assert args.keep is True


@pytest.mark.parametrize("mode", ["throwaway", "keep", "data_dir"])
def test_demo_data_folder_is_thrown_away_on_quit_unless_kept(
    mode: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo` runs in a fresh folder deleted when the app quits; `--keep` keeps it;
    `--data-dir DIR` uses DIR and never deletes it. (The window's run is replaced by a
    function that looks at the folder and returns, as when the user quits.)"""
    import tempfile
    from types import SimpleNamespace

    import lossy_desktop.app.demo as demo
    import lossy_desktop.app.main as app_main
    from lossy_desktop.cli import main

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[Any] = []

    def app_quits(svc: Services, **kwargs: Any) -> int:
        root = svc.data.root
        seen.append(root)
        assert (root / "lossy.sqlite3").exists() and kwargs["demo"] is True
        return 0

    monkeypatch.setattr(app_main, "run_app", app_quits)
    monkeypatch.setattr(demo, "prepare_demo", lambda *a: SimpleNamespace(notes=0, queued=0))
    mine = tmp_path / "mine"
    argv = {"throwaway": ["demo"], "keep": ["demo", "--keep"], "data_dir": []}[mode]
    if mode == "data_dir":
        argv = ["--data-dir", str(mine), "demo"]
    assert main(argv) == 0
    assert len(seen) == 1
    root = seen[0]
    if mode == "data_dir":
        assert root == mine.resolve() and (mine / "lossy.sqlite3").exists()
    else:
        assert root.parent == tmp_path.resolve() and root.name.startswith("lossy-demo-")
        assert root.exists() is (mode == "keep")
        if mode == "keep":
            assert f"Kept the demo data folder: {root}" in capsys.readouterr().err
