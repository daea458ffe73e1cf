"""The README's data folder: where it is (--data-dir > LOSSY_DATA_DIR > the OS's per-user
folder), and its rotating, redacted log in logs/lossy.log."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
from pathlib import Path

import pytest

from lossy_desktop.cli import main
from lossy_desktop.core.logs import register_secret
from lossy_desktop.services import Services


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("LOSSY_DATA_DIR", raising=False)
    return {
        "flag": tmp_path / "from-flag",
        "env": tmp_path / "from-env",
        "os": home / ".local" / "share" / "lossy-desktop",
    }


def _holding_a_database(places: dict[str, Path]) -> list[str]:
    return sorted(name for name, p in places.items() if (p / "lossy.sqlite3").exists())


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [(True, True, "flag"), (True, False, "flag"), (False, True, "env"), (False, False, "os")],
)
def test_data_folder_order(
    places: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flag: bool,
    env: bool,
    expected: str,
) -> None:
    if env:
        monkeypatch.setenv("LOSSY_DATA_DIR", str(places["env"]))
    argv = ["--data-dir", str(places["flag"])] if flag else []
    assert main([*argv, "notes", "list", "--json"]) == 0
    capsys.readouterr()
    assert _holding_a_database(places) == [expected]
    root = places[expected]
    assert stat.S_IMODE(os.stat(root / "lossy.sqlite3").st_mode) == 0o600
    assert (root / "logs" / "lossy.log").exists()


def test_the_log_rotates_in_logs_and_keeps_secrets_out(data_dir: Path) -> None:
    secret = "sk-log-rotation-secret-0123456789"
    with Services.open(data_dir) as services:
        handler = next(
            h
            for h in logging.getLogger("lossy").handlers
            if isinstance(h, logging.handlers.RotatingFileHandler)
        )
        log_file = services.data.logs / "lossy.log"
        assert Path(handler.baseFilename) == log_file
        limit, keep = handler.maxBytes, handler.backupCount
        assert limit > 0 and keep > 0
        register_secret(secret)
        log = logging.getLogger("lossy.core")
        line = "x" * 9_000
        for i in range((limit + limit // 5) // len(line)):  # a fifth over one file's limit
            log.info("filler %d %s key=%s", i, line, secret)
        handler.flush()
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["lossy.log", "lossy.log.1"]  # rotated once, at the real size limit
    for name in files:
        path = log_file.parent / name
        assert path.stat().st_size <= limit
        assert secret not in path.read_text(encoding="utf-8")
