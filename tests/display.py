"""A virtual X display for tests that need real windows (login windows, the tray)."""

from __future__ import annotations

import os
import subprocess

import pytest


def start_xvfb(screen: str = "1600x1000x24") -> tuple[subprocess.Popen[bytes], str]:
    """An Xvfb on a free display number (it tells which); the process and ":N"."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    return proc, f":{number}"
