"""The local provider: this computer's Chromium/Chrome/Edge, one profile folder per connection.

The login is kept in the profile folder (cookies, local storage), so it survives restarts
like a normal browser's. Sessions (posting, verify, keep-alive, a scripted login) drive the
browser through a pipe, headless, never over a TCP debugging port (chromium.launch_persistent).
A person logs in in an ordinary browser window on the profile (`open_login_window`): no
debugging, no automation; the login is checked afterwards in a headless session. There is no
live view of a local browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossy_desktop.automation.chromium import (
    SNAPSHOT_PREFIX,
    BrowserNotFound,
    BrowserStartFailed,
    LoginWindow,
    PipeBrowser,
    ProfileBrowser,
    ProfileInUse,
    find_browser,
    has_display,
    launch_persistent,
    snapshot_login,
)
from lossy_desktop.automation.errors import BROWSER_UNAVAILABLE, AutomationError, classify
from lossy_desktop.automation.providers.base import PURPOSES, BrowserSession, ConnectionLike
from lossy_desktop.core.billing import UsageRecord
from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.paths import DataDir

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

    from lossy_desktop.core.settings import Settings

log = logging.getLogger("lossy.automation")

START_TIMEOUT_S = 30.0


class LocalProvider:
    name = "local"

    def __init__(
        self,
        data: DataDir,
        settings: Settings | None = None,
        *,
        clock: Clock = system_clock,
        executable: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self._data = data
        self._settings = settings
        self._clock = clock
        self._executable = executable
        self._extra_args = extra_args

    # -- where things are

    def profile_dir(self, connection: ConnectionLike) -> Path:
        if connection.local_profile_path:
            return Path(connection.local_profile_path)
        return self._data.profiles / connection.platform

    def _browser(self) -> Path:
        if self._executable is not None:
            return self._executable
        configured = self._settings.get("browser_path") if self._settings else ""
        return find_browser(configured or None)

    # -- the Provider interface

    async def prepare(self, connection: ConnectionLike) -> dict[str, Any]:
        path = self.profile_dir(connection)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return {"local_profile_path": str(path)}

    async def open(
        self,
        playwright: Playwright,
        connection: ConnectionLike,
        *,
        purpose: str,
        headless: bool = True,
        detached: bool = False,
    ) -> BrowserSession:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown session purpose {purpose!r} (use {', '.join(PURPOSES)})")
        if detached:
            raise ValueError(
                "a local browser is driven through a pipe and cannot outlive this process; "
                "a person logs in with open_login_window()"
            )
        profile = self.profile_dir(connection)
        started_at = self._clock()
        await asyncio.to_thread(stop_orphan, profile)
        show = not headless and has_display()
        with _starting_browser():
            exe = self._browser()
            pipe = await launch_persistent(
                playwright,
                profile,
                headless=not show,
                executable=exe,
                extra_args=self._extra_args,
                timeout=START_TIMEOUT_S,
            )
        context = pipe.context
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            browser = context.browser
            if browser is None:
                raise AutomationError(BROWSER_UNAVAILABLE, "the local browser has no handle")
        except BaseException:
            await pipe.close(5.0)
            raise
        session = BrowserSession(
            provider=self.name,
            platform=connection.platform,
            purpose=purpose,
            session_id=f"local-{pipe.pid}",
            browser=browser,
            context=context,
            page=page,
            started_at=started_at,
            extra={"pipe": pipe},
        )
        _watch_disconnect(browser, session)
        return session

    async def open_snapshot(
        self, playwright: Playwright, connection: ConnectionLike
    ) -> BrowserSession | None:
        """A headless session on a copy of what the open login window has saved so far (the
        window keeps the profile locked). None when it has saved nothing yet. Closing the
        session deletes the copy."""
        snapshot = await asyncio.to_thread(snapshot_login, self.profile_dir(connection))
        if snapshot is None:
            return None
        copy = _OnProfile(connection.platform, str(snapshot))
        try:
            session = await self.open(playwright, copy, purpose="verify")
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, snapshot, True)
            raise
        session.extra["snapshot"] = snapshot
        return session

    async def close(
        self, session: BrowserSession, *, notes_posted: int | None = None
    ) -> UsageRecord:
        pipe: PipeBrowser = session.extra["pipe"]
        try:
            await pipe.close(10.0)
        except Exception:
            log.exception("stopping the local browser pid %s failed", pipe.pid)
        if "snapshot" in session.extra:
            await asyncio.to_thread(shutil.rmtree, session.extra["snapshot"], True)
        usage = UsageRecord.build(
            provider=self.name,
            platform=session.platform,
            purpose=session.purpose,
            session_id=None,
            started_at=session.started_at,
            ended_at=self._clock(),
            notes_posted=session.notes_posted if notes_posted is None else notes_posted,
        )
        session.usage = usage
        return usage

    async def detach(self, session: BrowserSession) -> None:
        raise ValueError("a local session cannot be detached (it is driven through a pipe)")

    # -- the login window

    def open_login_window(
        self, connection: ConnectionLike, url: str, *, detached: bool = False
    ) -> LoginWindow:
        """An ordinary browser window on the connection's profile, showing `url`, for the user
        to log in (blocking: call off the event loop). `detached`: it outlives this process
        (the command line). Raises AutomationError (browser_unavailable) when it can't open."""
        profile = self.profile_dir(connection)
        stop_orphan(profile)
        with _starting_browser():
            return LoginWindow.open(
                profile,
                url,
                executable=self._browser(),
                extra_args=self._extra_args,
                detached=detached,
                timeout=START_TIMEOUT_S,
            )

    def login_window(self, connection: ConnectionLike) -> ProfileBrowser | None:
        """The login window open on the connection's profile (from `connections add` or the
        app), if any."""
        found = ProfileBrowser.find(self.profile_dir(connection))
        return found if found is not None and found.is_login_window else None

    async def release_login(self, connection: ConnectionLike) -> UsageRecord | None:
        """Close the login window on this connection's profile, if one is open (gracefully:
        the browser writes its cookies to the profile). Sessions of other processes are left
        alone."""
        window = await asyncio.to_thread(self.login_window, connection)
        if window is not None:
            await asyncio.to_thread(window.stop, 10.0)
        return None  # a local browser costs nothing

    async def refresh_live_view(self, session: BrowserSession) -> str | None:
        return None  # a local browser has no live view: the login is an ordinary window

    async def explain(self, session: BrowserSession, error: BaseException) -> AutomationError:
        if isinstance(error, AutomationError):
            return error
        pipe: PipeBrowser = session.extra["pipe"]
        if session.disconnected or not pipe.alive:
            state = "exited" if not pipe.alive else "closed the connection"
            return AutomationError(
                BROWSER_UNAVAILABLE, f"the local browser {state} during {session.purpose}"
            )
        return classify(error)

    async def forget(self, connection: ConnectionLike) -> None:
        profile = self.profile_dir(connection)
        await self.release_login(connection)
        root = self._data.profiles.resolve()
        target = profile.resolve()
        if target == root or root not in target.parents:
            log.warning("not deleting profile %s: it is outside the data folder", profile)
            return
        await asyncio.to_thread(shutil.rmtree, target, True)
        log.info("deleted browser profile %s", target)


@dataclass(frozen=True)
class _OnProfile:
    """A connection's fields pointing at another profile folder (a snapshot)."""

    platform: str
    local_profile_path: str | None
    provider: str = "local"
    browserbase_context_id: str | None = None
    browserbase_session_id: str | None = None


def stop_orphan(profile: Path) -> bool:
    """Stop the browser on `profile` if an app process that was killed or crashed mid-session
    left it running (its pages may be half-way through a post). True when one was stopped."""
    if not profile.is_dir():
        return False
    proc = ProfileBrowser.find(profile)
    if proc is None or not proc.orphaned:
        return False
    log.warning("stopping browser pid %s left running on %s by a killed app", proc.pid, profile)
    proc.stop(10.0)
    return True


def stop_orphaned_browsers(profiles: Iterable[Path]) -> int:
    """Start-up: stop browsers that an app process killed or crashed mid-session left running
    on these profile folders (detached login browsers stay). How many were stopped."""
    stopped = sum(1 for profile in profiles if stop_orphan(profile))
    for profile in profiles:
        if profile.name.startswith(SNAPSHOT_PREFIX) and ProfileBrowser.find(profile) is None:
            # A login check's copy left by a killed app: it holds cookies.
            shutil.rmtree(profile, ignore_errors=True)
    return stopped


def _watch_disconnect(browser: Browser, session: BrowserSession) -> None:
    def mark(_browser: Any) -> None:
        session.disconnected = True

    browser.on("disconnected", mark)


@contextlib.contextmanager
def _starting_browser() -> Iterator[None]:
    """A browser that can't be started is browser_unavailable: none installed (not retried), its
    profile in use by another browser (retried), or it failed to start (backoff)."""
    try:
        yield
    except BrowserNotFound as error:
        raise AutomationError(BROWSER_UNAVAILABLE, str(error), retryable=False) from None
    except ProfileInUse as error:
        raise AutomationError(BROWSER_UNAVAILABLE, str(error), retryable=True) from None
    except BrowserStartFailed as error:
        raise AutomationError(BROWSER_UNAVAILABLE, str(error)) from None
