"""Issue 10, supply chain: the app's lock and the tools' lock are separate, every package in them
is pinned to one version with the sha256 of its files, and the bootstrap installs them with
hash checking (pip refuses any file whose hash is not listed)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _entries(path: Path) -> dict[str, list[str]]:
    """name → its hashes, for every requirement in a lock file."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line[0].isspace():
            match = ENTRY.match(line)
            assert match, f"{path.name}: not pinned with ==: {line!r}"
            current = _norm(match.group(1))
            assert current not in found, f"{path.name}: {current} twice"
            found[current] = []
        else:
            assert current is not None
            found[current] += re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
    return found


def _names(requirements: list[str]) -> set[str]:
    return {_norm(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}


def test_app_and_tools_are_locked_apart_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    app = _entries(ROOT / "requirements.lock")
    dev = _entries(ROOT / "requirements-dev.lock")
    for name, hashes in {**app, **dev}.items():
        assert hashes, f"{name} has no hash"
    assert _names(project["dependencies"]) <= set(app)
    assert {"setuptools", "wheel"} <= set(app)  # the bootstrap installs the app without isolation
    tools = _names(project["optional-dependencies"]["dev"])
    assert tools <= set(dev)
    assert not tools & set(app), "test/build tools leaked into the app's lock"
    assert not set(app) & set(dev), "a package is in both locks"
    # Platform-specific wheels: every file of the pinned version, not only this machine's.
    assert len(app["pyside6-essentials"]) >= 3
    assert "pywin32-ctypes" in app  # keyring's Windows dependency, under a marker


def test_bootstrap_installs_with_require_hashes() -> None:
    script = (ROOT / "scripts" / "bootstrap.sh").read_text()
    installs = [
        line for line in script.splitlines() if "pip install" in line and "lock" in line.lower()
    ]
    assert installs and all("--require-hashes" in line for line in installs)
    assert "requirements-dev.lock" in script
