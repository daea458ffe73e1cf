"""Crash: `lossy-desktop post --until-idle` (a subprocess with its own data folder) posts notes
over 10 sandbox videos on the three platforms while the test kills it with SIGKILL at random
moments and starts it again. At the end every note is on the sandbox exactly once, posted, none
left `posting`, and no browser of a killed process survives.

CI: 100 notes, 5 kills. LOSSY_RELIABILITY_FULL=1: 200 notes, 20 kills."""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from fixtures import connect_on_sandbox
from reliability_helpers import kill_all, live_browsers, main_browsers, report, size

from lossy_desktop.automation.chromium import BrowserNotFound, find_browser
from lossy_desktop.automation.engine import AutomationEngine
from lossy_desktop.core.notes import validate_note
from lossy_desktop.core.wording import (
    POSTING_STEPS,
    STEP_CONFIRMING,
    STEP_SEEKING,
    STEP_SUBMITTING,
    STEP_TYPING,
)
from lossy_desktop.services import Services

try:
    find_browser()
except BrowserNotFound:
    pytest.skip("no Chromium installed", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

ACCOUNT = "Crash Tester"
VIDEOS = [("youtube", f"crashY{i}") for i in range(4)]
VIDEOS += [("vimeo", f"crashV{i}") for i in range(3)]
VIDEOS += [("air", f"crashA{i}") for i in range(3)]
ARGS = ("--until-idle", "--timeout", "900")
# Progress lines printed while a note is on its way to the platform (not the fan-out of
# "started" / "starting browser" lines every job of a batch prints at once).
# The CLI's progress lines say each step in the words of core/wording.py.
BUSY = re.compile(
    "step ("
    + "|".join(
        re.escape(POSTING_STEPS[s])
        for s in (STEP_SEEKING, STEP_TYPING, STEP_SUBMITTING, STEP_CONFIRMING)
    )
    + r")|: completed"
)
MARK = re.compile(r"crash-note-(\d{4})\b")


class PostProcess:
    """One `lossy-desktop post --until-idle` run; its output lines arrive on a queue."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lossy_desktop", "--data-dir", str(data_dir), "post", *ARGS],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.write(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_lines(self, count: int, timeout: float) -> int:
        """Wait for `count` BUSY progress lines (or the end); how many came."""
        seen = 0
        deadline = time.monotonic() + timeout
        while seen < count:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if BUSY.search(line):
                seen += 1
        return seen

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.reader.join(10)
        self.log.close()

    def finish(self, timeout: float) -> int:
        rc = self.proc.wait(timeout)
        self.reader.join(10)
        self.log.close()
        return rc


def test_sigkill_while_posting_loses_nothing_and_posts_nothing_twice(
    data_dir: Path, sandbox, tmp_path: Path
) -> None:
    n_notes = size(100, 200)
    n_kills = size(5, 20)
    rng = random.Random(int(os.environ.get("LOSSY_RELIABILITY_SEED", "20260")))
    started = time.monotonic()

    with Services.open(data_dir) as services:
        services.settings.set("platform_base", sandbox.base_url)
        services.settings.set("automation_rate_allowed", 1000)
        services.settings.set("comment_interval_s", 0)  # crash safety, not pacing
        with AutomationEngine() as engine:
            for platform in ("youtube", "vimeo", "air"):
                connect_on_sandbox(services, engine, sandbox, platform, ACCOUNT)
        for platform, video in VIDEOS:
            sandbox.set_video(platform, video, duration=4000)
        expected: dict[int, int] = {}
        for i in range(n_notes):
            platform, video = VIDEOS[i % len(VIDEOS)]
            fields = {
                "platform": platform,
                "video_url": sandbox.video_url(platform, video),
                "timestamp_seconds": 5 + (i * 37) % 3500,
                "text": f"crash-note-{i:04d} check the cut here",
                "confidence": 0.95,
            }
            view = services.notes.create(validate_note(fields, services.settings))
            assert view.queued
            expected[i] = view.id

    log_path = tmp_path / "post-runs.log"
    kills = 0
    runs = 0
    orphans_after_kill = 0
    posted_before_kill: list[int] = []
    interrupted_states: Counter[str] = Counter()
    try:
        while kills < n_kills:
            runs += 1
            with Services.open(data_dir) as services:
                left = sum(v.status != "posted" for v in services.notes.list())
            run = PostProcess(data_dir, log_path)
            # A random moment while notes are on their way: after a random number of BUSY lines
            # (5 per note: seeking, typing, submitting, confirming, completed) spread so the
            # kills fall across the whole run, plus up to 0.4 s.
            target = rng.randint(1, max(1, 5 * left // (n_kills - kills + 1)))
            got = run.wait_lines(target, timeout=180)
            if got < target and run.proc.poll() is not None:
                run.finish(30)
                break  # it finished before this kill: every note is done
            threading.Event().wait(rng.uniform(0.0, 0.4))
            run.kill()
            kills += 1
            orphans_after_kill += len(main_browsers(data_dir / "profiles"))
            with Services.open(data_dir) as services:
                views = services.notes.list()
                posted_before_kill.append(sum(v.status == "posted" for v in views))
                interrupted_states.update(v.status for v in views if v.status == "posting")
        runs += 1
        final = PostProcess(data_dir, log_path)
        rc = final.finish(900)
    finally:
        leftovers = live_browsers(data_dir / "profiles")
        described = [_describe(p) for p in leftovers][:10]
        kill_all(leftovers)
    elapsed = time.monotonic() - started

    comments = sandbox.comments()
    per_note = Counter(int(m.group(1)) for c in comments if (m := MARK.search(c["text"])))
    duplicates = {i: n for i, n in per_note.items() if n > 1}
    missing = [i for i in expected if per_note[i] == 0]
    with Services.open(data_dir) as services:
        views = {v.id: v for v in services.notes.list()}
    statuses = Counter(v.status for v in views.values())
    log_text = "".join(
        p.read_text(encoding="utf-8", errors="replace") for p in (data_dir / "logs").glob("*.log*")
    )
    # A kill between "submit" and "save": the next run found the comment and recorded it.
    found_on_page = log_text.count("is already on the page")
    figures = {
        "notes": n_notes,
        "videos": len(VIDEOS),
        "kills": kills,
        "runs": runs,
        "final_exit_code": rc,
        "comments_on_sandbox": len(comments),
        "duplicates": len(duplicates),
        "missing": len(missing),
        "note_statuses": dict(statuses),
        "notes_left_posting_at_kills": interrupted_states.get("posting", 0),
        "posted_when_killed": posted_before_kill,
        "found_already_on_the_page_after_a_kill": found_on_page,
        "orphan_browsers_seen_after_kills": orphans_after_kill,
        "browsers_left_at_end": len(leftovers),
        "leftover_processes": described,
        "seconds": round(elapsed, 1),
    }
    report("crash", figures, tmp_path)
    log_tail = log_path.read_text(encoding="utf-8")[-3000:]
    assert kills == n_kills, f"the posting finished after {kills} kills\n{log_tail}"
    assert rc == 0, log_tail
    assert not duplicates, duplicates
    assert not missing, missing
    assert statuses == Counter({"posted": n_notes}), statuses
    by_mark = {int(m.group(1)): c for c in comments if (m := MARK.search(c["text"]))}
    for i, note_id in expected.items():
        assert views[note_id].external_comment_id == by_mark[i]["id"]
    assert all(c["author"] == ACCOUNT for c in comments)
    assert leftovers == [], "a browser survived the runs"


def _describe(proc) -> str:  # type: ignore[no-untyped-def]
    try:
        cmd = proc.info.get("cmdline") or []
        kind = next((a for a in cmd if a.startswith("--type=")), "browser")
        return f"pid {proc.pid} ppid {proc.ppid()} {kind} {proc.status()}"
    except Exception as error:
        return f"pid {proc.pid}: {error}"
