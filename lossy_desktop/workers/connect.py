"""Connecting a platform: a login session the user drives through the live view, then a check.

`LoginFlow` is what the settings window's Connect dialog uses (from a worker thread: every
method blocks on the automation engine, never call them on the GUI thread):

    flow = LoginFlow(services, engine, "youtube", provider="local")
    url = flow.start()         # connection awaiting_auth; a browser on the platform's home;
                               # url = its live view (a secret: show it, never log it)
    state = flow.check()       # LoginState read from the page the user is looking at
    state = flow.verify()      # reload the platform's home and check; active when logged in
    flow.finish()              # release the session (cookies saved in the context/profile)
    flow.cancel()              # give up: release, the connection stays awaiting_auth

`verify_connection` is the same check without a user: a fresh session on the stored login.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from lossy_desktop.automation.errors import AutomationError, classify
from lossy_desktop.core.platforms import home_url

if TYPE_CHECKING:
    from playwright.async_api import Page, Playwright

    from lossy_desktop.automation.agents import LoginState, PlatformAgent
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.automation.providers import BrowserSession, Provider
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.usage import UsageRecord
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.workers")

STEP_TIMEOUT_S = 120.0
T = TypeVar("T")


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


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
        self.provider_name = provider or str(services.settings.get("provider"))
        # Headed where there's a screen (the user may prefer the real window); headless
        # otherwise — the live view (DevTools screencast / Browserbase's) shows it either way.
        self.headless = (not has_display()) if headless is None else headless
        self._provider: Provider | None = None
        self._session: BrowserSession | None = None
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
            connections = self.services.connections
            connection = connections.ensure(self.platform, self.provider_name)
            self._provider = provider_for(
                connection, self.services.settings, self.services.data, clock=self.services.clock
            )
            provider = self._provider
            fields = self.engine.run(lambda _pw: provider.prepare(connection), STEP_TIMEOUT_S)
            if fields:
                connection = connections.update(self.platform, **fields)
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

    def live_view_url(self) -> str | None:
        """Ask again (a tab opened or closed): the view of the page the user is on. Raises
        browser_unavailable when the session has ended."""
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
        done by a script (the demo and tests log in to the sandbox this way)."""
        session = self._require_session()
        return self.engine.run(lambda _pw: action(session.page), STEP_TIMEOUT_S)

    def check(self) -> LoginState:
        """The login as the page the user is on shows it (no navigation)."""
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
            self._session = None
        if session is None or provider is None:
            return
        try:
            usage = self.engine.run(lambda _pw: provider.close(session), STEP_TIMEOUT_S)
            self._record(usage)
        except Exception as exc:
            log.warning("releasing the login browser failed: %s", classify(exc))

    def _record(self, usage: UsageRecord) -> None:
        try:
            self.services.usage.record(usage)
        except Exception:
            log.exception("could not record browser usage")


def _open_tabs(session: BrowserSession) -> int:
    return sum(1 for page in session.context.pages if not page.is_closed())


def verify_connection(services: Services, engine: AutomationEngine, platform: str) -> LoginState:
    """Check a stored login with a fresh session; the connection becomes active or logged_out."""
    from lossy_desktop.workers.keep_alive import KeepAliveWorker

    connection = services.connections.get(platform)
    if connection is None:
        raise AutomationError("not_logged_in", f"{platform} is not connected")
    state = KeepAliveWorker(services, engine).visit(connection)
    if state.logged_in:
        services.connections.mark_active(platform, account_name=state.account)
        services.connections.mark_used(platform)
    else:
        services.connections.mark_logged_out(platform, "not logged in")
    return state


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
