#!/usr/bin/env python3
"""Screenshots for the README, taken from the real app on the offline sandbox, under Xvfb.

    .venv/bin/python scripts/screenshots.py [--out docs]

Starts Xvfb (and a tray host, trayer) unless $DISPLAY is set, runs the demo in a throwaway data
folder, and saves:
  docs/main-window.png       the notes list with notes in every state, mid-posting
  docs/side-panel.png        the posting panel while notes are being posted
  docs/main-window-done.png  the same list once everything confident was posted
  docs/settings.png        the settings window (platform connections)
  docs/connect-dialog.png  the connect dialog while the user logs in in the browser window
  docs/tray-menu.png       the tray menu
Windows are grabbed with QWidget.grab(); the tray menu (its own popup window) with
`import -window root` (imagemagick).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_display() -> list[subprocess.Popen[bytes]]:
    """Xvfb on a free display number, and trayer so a system tray exists."""
    procs: list[subprocess.Popen[bytes]] = []
    if os.environ.get("DISPLAY"):
        return procs
    for number in range(99, 140):
        if not Path(f"/tmp/.X11-unix/X{number}").exists():
            break
    display = f":{number}"
    procs.append(
        subprocess.Popen(
            ["Xvfb", display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline:
            raise SystemExit("Xvfb did not start")
        time.sleep(0.05)
    os.environ["DISPLAY"] = display
    if shutil.which("trayer"):
        procs.append(
            subprocess.Popen(
                [
                    "trayer",
                    "--edge",
                    "top",
                    "--align",
                    "right",
                    "--widthtype",
                    "pixel",
                    "--width",
                    "120",
                    "--height",
                    "28",
                    "--transparent",
                    "false",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    procs = start_display()
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
    data = Path(tempfile.mkdtemp(prefix="lossy-shots-"))
    try:
        return shoot(out, data)
    finally:
        shutil.rmtree(data, ignore_errors=True)
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(10)


def shoot(out: Path, data: Path) -> int:
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from lossy_desktop.app.demo import prepare_demo
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.sandbox.server import SandboxServer
    from lossy_desktop.services import Services

    app = QApplication([sys.argv[0]])
    app.setApplicationName("Lossy Desktop")

    def pump(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def wait_for(condition, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit("timed out waiting for the app")
            pump(0.1)

    def save(widget, name: str) -> None:  # type: ignore[no-untyped-def]
        QCoreApplication.processEvents()
        path = out / name
        widget.grab().save(str(path))
        print(f"saved {path}")

    with SandboxServer(port=0) as sandbox, Services.open(data) as services:
        engine = AutomationEngine()
        try:
            prepare_demo(services, sandbox, engine)
        finally:
            engine.close()
        services.settings.set("automation_concurrency", 1)  # one batch at a time: every state shows
        # Slow pages: the posting panel has something to show for a while.
        for platform in ("youtube", "vimeo", "air"):
            sandbox.set_fault(platform, "slow_page", delay=6.0, on="page")

        from lossy_desktop.app.main import LossyApp

        shell = LossyApp(services, demo=True)
        shell.window.resize(1360, 820)
        shell.start(start_minimized=False)

        def states() -> set[str]:
            notes = services.notes.list()
            return {"queued" if n.queued else n.status for n in notes}

        wait_for(lambda: {"posting", "posted", "queued", "ghost"} <= states(), timeout=240)
        pump(2.0)
        save(shell.window, "main-window.png")
        save(shell.window.side_panel, "side-panel.png")
        wait_for(lambda: not ({"posting", "queued"} & states()), timeout=240)
        pump(1.0)
        save(shell.window, "main-window-done.png")

        shell.open_settings()
        settings = shell.settings_window
        settings.resize(780, 720)
        pump(1.5)
        save(settings, "settings.png")

        from lossy_desktop.app.views.connect_dialog import ConnectDialog

        services.connections.remove("air")
        dialog = ConnectDialog(
            services,
            "air",
            provider="local",
            engine=shell.controller.ensure_engine(),
            parent=settings,
            check_interval_ms=600_000,
        )
        dialog.show()
        dialog.start()
        wait_for(lambda: dialog.state == "waiting")
        pump(2.0)
        save(dialog, "connect-dialog.png")
        dialog.close()
        settings.close()

        tray_menu(shell, out, pump)
        shell.controller.stop()
        shell.tray.hide()
        shell.window.close()
    return 0


def tray_menu(shell, out: Path, pump) -> None:  # type: ignore[no-untyped-def]
    if not shutil.which("import") or not shell.tray.icon.isVisible():
        print("no tray (or no imagemagick): tray-menu.png skipped")
        return
    geometry = shell.tray.icon.geometry()
    point = geometry.center() if geometry.isValid() else None
    from PySide6.QtCore import QPoint

    shell.tray.menu.popup(point or QPoint(1200, 30))
    pump(1.0)
    menu = shell.tray.menu.geometry()
    shot = out / "tray-menu.png"
    x, y = max(0, menu.x() - 40), max(0, menu.y() - 10)
    subprocess.run(
        [
            "import",
            "-window",
            "root",
            "-crop",
            f"{menu.width() + 80}x{menu.height() + 20}+{x}+{y}",
            str(shot),
        ],
        check=True,
    )
    shell.tray.menu.hide()
    print(f"saved {shot}")


if __name__ == "__main__":
    raise SystemExit(main())
