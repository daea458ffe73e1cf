"""Connecting a platform: the user logs in, then the app checks the login.

`LoginFlow` is what the settings window's Connect dialog uses (from a worker thread: every
method blocks on the automation engine, never call them on the GUI thread):

    flow = LoginFlow(services, engine, "youtube", provider="browserbase")
    url = flow.start()         # connection awaiting_auth; a browser on the platform's home;
                               # url = its live view (a secret: show it, never log it)
    state = flow.check()       # LoginState read from the page the user is looking at
    state = flow.verify()      # reload the platform's home and check; active when logged in
    flow.finish()              # release the session (cookies saved in the context/profile)
    flow.cancel()              # give up: release, the connection stays awaiting_auth

With the local provider (and a display) the login happens in an ordinary browser window on the
connection's profile — no debugging, no automation switch, nothing injected — so there is no
live view (`start()` returns None) and no page to read while it is open. While it is open,
`check()` and `verify()` check a copy of what it has saved (`check_saved_login`: Chromium writes
new cookies within 30 s); once the user closes it (the browser then saves everything) the
profile itself is checked, headless over the pipe. `finish()` closes a window still open.
(SIGTERM makes Chromium 156 exit without saving recent cookies: the window is closed only after
its login was seen on disk.) `LoginFlow(..., headless=True)` with the local provider is a
scripted login in a headless session (`drive`).

`verify_connection` is the same check without a user: a fresh session on the stored login.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lossy_desktop.automation.chromium import has_display
from lossy_desktop.automation.errors import AutomationError, classify
from lossy_desktop.core.platforms import get_platform, home_url
from lossy_desktop.core.wording import platform_label

if TYPE_CHECKING:
    from playwright.async_api import Page, Playwright

    from lossy_desktop.automation.agents import LoginState, PlatformAgent
    from lossy_desktop.automation.chromium import ProfileBrowser
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.automation.providers import BrowserSession, Provider
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.usage import UsageRecord
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.workers")

STEP_TIMEOUT_S = 120.0
T = TypeVar("T")


class WindowClosed(AutomationError):
    """The local login window was closed before the login was there."""

    def __init__(self, label: str) -> None:
        super().__init__(
            "browser_unavailable",
            f"The browser window was closed before the login to {label} was finished.",
            retryable=False,
        )


class LoginFlow:
    def __init__(
        self,
        services: Services,
        engine: AutomationEngine,
        platform: str,
        *,
        provider: str | None = None,
        headless: bool | None = None,
    ) -> None:
        self.services = services
        self.engine = engine
        self.platform = platform
        self.provider_name = provider or services.settings.get("provider")
        self.headless = (not has_display()) if headless is None else headless
        # Local, for a person: an ordinary window on the profile (never headless: there is no
        # live view of a local browser). Local and headless: a scripted login (tests, demo).
        self.window_mode = self.provider_name == "local" and not self.headless
        self._provider: Provider | None = None
        self._session: BrowserSession | None = None
        self._window: ProfileBrowser | None = None
        self._checked_saved_at: float | None = None
        self._lock = threading.Lock()
        self.state: LoginState | None = None
        self._tabs_seen: int | None = None  # open tabs when the live view was last asked for
        self.tabs_changed = False  # a tab opened or closed since: the view needs asking again

    # -- steps -----------------------------------------------------------------------------
    def start(self) -> str | None:
        """Open the login browser on the platform's home. Returns the live-view URL."""
        from lossy_desktop.automation.providers import provider_for

        with self._lock:
            if self._session is not None:
                return self._session.live_view_url()
            if self._window is not None and self._window.alive:
                return None
            connections = self.services.connections
            connection = connections.ensure(self.platform, self.provider_name)
            self._provider = provider_for(
                connection, self.services.settings, self.services.data, clock=self.services.clock
            )
            provider = self._provider
            fields = self.engine.run(lambda _pw: provider.prepare(connection), STEP_TIMEOUT_S)
            if fields:
                connection = connections.update(self.platform, **fields)
            if self.window_mode:
                self._window = self._open_window(connection)
                log.info("login window for %s opened (local)", self.platform)
                return None
            self._session = self.engine.run(
                lambda pw: self._open(pw, provider, connection), STEP_TIMEOUT_S
            )
            self._tabs_seen = _open_tabs(self._session)
            log.info("login session for %s started (%s)", self.platform, self.provider_name)
            return self._session.live_view_url()

    async def _open(
        self, playwright: Playwright, provider: Provider, connection: ConnectionView
    ) -> BrowserSession:
        try:
            session = await provider.open(
                playwright, connection, purpose="login", headless=self.headless
            )
        except AutomationError as error:
            if error.usage is not None:  # created (billed), then failed: recorded all the same
                self._record(error.usage)
            raise
        try:
            await session.page.goto(home_url(self.platform, self.services.settings))
        except Exception:
            self._record(await provider.close(session))
            raise
        return session

    def _open_window(self, connection: ConnectionView) -> ProfileBrowser:
        """The local login window: one left open on the profile (`connections add`) is used as
        it is; else a new one on the platform's home."""
        from lossy_desktop.automation.providers.local import LocalProvider

        provider = self._provider
        assert isinstance(provider, LocalProvider)
        existing = provider.login_window(connection)
        if existing is not None and existing.alive:
            return existing
        url = home_url(self.platform, self.services.settings)
        return provider.open_login_window(connection, url)

    def _cookies_saved_at(self) -> float | None:
        connection = self.services.connections.get(self.platform)
        if connection is None or not connection.local_profile_path:
            return None
        try:
            return (Path(connection.local_profile_path) / "Default" / "Cookies").stat().st_mtime
        except OSError:
            return None

    def _check_saved_login(self) -> LoginState:
        return check_saved_login(self.services, self.engine, self.platform)

    def _check_headless(self) -> LoginState:
        """The login as a fresh headless session over the pipe sees it (the window closed)."""
        from lossy_desktop.workers.keep_alive import KeepAliveWorker

        connection = self.services.connections.require(self.platform)
        return KeepAliveWorker(self.services, self.engine).visit(connection)

    def live_view_url(self) -> str | None:
        """Ask again (a tab opened or closed): the view of the page the user is on. Raises
        browser_unavailable when the session has ended."""
        if self.window_mode:
            return None
        session, provider = self._session, self._provider
        if session is None or provider is None:
            return None
        if session.disconnected:
            raise AutomationError("browser_unavailable", "the login browser was closed")

        async def refresh(_pw: Playwright) -> str | None:
            url = await provider.refresh_live_view(session)
            self._tabs_seen = _open_tabs(session)
            self.tabs_changed = False
            return url

        return self.engine.run(refresh, STEP_TIMEOUT_S)

    def drive(self, action: Callable[[Page], Awaitable[T]]) -> T:
        """Run `action(page)` on the login page: what the user would do in the live view,
        done by a script (the demo and tests log in to the sandbox this way). Not in the local
        login window: nothing drives that one."""
        if self.window_mode:
            raise AutomationError("browser_unavailable", "the local login window is the user's")
        session = self._require_session()
        return self.engine.run(lambda _pw: action(session.page), STEP_TIMEOUT_S)

    def check(self) -> LoginState:
        """The login as the page the user is on shows it (no navigation)."""
        from lossy_desktop.automation.agents import LoginState

        if self.window_mode:
            window = self._window
            if window is None:
                raise AutomationError("browser_unavailable", "the login window is not open")
            if window.alive:
                # Still open: check what it has saved so far, when that has changed.
                saved = self._cookies_saved_at()
                if saved is None or saved == self._checked_saved_at:
                    return LoginState(logged_in=False, account=None)
                self._checked_saved_at = saved
                state = self._check_saved_login()
                if state.logged_in:
                    self._accept(state)
                return state
            self._window = None
            state = self._check_headless()
            if not state.logged_in:
                raise WindowClosed(get_platform(self.platform).label)
            self._accept(state)
            return state
        session = self._require_session()

        async def run(_pw: Playwright) -> LoginState:
            if self._tabs_seen is not None and _open_tabs(session) != self._tabs_seen:
                self.tabs_changed = True  # the view shows another page than the user's
            return await self._agent().check_login(session.page)

        state = self.engine.run(run, STEP_TIMEOUT_S)
        if state.logged_in:
            self._accept(state)
        return state

    def verify(self) -> LoginState:
        """Reload the platform's home and check the login there."""
        if self.window_mode:
            window = self._window
            if window is not None and window.alive:
                state = self._check_saved_login()
            else:
                self._window = None
                state = self._check_headless()
            if state.logged_in:
                self._accept(state)
            elif self._window is None:
                self.start()  # the window was closed: open it again, for the user to finish
            return state
        session = self._require_session()

        async def run(_pw: Playwright) -> LoginState:
            await session.page.goto(home_url(self.platform, self.services.settings))
            return await self._agent().check_login(session.page)

        state = self.engine.run(run, STEP_TIMEOUT_S)
        if state.logged_in:
            self._accept(state)
        return state

    def finish(self) -> ConnectionView | None:
        """Release the login browser (its cookies persist); the connection as it ends up."""
        self._release()
        return self.services.connections.get(self.platform)

    def cancel(self) -> None:
        self._release()

    # -- helpers ---------------------------------------------------------------------------
    def _agent(self) -> PlatformAgent:
        from lossy_desktop.automation.agents import agent_for

        return agent_for(self.platform, selectors_dir=self.services.data.selectors)

    def _accept(self, state: LoginState) -> None:
        self.state = state
        self.services.connections.mark_active(self.platform, account_name=state.account)
        log.info("%s connected", self.platform)

    def _require_session(self) -> BrowserSession:
        if self._session is None:
            raise AutomationError("browser_unavailable", "the login browser is not open")
        if self._session.disconnected:
            raise AutomationError("browser_unavailable", "the login browser was closed")
        return self._session

    def _release(self) -> None:
        with self._lock:
            session, provider = self._session, self._provider
            window, self._window = self._window, None
            self._session = None
        if window is not None:
            window.stop(STEP_TIMEOUT_S / 4)
        if session is None or provider is None:
            return
        try:
            usage = self.engine.run(lambda _pw: provider.close(session), STEP_TIMEOUT_S)
            self._record(usage)
        except Exception as exc:
            log.warning("releasing the login browser failed: %s", classify(exc))

    def _record(self, usage: UsageRecord | None) -> None:
        record_usage(self.services, usage)


def record_usage(services: Services, usage: UsageRecord | None) -> None:
    """Keep a browser session's usage (minutes, Browserbase billing); a failure is logged."""
    if usage is None:
        return
    try:
        services.usage.record(usage)
    except Exception:
        log.exception("could not record browser usage")


def _open_tabs(session: BrowserSession) -> int:
    return sum(1 for page in session.context.pages if not page.is_closed())


def check_saved_login(services: Services, engine: AutomationEngine, platform: str) -> LoginState:
    """While the local login window is open (its profile locked): check, in a headless session
    over the pipe, a copy of what the window has saved so far (Chromium writes new cookies
    within 30 s, and all of them when the window closes). Changes no connection."""
    from lossy_desktop.automation.agents import LoginState, agent_for
    from lossy_desktop.automation.providers.local import LocalProvider

    connection = services.connections.require(platform)
    provider = LocalProvider(services.data, services.settings, clock=services.clock)
    home = home_url(platform, services.settings)

    async def run(playwright: Playwright) -> LoginState:
        session = await provider.open_snapshot(playwright, connection)
        if session is None:
            return LoginState(logged_in=False, account=None)
        try:
            await session.page.goto(home)
            return await agent_for(platform, selectors_dir=services.data.selectors).check_login(
                session.page
            )
        finally:
            await provider.close(session)

    return engine.run(run, STEP_TIMEOUT_S)


def verify_connection(services: Services, engine: AutomationEngine, platform: str) -> LoginState:
    """Check a stored login with a fresh session; the connection becomes active or logged_out."""
    from lossy_desktop.workers.keep_alive import KeepAliveWorker

    connection = services.connections.get(platform)
    if connection is None:
        raise AutomationError("not_logged_in", f"{platform_label(platform)} is not connected")
    state = KeepAliveWorker(services, engine).visit(connection)
    if state.logged_in:
        services.connections.mark_active(platform, account_name=state.account)
        services.connections.mark_used(platform)
    else:
        services.connections.mark_logged_out(platform, "not logged in")
    return state


def remove_connection(
    services: Services, engine: AutomationEngine, platform: str, *, timeout_s: float = 60.0
) -> AutomationError | None:
    """Disconnect `platform` (the GUI's Disconnect and `connections remove`): end its login
    browser (a Browserbase login session, its usage kept; a local login window), delete the
    stored login (the Browserbase context, the local profile), then forget the connection.
    The connection goes even when the clean-up fails (the user asked to forget the login):
    that failure is returned (and logged), else None. No connection: nothing to do (None)."""
    from lossy_desktop.automation.providers import provider_for

    connection = services.connections.get(platform)
    if connection is None:
        return None
    provider = provider_for(connection, services.settings, services.data, clock=services.clock)
    ending = connection

    async def release(_pw: Playwright) -> UsageRecord | None:
        return await provider.release_login(ending)

    try:
        record_usage(services, engine.run(release, timeout_s))
    except Exception as error:
        log.warning("ending the %s login browser: %s", platform, classify(error))
    else:
        if connection.browserbase_session_id:  # released: not to be released again
            connection = services.connections.update(platform, browserbase_session_id=None)
    stored = connection

    async def forget(_pw: Playwright) -> None:
        await provider.forget(stored)

    problem: AutomationError | None = None
    try:
        engine.run(forget, timeout_s)
    except Exception as error:
        problem = classify(error)
        log.warning("deleting the %s login: %s", platform, problem)
    services.connections.remove(platform)
    log.info("%s connection removed", platform)
    return problem


def connect_with_login_form(
    services: Services,
    engine: AutomationEngine,
    platform: str,
    *,
    login_url: str,
    account: str,
    provider: str = "local",
) -> LoginState:
    """Connect `platform` the way a user does — LoginFlow, log in on the page, verify, release —
    with a script filling a plain login form (an `account` field and a submit button), as the
    offline sandbox's login pages have. Used by tests and benchmarks; raises when not logged in.
    """
    flow = LoginFlow(services, engine, platform, provider=provider, headless=True)
    flow.start()

    async def log_in(page: Page) -> None:
        await page.goto(login_url)
        await page.locator("input[name=account]").fill(account)
        # Wait for the form's own navigation: its answer sets the login cookie (a navigation
        # started before it arrives would drop it).
        async with page.expect_navigation():
            await page.locator("form [type=submit]").first.click()

    try:
        flow.drive(log_in)
        state = flow.verify()
    except BaseException:
        flow.cancel()
        raise
    flow.finish()
    if not state.logged_in:
        raise AutomationError("not_logged_in", f"could not log in to {platform} at {login_url}")
    return state
