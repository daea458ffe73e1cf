"""A skip fails a strict run (CI, scripts/test.sh) unless it is on the allow-list."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from strict_skips import ALLOWED_SKIPS, allowed, strict

TESTS = Path(__file__).resolve().parent
# Plugins the probe does not need are left out: each run starts faster.
PYTEST_ARGS = [
    "-q",
    "-rs",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:pytest-qt",
    "-p",
    "no:hypothesispytest",
]

PROBE = """
import pytest

def test_runs():
    assert True

def test_skips():
    pytest.skip("no frobnicator installed")
"""
MODULE_SKIP = """
import pytest
pytest.skip("no Chromium installed", allow_module_level=True)

def test_never_runs():
    assert False
"""
CONFTEST = """
from strict_skips import (  # noqa: F401
    pytest_collectreport,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)
"""


def _run(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "LOSSY_STRICT_SKIPS")}
    clean.update(env, PYTHONPATH=os.pathsep.join([str(TESTS), clean.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", *PYTEST_ARGS, str(folder)],
        cwd=folder,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_probe.py").write_text(PROBE)
    return tmp_path


def test_a_skip_passes_outside_a_strict_run(probe: Path) -> None:
    result = _run(probe)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout


@pytest.mark.parametrize("env", [{"LOSSY_STRICT_SKIPS": "1"}, {"CI": "1"}])
def test_a_skip_fails_a_strict_run(probe: Path, env: dict[str, str]) -> None:
    result = _run(probe, **env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout
    assert "skipped in a strict run" in result.stdout and "no frobnicator" in result.stdout


@pytest.mark.parametrize(
    ("ci", "flag", "expected"),
    [
        (None, None, False),
        ("1", None, True),
        ("true", None, True),
        (None, "1", True),
        ("1", "0", False),  # LOSSY_STRICT_SKIPS=0 wins over CI
        ("false", None, False),
    ],
)
def test_when_a_run_is_strict(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, flag: str | None, expected: bool
) -> None:
    for name, value in (("CI", ci), ("LOSSY_STRICT_SKIPS", flag)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert strict() is expected


def test_a_module_skipped_whole_fails_a_strict_run(probe: Path) -> None:
    (probe / "test_probe.py").write_text("def test_runs():\n    assert True\n")
    (probe / "test_module.py").write_text(MODULE_SKIP)
    assert _run(probe).returncode == 0
    result = _run(probe, LOSSY_STRICT_SKIPS="1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped modules" in result.stdout and "no Chromium installed" in result.stdout


def test_the_allow_list_matches_only_its_test_and_reason() -> None:
    assert ALLOWED_SKIPS and all(entry.why for entry in ALLOWED_SKIPS)
    test = "tests/test_db.py::test_read_only_file_gives_clear_message"
    assert allowed(test, "root ignores file permissions") is not None
    assert allowed(test, "no Chromium installed") is None
    assert allowed("tests/test_db.py::test_other", "root ignores file permissions") is None
