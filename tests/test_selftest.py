"""`lossy-desktop --self-test`: the real run (source tree) and how results become the exit code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lossy_desktop import selftest

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(ok|FAIL|warn)\s+(\w+)\s+(.*)$")


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lossy_desktop", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=env,
        check=False,
    )


def _checks(stdout: str) -> dict[str, tuple[str, str]]:
    found = {}
    for line in stdout.splitlines():
        match = LINE.match(line)
        if match:
            found[match.group(2)] = (match.group(1), match.group(3))
    return found


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A folder with a short path. Chromium makes its singleton socket under TMPDIR and a Unix
    socket's path holds at most 107 bytes: pytest's tmp_path is too long for that on a worker
    of a parallel run (…/popen-gw0/test_…), and the browser exits at start."""
    with tempfile.TemporaryDirectory(prefix="lossy-st-") as folder:
        yield Path(folder)


@pytest.mark.browser
@pytest.mark.slow
def test_self_test_passes_on_this_installation(short_tmp: Path):
    tmp_path = short_tmp
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.pop("LOSSY_DATA_DIR", None)
    result = _run_cli("--data-dir", str(tmp_path / "data"), "--self-test", env=env)
    checks = _checks(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(checks) == selftest.CHECK_NAMES
    for name in ("python", "database", "qt", "resources", "webengine", "browser", "cdp"):
        assert checks[name][0] == "ok", (name, checks[name])
    assert checks["database"][1].startswith("temporary database migrated to ")
    assert "platform offscreen" in checks["qt"][1]
    # No keyring here: that is reported as a warning and does not fail the run.
    assert checks["keyring"][0] == "warn"
    assert "keyring.backends.fail" in checks["keyring"][1]
    assert result.stdout.rstrip().splitlines()[-1].startswith("self-test passed:")
    # It worked in a temporary folder: nothing left behind; no data folder opened, even a given one.
    assert not list(tmp_path.glob("lossy-selftest-*"))
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / ".local" / "share" / "lossy-desktop").exists()


def test_required_failure_fails_the_run_and_optional_one_only_warns(monkeypatch):
    def broken(ctx: selftest.Context) -> str:
        raise selftest.Failed("the widget is missing")

    def crashes(ctx: selftest.Context) -> str:
        raise RuntimeError("boom\nsecond line")

    def fine(ctx: selftest.Context) -> str:
        return "all good"

    lines: list[str] = []
    monkeypatch.setattr(
        selftest,
        "CHECKS",
        [("fine", fine, True), ("optional", broken, False), ("crashy", crashes, True)],
    )
    code = selftest.run(out=lines.append)
    checks = _checks("\n".join(lines))
    assert code == 1
    assert checks["fine"] == ("ok", "all good")
    assert checks["optional"] == ("warn", "the widget is missing")
    assert checks["crashy"] == ("FAIL", "RuntimeError: boom second line")
    assert lines[-1] == "self-test FAILED: 1 ok, 1 failed, 1 warnings"

    lines.clear()
    monkeypatch.setattr(selftest, "CHECKS", [("fine", fine, True), ("optional", broken, False)])
    assert selftest.run(out=lines.append) == 0
    assert lines[-1] == "self-test passed: 1 ok, 0 failed, 1 warnings"


def test_missing_browser_is_a_clear_failure(monkeypatch, tmp_path: Path):
    from lossy_desktop.automation import chromium

    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find on PATH
    monkeypatch.setattr(chromium, "candidate_paths", lambda: [tmp_path / "no-such-browser"])
    lines: list[str] = []
    code = selftest.run(only=["browser", "cdp"], out=lines.append)
    checks = _checks("\n".join(lines))
    assert code == 1
    assert checks["browser"][0] == "FAIL"
    assert "No Chromium, Google Chrome or Microsoft Edge was found" in checks["browser"][1]
    assert "Browserbase" in checks["browser"][1]
    assert checks["cdp"] == ("FAIL", "skipped: no browser found")


def test_self_test_leaves_no_temporary_folder(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert selftest.run(only=["database"], out=lambda _line: None) == 0
    assert list(tmp_path.iterdir()) == []
