"""Small flags the app remembers between runs (the app_state table): "tray hint shown",
window geometry and the like. JSON values, never secrets."""

from __future__ import annotations

import logging
from typing import Any

from lossy_desktop.core.db import Database
from lossy_desktop.core.models import AppState

log = logging.getLogger("lossy.core")


class AppStateService:
    """get/set/delete of JSON values by key. Keys are at most 64 characters."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str, default: Any = None) -> Any:
        with self._db.read() as session:
            row = session.get(AppState, key)
            return default if row is None else row.value

    def set(self, key: str, value: Any) -> None:
        if not key or len(key) > 64:
            raise ValueError("app state keys are 1 to 64 characters")
        with self._db.write() as session:
            row = session.get(AppState, key)
            if row is None:
                session.add(AppState(key=key, value=value))
            else:
                row.value = value

    def delete(self, key: str) -> None:
        with self._db.write() as session:
            row = session.get(AppState, key)
            if row is not None:
                session.delete(row)
