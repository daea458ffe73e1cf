"""Secrets never leak: a full Browserbase login and posting against the sandbox's fake API with
a known key, then the database (and its -wal/-shm), the logs, the settings, crash files,
screenshots/traces and the command lines of every child process (sampled while the sessions
run) are searched for the key, every connect URL's signing key and every live-view token."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from reliability_helpers import kill_all, live_browsers, report

from lossy_desktop.automation.chromium import BrowserNotFound, find_browser
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.core.notes import validate_note
from lossy_desktop.sandbox.server import SandboxServer
from lossy_desktop.services import Services
from lossy_desktop.workers.connect import LoginFlow

try:
    find_browser()
except BrowserNotFound:
    pytest.skip("no Chromium installed", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

KEY = "bb_live_LEAKCHECK-3c1e9a7f5b2d4e6f8a0b"
ACCOUNT = "Secret Keeper"


class CmdlineWatch:
    """Samples the command lines of every descendant of this process until stopped."""

    def __init__(self, data_dir: Path) -> None:
        self.wal = data_dir / "lossy.sqlite3-wal"
        self.wal_snapshots: dict[int, bytes] = {}  # by size: the WAL while it is alive
        self.cmdlines: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for proc in me.children(recursive=True):
                try:
                    self.cmdlines.setdefault(proc.pid, " ".join(proc.cmdline()))
                except psutil.Error:
                    continue
            try:
                blob = self.wal.read_bytes()
                if blob and len(self.wal_snapshots) < 200:
                    self.wal_snapshots.setdefault(len(blob), blob)
            except OSError:
                pass
            self._stop.wait(0.05)

    def __enter__(self) -> CmdlineWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_no_secret_reaches_disk_logs_or_command_lines(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxServer(port=0, browserbase_api_key=KEY) as sandbox:
        monkeypatch.setenv("BROWSERBASE_API_KEY", KEY)
        monkeypatch.setenv("BROWSERBASE_BASE_URL", sandbox.base_url)
        live_views: list[str] = []
        with CmdlineWatch(data_dir) as watch:
            with Services.open(data_dir, verbose=True) as services, AutomationEngine() as engine:
                services.settings.set("platform_base", sandbox.base_url)
                services.settings.set("provider", "browserbase")
                services.settings.set("automation_rate_allowed", 1000)
                services.settings.set("comment_interval_s", 0)
                flow = LoginFlow(services, engine, "youtube", provider="browserbase")
                live_views.append(flow.start() or "")

                async def log_in(page) -> None:  # type: ignore[no-untyped-def]
                    await page.goto(sandbox.login_url("youtube"))
                    await page.locator("input[name=account]").fill(ACCOUNT)
                    # wait for the form's own navigation (its answer sets the login cookie)
                    async with page.expect_navigation():
                        await page.locator("form [type=submit]").first.click()

                flow.drive(log_in)
                live_views.append(flow.live_view_url() or "")
                assert flow.verify().logged_in
                flow.finish()
                for i in range(4):
                    fields = {
                        "platform": "youtube",
                        "video_url": sandbox.video_url("youtube", f"sec{i % 2}"),
                        "timestamp_seconds": 10 + i,
                        "text": f"secret check {i}",
                        "confidence": 0.9,
                    }
                    services.notes.create(validate_note(fields, services.settings))
                # one that fails on a changed page: a screenshot/trace artifact is written
                sandbox.set_fault("youtube", "changed_selectors", video_id="secFail",
                                  variant="ids_and_roles")  # fmt: skip
                failing = {
                    "platform": "youtube",
                    "video_url": sandbox.video_url("youtube", "secFail"),
                    "timestamp_seconds": 5,
                    "text": "secret check artifact",
                    "confidence": 0.9,
                }
                services.notes.create(validate_note(failing, services.settings))
            post = subprocess.run(
                [sys.executable, "-m", "lossy_desktop", "--data-dir", str(data_dir), "-v",
                 "post", "--until-idle", "--timeout", "600"],
                capture_output=True, text=True, timeout=700, env=dict(os.environ),
            )  # fmt: skip
        bb = sandbox.browserbase
        assert bb is not None
        sessions = list(bb.sessions.values())
        signing = [s.signing_key for s in sessions]
        tokens = [s.live_token for s in sessions]
        posted = len(sandbox.comments("youtube"))
    leftovers = live_browsers(data_dir)
    kill_all(leftovers)

    secrets = {"api key": KEY}
    secrets.update({f"signing key {n}": k for n, k in enumerate(signing)})
    secrets.update({f"live view token {n}": t for n, t in enumerate(tokens)})
    needles = {}
    for name, value in secrets.items():
        for variant in {value, quote(value, safe=""), quote(quote(value, safe=""), safe="")}:
            needles[variant.encode()] = name

    files = [p for p in data_dir.rglob("*") if p.is_file()]
    kinds = {
        "database": [p for p in files if p.name.startswith("lossy.sqlite3")],
        "logs": [p for p in files if "logs" in p.parts],
        "artifacts (screenshots/traces)": [p for p in files if "artifacts" in p.parts],
        "backups": [p for p in files if "backups" in p.parts],
    }

    def leaks(blob: bytes, where: str) -> list[str]:
        return [f"{name} in {where}" for n, name in needles.items() if n in blob]

    # the search itself finds a planted secret (so an empty result means something)
    assert leaks(b"..." + quote(signing[-1], safe="").encode() + b"...", "a probe")
    found: list[str] = []
    for path in files:
        found += leaks(path.read_bytes(), str(path.relative_to(data_dir)))
    for size, blob in watch.wal_snapshots.items():
        found += leaks(blob, f"the -wal file ({size} bytes, while running)")
    outputs = {"post stdout": post.stdout, "post stderr": post.stderr}
    for label, text in outputs.items():
        found += [f"{name} in {label}" for n, name in needles.items() if n.decode() in text]
    for pid, cmdline in watch.cmdlines.items():
        found += [f"{name} in the command line of pid {pid}" for n, name in needles.items()
                  if n.decode() in cmdline]  # fmt: skip
    figures = {
        "browserbase_sessions": len(sessions),
        "secrets_searched": len(secrets),
        "files_searched": len(files),
        "files_by_kind": {k: len(v) for k, v in kinds.items()},
        "child_command_lines_sampled": len(watch.cmdlines),
        "wal_snapshots_searched": len(watch.wal_snapshots),
        "comments_posted": posted,
        "post_exit_code": post.returncode,
        "live_view_urls_seen_by_the_app": sum(1 for v in live_views if v),
        "leaks": found,
    }
    report("secrets", figures, tmp_path)
    assert posted == 4, post.stdout[-2000:] + post.stderr[-2000:]
    assert post.returncode == 1  # the changed-page note failed, as arranged
    assert kinds["database"] and kinds["logs"] and kinds["artifacts (screenshots/traces)"]
    assert len(sessions) >= 3 and all(signing) and all(tokens)
    assert any(live_views)  # the live view existed (and carried a token) during the login
    assert len(watch.cmdlines) >= 2  # the posting process and the browsers were sampled
    assert watch.wal_snapshots  # the -wal was searched while it existed
    assert found == [], found
    assert leftovers == []
