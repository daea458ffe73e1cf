"""Where the app keeps its data: platformdirs, overridable by --data-dir or LOSSY_DATA_DIR.

The data folder holds the notes, logs, database backups, failure screenshots of logged-in pages
and the local browsers' profiles (with their login cookies): other local users must not read
any of it. At start-up the process's umask becomes 0077 (everything it creates is its user's
only), the data folder and every folder in it are set to 0700 (also one that already existed
with looser modes), and the files already in logs/, backups/ and artifacts/ to 0600. Files with
secrets in them are also created 0600 outright (`open_private`), not created and then chmod'ed.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import platformdirs

APP_NAME = "lossy-desktop"
ENV_DATA_DIR = "LOSSY_DATA_DIR"
PRIVATE_UMASK = 0o077
# The app's folders inside the data folder (DataDir's), and those whose files are made 0600 at
# start-up (created so since, but maybe not by an older version).
DATA_FOLDERS = ("backups", "logs", "artifacts", "profiles")
PRIVATE_FILE_FOLDERS = ("logs", "backups", "artifacts")

log = logging.getLogger("lossy.core")


def restrict_umask() -> None:
    """Everything this process creates from now on is readable by its user only."""
    os.umask(PRIVATE_UMASK)


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir beats LOSSY_DATA_DIR beats the OS default. The folder is created (mode 0700)
    and locked down (`secure_data_dir`)."""
    restrict_umask()
    raw = cli_value or os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir(APP_NAME, False)
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    secure_data_dir(path)
    return path


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) & ~mode == 0:
            return
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    except OSError as error:
        log.warning("could not restrict %s: %s", path, error.strerror or error)


def secure_data_dir(root: Path) -> None:
    """The data folder and every folder of the app's below it 0700 (no group/other bits), the
    files in logs/, backups/ and artifacts/ 0600. Symlinks are not followed. Only the app's
    own folders are walked: a --data-dir pointed at a folder holding other things (a home
    folder) gets its own mode tightened, never the modes of everything in it."""
    _tighten(root, 0o700)
    for top in DATA_FOLDERS:
        start = root / top
        if not start.is_dir() or start.is_symlink():
            continue
        _tighten(start, 0o700)
        for folder, dirs, files in os.walk(start, followlinks=False):
            base = Path(folder)
            for name in dirs:
                _tighten(base / name, 0o700)
            if top in PRIVATE_FILE_FOLDERS:
                for name in files:
                    _tighten(base / name, 0o600)


def open_private(path: str | os.PathLike[str], flags: int = os.O_WRONLY | os.O_CREAT) -> int:
    """os.open with mode 0600 from the first instant (whatever the umask); an existing file
    is made 0600 too. Returns the descriptor."""
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    except OSError:
        pass
    return fd


def write_private(path: str | os.PathLike[str], data: bytes, *, exclusive: bool = False) -> None:
    """Write a whole file that only its user can read (0600 from the start)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (os.O_EXCL if exclusive else 0)
    with os.fdopen(open_private(path, flags), "wb") as handle:
        handle.write(data)


class DataDir:
    """The layout inside the data folder, in one place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def database(self) -> Path:
        return self.root / "lossy.sqlite3"

    @property
    def backups(self) -> Path:
        return self._sub("backups")

    @property
    def logs(self) -> Path:
        return self._sub("logs")

    @property
    def artifacts(self) -> Path:
        """Screenshots and traces of failed posting attempts."""
        return self._sub("artifacts")

    @property
    def profiles(self) -> Path:
        """Local Chromium profile folders, one per platform connection."""
        return self._sub("profiles")

    @property
    def selectors(self) -> Path:
        """The user's selector overrides, one `<platform>.json` per platform."""
        return self._sub("selectors")

    def _sub(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path
