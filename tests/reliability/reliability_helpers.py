"""Shared helpers of the reliability tests: figures, live browser processes. (Connecting a
platform in the sandbox: tests/fixtures.py.)"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

FULL = os.environ.get("LOSSY_RELIABILITY_FULL", "") not in ("", "0")
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = 1000 if FULL else 60  # hypothesis examples per property (times a per-test factor)
FIGURES_DIR = Path(os.environ.get("LOSSY_RELIABILITY_OUT", REPO / "bench" / "out"))


def size(ci: int, full: int) -> int:
    return full if FULL else ci


def report(name: str, figures: dict[str, Any], tmp_dir: Path | None = None) -> None:
    """Print the figures (visible with -s and in the captured output of a failure) and write
    them as JSON to bench/out/reliability-<name>[-full].json (and the test's tmp dir)."""
    record = {"test": name, "full": FULL, "at": time.time(), **figures}
    text = json.dumps(record, indent=2, sort_keys=True, default=str)
    print(f"\n[reliability] {name}: {text}")
    suffix = "-full" if FULL else ""
    targets = [FIGURES_DIR / f"reliability-{name}{suffix}.json"]
    if tmp_dir is not None:
        targets.append(tmp_dir / f"reliability-{name}.json")
    for target in targets:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text + "\n", encoding="utf-8")
        except OSError:
            pass


def live_browsers(under: Path) -> list[psutil.Process]:
    """Live (not zombie) processes whose --user-data-dir is inside `under`."""
    prefix = f"--user-data-dir={under.resolve()}"
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
            mine = any(arg.startswith(prefix) for arg in cmdline)
            if mine and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def main_browsers(under: Path) -> list[psutil.Process]:
    """The browser processes themselves (not their renderers/helpers) among live_browsers."""
    return [
        p
        for p in live_browsers(under)
        if not any(a.startswith("--type=") for a in (p.info.get("cmdline") or []))
    ]


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def kill_all(procs: list[psutil.Process]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=5)
