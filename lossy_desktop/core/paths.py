"""Where the app keeps its data: platformdirs, overridable by --data-dir or LOSSY_DATA_DIR."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "lossy-desktop"
ENV_DATA_DIR = "LOSSY_DATA_DIR"


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir beats LOSSY_DATA_DIR beats the OS default. The folder is created (mode 0700)."""
    raw = cli_value or os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir(APP_NAME, False)
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


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
