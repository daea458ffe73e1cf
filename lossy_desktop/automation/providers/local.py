"""The local provider: this computer's Chromium/Chrome/Edge, one profile folder per connection.

The login is kept in the profile folder (cookies, local storage), so it survives restarts
like a normal browser's. Posting runs headless; a login is headed where there is a display,
and its live view is Chromium's own DevTools front end (the inspector URL) everywhere.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossy_desktop.automation.chromium import (
    BrowserNotFound,
    BrowserStartFailed,
    ChromiumProcess,
    ProfileInUse,
    find_browser,
    has_display,
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

CONNECT_TIMEOUT_MS = 30_000


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
        configured = str(self._settings.get("browser_path")) if self._settings else ""
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
        profile = self.profile_dir(connection)
        started_at = self._clock()
        owned = False
        # A login browser left running on this profile (the command line's `connections add`)
        # holds the live login: use it rather than fail on its profile lock.
        proc = await asyncio.to_thread(ChromiumProcess.attach, profile)
        if proc is not None and proc.orphaned:
            # Left running by an app process that was killed or crashed mid-session: its pages
            # may be half-way through a post. Stop it and start clean.
            log.warning(
                "stopping browser pid %s on profile %s: the process that started it is gone",
                proc.pid,
                profile,
            )
            await asyncio.to_thread(proc.stop, 10.0)
            proc = None
        if proc is None:
            show = not headless and has_display()
            try:
                exe = self._browser()
                proc = await asyncio.to_thread(
                    ChromiumProcess.start,
                    profile,
                    headless=not show,
                    executable=exe,
                    extra_args=self._extra_args,
                    detached=detached,
                )
            except BrowserNotFound as error:
                raise AutomationError(BROWSER_UNAVAILABLE, str(error), retryable=False) from None
            except ProfileInUse as error:
                raise AutomationError(BROWSER_UNAVAILABLE, str(error), retryable=True) from None
            except BrowserStartFailed as error:
                raise AutomationError(BROWSER_UNAVAILABLE, str(error)) from None
            owned = True
        else:
            log.info("using the browser already running on profile %s (pid %s)", profile, proc.pid)
        try:
            browser = await playwright.chromium.connect_over_cdp(
                proc.browser_ws_url, timeout=CONNECT_TIMEOUT_MS
            )
        except Exception as error:
            if owned and not detached:
                await asyncio.to_thread(proc.stop, 5.0)
            raise AutomationError(
                BROWSER_UNAVAILABLE, f"could not connect to the local browser ({error})"
            ) from None
        context = browser.contexts[0] if browser.contexts else await browser.new_context()
        page = context.pages[0] if context.pages else await context.new_page()
        session = BrowserSession(
            provider=self.name,
            platform=connection.platform,
            purpose=purpose,
            session_id=f"local-{proc.pid}",
            browser=browser,
            context=context,
            page=page,
            started_at=started_at,
            detached=detached,
            extra={"process": proc, "owned": owned},
        )
        _watch_disconnect(browser, session)
        await self._update_live_view(session)
        return session

    async def close(
        self, session: BrowserSession, *, notes_posted: int | None = None
    ) -> UsageRecord:
        proc: ChromiumProcess = session.extra["process"]
        try:
            await asyncio.wait_for(session.browser.close(), 10)
        except Exception as error:
            log.debug("disconnecting from the local browser: %s", type(error).__name__)
        # We stop what we started (and a login browser once its session is closed); a browser
        # that was already running for a detached login is left to release_login().
        if session.extra.get("owned") or session.purpose == "login":
            try:
                await asyncio.to_thread(proc.stop, 10.0)
            except Exception:
                log.exception("stopping the local browser pid %s failed", proc.pid)
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
        try:
            await asyncio.wait_for(session.browser.close(), 10)
        except Exception as error:
            log.debug("disconnecting from the local browser: %s", type(error).__name__)

    async def release_login(self, connection: ConnectionLike) -> UsageRecord | None:
        proc = await asyncio.to_thread(ChromiumProcess.attach, self.profile_dir(connection))
        if proc is None:
            return None
        await asyncio.to_thread(proc.stop, 10.0)
        return None  # its start time is not known here; a local browser costs nothing

    async def refresh_live_view(self, session: BrowserSession) -> str | None:
        pages = [p for p in session.context.pages if not p.is_closed()]
        if pages:
            session.page = pages[-1] if session.page.is_closed() else session.page
        await self._update_live_view(session, newest=True)
        return session.live_view_url()

    async def _update_live_view(self, session: BrowserSession, newest: bool = False) -> None:
        proc: ChromiumProcess = session.extra["process"]
        pages = [p for p in session.context.pages if not p.is_closed()]
        page = pages[-1] if (newest and pages) else session.page
        try:
            cdp = await session.context.new_cdp_session(page)
            try:
                info = await cdp.send("Target.getTargetInfo")
            finally:
                await cdp.detach()
            session.set_live_view(proc.inspector_url(str(info["targetInfo"]["targetId"])))
        except Exception as error:
            log.debug("no live view for the local page: %s", type(error).__name__)

    async def explain(self, session: BrowserSession, error: BaseException) -> AutomationError:
        if isinstance(error, AutomationError):
            return error
        proc: ChromiumProcess = session.extra["process"]
        if session.disconnected or not proc.alive:
            state = "exited" if not proc.alive else "closed the connection"
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


def stop_orphaned_browsers(profiles: Iterable[Path]) -> int:
    """Start-up: stop browsers that an app process killed or crashed mid-session left running
    on these profile folders (detached login browsers stay). How many were stopped."""
    stopped = 0
    for profile in profiles:
        if not profile.is_dir():
            continue
        proc = ChromiumProcess.attach(profile)
        if proc is not None and proc.orphaned:
            log.warning(
                "stopping browser pid %s left running on %s by a killed app", proc.pid, profile
            )
            proc.stop(10.0)
            stopped += 1
    return stopped


def _watch_disconnect(browser: Browser, session: BrowserSession) -> None:
    def mark(_browser: Any) -> None:
        session.disconnected = True

    browser.on("disconnected", mark)
