"""The Browserbase key through a real Secret Service: gnome-keyring in a D-Bus session the test
starts (stored by one process, read back by another, never in a plain file); and with no
keyring backend, the clear message naming BROWSERBASE_API_KEY."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_helpers import REPO, report

from lossy_desktop.core import secrets
from lossy_desktop.core.errors import SecretStoreUnavailable

KEY = "bb_live_keyring-reliability-7f3a9c2e51d04b8a"

STORE = """
import json, sys, time
from lossy_desktop.core import secrets
deadline = time.monotonic() + 30
while not secrets.keyring_available():  # the daemon registers on the bus shortly after start
    if time.monotonic() > deadline:
        sys.exit("no keyring backend appeared: " + secrets.backend_name())
    time.sleep(0.05)
secrets.set_secret(secrets.BROWSERBASE_API_KEY, sys.argv[1])
print(json.dumps({"backend": secrets.backend_name()}))
"""
READ = """
import json
from lossy_desktop.core import secrets
print(json.dumps({"backend": secrets.backend_name(),
                  "key": secrets.get_secret(secrets.BROWSERBASE_API_KEY)}))
"""


def test_key_is_stored_and_read_through_a_real_secret_service(tmp_path: Path) -> None:
    missing = [c for c in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(c)]
    if missing:
        pytest.skip(
            f"needs {' and '.join(missing)} (Debian: apt-get install gnome-keyring dbus-x11)"
        )
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_KEYRING_BACKEND",)}
    env.pop("BROWSERBASE_API_KEY", None)
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(home), PYTHONPATH=str(REPO))
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    (tmp_path / "store.py").write_text(STORE)
    (tmp_path / "read.py").write_text(READ)
    py = sys.executable
    script = (
        "printf keyring-pass | gnome-keyring-daemon --foreground --unlock --components=secrets "
        ">/dev/null 2>&1 & daemon=$!; "
        f'"{py}" store.py "$1" && "{py}" read.py; rc=$?; '
        'kill "$daemon"; wait "$daemon" 2>/dev/null; exit $rc'
    )
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script, "sh", KEY],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    stored, read = lines
    assert stored["backend"] == "SecretService" and read["backend"] == "SecretService"
    assert read["key"] == KEY  # a second process read it from the daemon
    plain = [p for p in home.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert plain == []  # the keyring file is encrypted: the key is nowhere in plain text
    report(
        "keyring",
        {"backend": read["backend"], "stored_and_read_by_another_process": True,
         "plaintext_copies_found": len(plain)},
        tmp_path,
    )  # fmt: skip


def test_without_a_keyring_the_message_names_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # tests/conftest.py selects keyring's fail backend: no OS keyring here.
    monkeypatch.delenv("BROWSERBASE_API_KEY", raising=False)
    assert not secrets.keyring_available()
    with pytest.raises(SecretStoreUnavailable) as info:
        secrets.set_secret(secrets.BROWSERBASE_API_KEY, KEY)
    message = str(info.value)
    assert "BROWSERBASE_API_KEY" in message and "No system keyring" in message
    assert KEY not in message
    assert info.value.exit_code == 11
    assert secrets.get_secret(secrets.BROWSERBASE_API_KEY) is None
    monkeypatch.setenv("BROWSERBASE_API_KEY", KEY)  # the way out the message offers
    assert secrets.get_secret(secrets.BROWSERBASE_API_KEY) == KEY
