"""Packaging metadata and the Linux install/uninstall scripts (against a stand-in bundle; the
real frozen bundle is built and smoke-tested by scripts/package-smoke.sh in CI)."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RES = ROOT / "resources"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_desktop_file_is_valid():
    out = subprocess.run(
        ["desktop-file-validate", str(RES / "lossy-desktop.desktop")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "error" not in out.stdout, out.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream")
def test_appstream_metainfo_is_valid():
    out = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(RES / "io.lossy.Desktop.metainfo.xml")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ico_and_icns_hold_every_size():
    ico = (RES / "icons" / "lossy-desktop.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1)
    sizes = sorted(ico[6 + 16 * i] or 256 for i in range(count))
    assert sizes == [16, 24, 32, 48, 64, 128, 256]
    icns = (RES / "icons" / "lossy-desktop.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    kinds, offset = [], 8
    while offset < len(icns):
        kinds.append(icns[offset : offset + 4].decode())
        offset += struct.unpack(">I", icns[offset + 4 : offset + 8])[0]
    assert {"icp4", "ic07", "ic08", "ic09", "ic10"} <= set(kinds)


def _fake_release(tmp: Path) -> Path:
    """A release folder laid out like scripts/build.sh's, with a shell script as the 'app'."""
    rel = tmp / "release"
    (rel / "lossy-desktop" / "_internal").mkdir(parents=True)
    app = rel / "lossy-desktop" / "lossy-desktop"
    app.write_text('#!/bin/sh\necho "fake lossy-desktop $*"\n')
    app.chmod(app.stat().st_mode | stat.S_IXUSR)
    for name in ("install.sh", "uninstall.sh"):
        shutil.copy(ROOT / "packaging" / "linux" / name, rel / name)
    for name in ("lossy-desktop.desktop", "io.lossy.Desktop.metainfo.xml"):
        shutil.copy(RES / name, rel / name)
    (rel / "icons").mkdir()
    for size in (16, 48, 256):
        shutil.copy(RES / "icons" / f"app-{size}.png", rel / "icons")
    shutil.copy(RES / "icons" / "app.svg", rel / "icons")
    (rel / "VERSION").write_text("9.9.9\n")
    return rel


def _sh(script: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    return subprocess.run(
        ["sh", str(script), *args], capture_output=True, text=True, env=env, cwd=home, timeout=60
    )


def test_install_then_uninstall_for_the_user(tmp_path: Path):
    rel = _fake_release(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    data = home / ".local" / "share" / "lossy-desktop"
    data.mkdir(parents=True)
    (data / "lossy.sqlite3").write_text("notes")

    result = _sh(rel / "install.sh", home)
    assert result.returncode == 0, result.stderr
    launcher = home / ".local" / "bin" / "lossy-desktop"
    out = subprocess.run([str(launcher), "--self-test"], capture_output=True, text=True)
    assert out.stdout.strip() == "fake lossy-desktop --self-test"
    desktop = (home / ".local/share/applications/lossy-desktop.desktop").read_text()
    assert f"Exec={launcher} %U" in desktop
    assert (home / ".local/share/icons/hicolor/256x256/apps/io.lossy.Desktop.png").is_file()
    assert (home / ".local/share/icons/hicolor/scalable/apps/io.lossy.Desktop.svg").is_file()
    assert (home / ".local/share/metainfo/io.lossy.Desktop.metainfo.xml").is_file()

    # Reinstalling replaces the app in place.
    (rel / "lossy-desktop" / "_internal" / "new-file").write_text("v2")
    assert _sh(rel / "install.sh", home).returncode == 0
    assert (home / ".local/opt/lossy-desktop/_internal/new-file").read_text() == "v2"
    assert not (home / ".local/opt/lossy-desktop.old").exists()

    result = _sh(home / ".local/opt/lossy-desktop/uninstall.sh", home)
    assert result.returncode == 0, result.stderr
    assert not launcher.exists() and not launcher.is_symlink()
    assert not (home / ".local/opt/lossy-desktop").exists()
    assert not (home / ".local/share/applications/lossy-desktop.desktop").exists()
    assert not list((home / ".local/share/icons").rglob("io.lossy.Desktop.*"))
    # The user's notes are kept.
    assert (data / "lossy.sqlite3").read_text() == "notes"


def test_install_refuses_a_folder_without_the_app(tmp_path: Path):
    rel = _fake_release(tmp_path)
    shutil.rmtree(rel / "lossy-desktop")
    home = tmp_path / "home"
    home.mkdir()
    result = _sh(rel / "install.sh", home)
    assert result.returncode == 1
    assert "run this script from the unpacked release folder" in result.stderr
    assert not (home / ".local" / "opt").exists()


def test_uninstall_leaves_a_foreign_launcher_alone(tmp_path: Path):
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    other = home / ".local" / "bin" / "lossy-desktop"
    other.write_text("#!/bin/sh\n")
    result = _sh(ROOT / "packaging" / "linux" / "uninstall.sh", home)
    assert result.returncode == 0, result.stderr
    assert other.exists()
    assert os.access(ROOT / "scripts" / "build.sh", os.X_OK)
