"""Platform connections: one per platform, the login the browser keeps for it.

Status: awaiting_auth (created, the user has not logged in yet) -> active (login verified) ->
expired / logged_out (a posting or keep-alive found the login gone) -> active again after the
user reconnects. Only identifiers are stored (Browserbase context and session ids, the local
profile folder): never a key, a connect URL or a live-view URL.

Listeners (`add_listener`) get the new ConnectionView after every committed change; the
composition root uses it to queue the notes held for a reconnect.
"""

from __future__ import annotations

import builtins
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.errors import NotFoundError, ValidationError
from lossy_desktop.core.models import CONNECTION_STATUSES, PROVIDERS, PlatformConnection
from lossy_desktop.core.paths import DataDir
from lossy_desktop.core.platforms import get_platform

log = logging.getLogger("lossy.core")

UPDATABLE = (
    "provider",
    "browserbase_context_id",
    "browserbase_session_id",
    "local_profile_path",
    "account_name",
)
MAX_ID = 200
MAX_ERROR = 2_000
# Shapes that mean someone is trying to store a secret in an identifier field.
_SECRET_MARKERS = ("://", "signingkey", "token=", "apikey", "api_key", "bb_live_", "bb_test_")


@dataclass(frozen=True)
class ConnectionView:
    id: int
    platform: str
    provider: str
    status: str
    browserbase_context_id: str | None
    browserbase_session_id: str | None
    local_profile_path: str | None
    account_name: str | None
    last_used_at: float | None
    verified_at: float | None
    error: str | None
    removed: bool = False  # set on the last view listeners get after `remove`

    @property
    def active(self) -> bool:
        return self.status == "active" and not self.removed


def _view(row: PlatformConnection) -> ConnectionView:
    return ConnectionView(
        id=row.id,
        platform=row.platform,
        provider=row.provider,
        status=row.status,
        browserbase_context_id=row.browserbase_context_id,
        browserbase_session_id=row.browserbase_session_id,
        local_profile_path=row.local_profile_path,
        account_name=row.account_name,
        last_used_at=row.last_used_at,
        verified_at=row.verified_at,
        error=row.error,
    )


def _check_identifier(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty text or None")
    text: str = value.strip()
    if len(text) > MAX_ID:
        raise ValidationError(field, f"is longer than {MAX_ID} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise ValidationError(field, "contains spaces or control characters")
    lowered = text.lower()
    if any(marker in lowered for marker in _SECRET_MARKERS):
        raise ValidationError(field, "looks like a URL or a secret; store only the id")
    return text


def _check_error(error: Any) -> str:
    text = str(error or "").strip() or "no details"
    from lossy_desktop.core.logs import redact

    text = redact(text)
    return text[: MAX_ERROR - 1] + "…" if len(text) > MAX_ERROR else text


class ConnectionService:
    """Reads and changes platform connections. Thread-safe (one transaction per call)."""

    def __init__(self, db: Database, data: DataDir, *, clock: Clock = system_clock) -> None:
        self._db = db
        self._data = data
        self._clock = clock
        self._listeners: list[Callable[[ConnectionView], None]] = []
        self._lock = threading.Lock()

    def add_listener(self, cb: Callable[[ConnectionView], None]) -> None:
        """`cb(view)` after every committed change, on the thread that made it."""
        with self._lock:
            self._listeners.append(cb)

    def _notify(self, view: ConnectionView) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for cb in listeners:
            try:
                cb(view)
            except Exception:
                log.exception("a connection listener failed")

    # -- reading -----------------------------------------------------------------------------
    def get(self, platform: str) -> ConnectionView | None:
        get_platform(platform)
        with self._db.read() as session:
            row = session.scalar(
                select(PlatformConnection).where(PlatformConnection.platform == platform)
            )
            return None if row is None else _view(row)

    def require(self, platform: str) -> ConnectionView:
        view = self.get(platform)
        if view is None:
            raise NotFoundError(f"{get_platform(platform).label} is not connected")
        return view

    def list(self) -> builtins.list[ConnectionView]:
        with self._db.read() as session:
            rows = session.scalars(select(PlatformConnection).order_by(PlatformConnection.id))
            return [_view(row) for row in rows]

    def idle_since(self, days: float) -> builtins.list[ConnectionView]:
        """Active connections not used (nor verified) for at least `days` days."""
        if days < 0:
            raise ValidationError("days", "must be 0 or more")
        cutoff = self._clock() - days * 86400.0
        with self._db.read() as session:
            rows = session.scalars(
                select(PlatformConnection)
                .where(PlatformConnection.status == "active")
                .order_by(PlatformConnection.id)
            )
            return [
                _view(row)
                for row in rows
                if max(row.last_used_at or 0.0, row.verified_at or 0.0, 0.0) <= cutoff
            ]

    # -- changing ----------------------------------------------------------------------------
    def profile_dir(self, platform: str) -> Path:
        """The local Chromium profile folder of a platform (created, mode 0700)."""
        get_platform(platform)
        path = self._data.profiles / platform
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def ensure(self, platform: str, provider: str) -> ConnectionView:
        """The platform's connection, created if missing, on `provider`, awaiting a login
        unless already active. A local connection gets its own profile folder."""
        get_platform(platform)
        if provider not in PROVIDERS:
            raise ValidationError("provider", f"must be one of {', '.join(PROVIDERS)}")
        profile = str(self.profile_dir(platform)) if provider == "local" else None
        now = self._clock()
        with self._db.write() as session:
            row = session.scalar(
                select(PlatformConnection).where(PlatformConnection.platform == platform)
            )
            if row is None:
                row = PlatformConnection(
                    platform=platform,
                    provider=provider,
                    status="awaiting_auth",
                    local_profile_path=profile,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
            else:
                if row.provider != provider:
                    # A login lives in one provider's browser: switching means logging in again.
                    row.provider = provider
                    row.status = "awaiting_auth"
                    row.browserbase_session_id = None
                    row.account_name = None
                    row.verified_at = None
                elif row.status != "active":
                    row.status = "awaiting_auth"
                if provider == "local" and not row.local_profile_path:
                    row.local_profile_path = profile
                row.updated_at = now
            session.flush()
            view = _view(row)
        log.info("%s connection ensured (%s, %s)", platform, provider, view.status)
        self._notify(view)
        return view

    def _change(self, platform: str, **values: Any) -> ConnectionView:
        get_platform(platform)
        with self._db.write() as session:
            row = session.scalar(
                select(PlatformConnection).where(PlatformConnection.platform == platform)
            )
            if row is None:
                raise NotFoundError(f"{get_platform(platform).label} is not connected")
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = self._clock()
            session.flush()
            view = _view(row)
        self._notify(view)
        return view

    def update(self, platform: str, **fields: Any) -> ConnectionView:
        """Change identifiers (never secrets): provider, browserbase_context_id,
        browserbase_session_id, local_profile_path, account_name."""
        values: dict[str, Any] = {}
        for key, value in fields.items():
            if key not in UPDATABLE:
                raise ValidationError(key, f"can't be changed here (only {', '.join(UPDATABLE)})")
            if key == "provider":
                if value not in PROVIDERS:
                    raise ValidationError("provider", f"must be one of {', '.join(PROVIDERS)}")
                values[key] = value
            elif key == "local_profile_path":
                values[key] = None if value is None else str(Path(value))
            elif key == "account_name":
                values[key] = None if value is None else _check_error(value)[:MAX_ID]
            else:
                values[key] = _check_identifier(key, value)
        return self._change(platform, **values)

    def set_status(self, platform: str, status: str, *, error: str | None = None) -> ConnectionView:
        if status not in CONNECTION_STATUSES:
            raise ValidationError("status", f"must be one of {', '.join(CONNECTION_STATUSES)}")
        if status == "active":
            return self.mark_active(platform)
        return self._change(
            platform, status=status, error=None if error is None else _check_error(error)
        )

    def mark_active(self, platform: str, *, account_name: str | None = None) -> ConnectionView:
        """The login was verified. Listeners then queue the notes held for it."""
        now = self._clock()
        values: dict[str, Any] = {"status": "active", "verified_at": now, "error": None}
        if account_name is not None:
            values["account_name"] = _check_error(account_name)[:MAX_ID]
        view = self._change(platform, **values)
        log.info("%s connection active", platform)
        return view

    def mark_expired(self, platform: str, error: str) -> ConnectionView:
        log.warning("%s connection expired", platform)
        return self._change(platform, status="expired", error=_check_error(error))

    def mark_logged_out(self, platform: str, error: str) -> ConnectionView:
        log.warning("%s connection logged out", platform)
        return self._change(platform, status="logged_out", error=_check_error(error))

    def mark_used(self, platform: str) -> ConnectionView:
        return self._change(platform, last_used_at=self._clock())

    def remove(self, platform: str) -> None:
        """Forget the connection; a local one's profile folder (its login) is deleted too."""
        get_platform(platform)
        with self._db.write() as session:
            row = session.scalar(
                select(PlatformConnection).where(PlatformConnection.platform == platform)
            )
            if row is None:
                raise NotFoundError(f"{get_platform(platform).label} is not connected")
            view = _view(row)
            session.delete(row)
        if view.local_profile_path:
            self._remove_profile(Path(view.local_profile_path))
        log.info("%s connection removed", platform)
        self._notify(replace(view, removed=True))

    def _remove_profile(self, path: Path) -> None:
        root = self._data.profiles.resolve()
        try:
            resolved = path.resolve()
        except OSError:
            return
        if resolved == root or root not in resolved.parents:
            log.warning("not deleting %s: it is outside the profiles folder", path)
            return
        shutil.rmtree(resolved, ignore_errors=True)
