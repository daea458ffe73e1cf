"""What every browser provider offers, and what an agent gets: a `BrowserSession`.

Both providers end in the same place: `playwright.chromium.connect_over_cdp(...)`, then the
browser's first context (`browser.contexts[0]`) and its first page. The rest of the app never
knows whether the browser runs on this computer or in Browserbase's cloud.

    provider = provider_for(connection, settings, data_dir)
    async with session_scope(provider, playwright, connection, purpose="post") as session:
        await agent.post(session.page, notes)
        session.notes_posted = 3
    usage = session.usage          # a UsageRecord for the workers to store

A session is released in every outcome (the body raising included); a failure of the browser
connection is explained (Browserbase: the session's status, e.g. TIMED_OUT) as an
AutomationError.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from lossy_desktop.automation.errors import AutomationError, classify
from lossy_desktop.core.billing import UsageRecord
from lossy_desktop.core.logs import register_secret

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

log = logging.getLogger("lossy.automation")

PURPOSES = ("login", "verify", "post", "keepalive", "retract")


@runtime_checkable
class ConnectionLike(Protocol):
    """The fields of a platform connection a provider reads (core's ConnectionView has them)."""

    @property
    def platform(self) -> str: ...

    @property
    def provider(self) -> str: ...

    @property
    def browserbase_context_id(self) -> str | None: ...

    @property
    def browserbase_session_id(self) -> str | None: ...

    @property
    def local_profile_path(self) -> str | None: ...


@dataclass(eq=False)
class BrowserSession:
    """One connected browser, ready for an agent: `page` is where it works."""

    provider: str
    platform: str
    purpose: str
    session_id: str | None
    browser: Browser
    context: BrowserContext
    page: Page
    started_at: float
    detached: bool = False
    notes_posted: int = 0
    usage: UsageRecord | None = None
    disconnected: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # provider-specific handles
    _live_view: str | None = field(default=None, repr=False)

    def live_view_url(self) -> str | None:
        """The URL that shows (and lets the user drive) this browser. A secret: never log it."""
        return self._live_view

    def set_live_view(self, url: str | None) -> None:
        register_secret(url)
        self._live_view = url

    def __repr__(self) -> str:  # never the live view
        return (
            f"<BrowserSession {self.provider} {self.platform} {self.purpose} id={self.session_id}>"
        )


class Provider(Protocol):
    name: str

    async def prepare(self, connection: ConnectionLike) -> dict[str, Any]:
        """Set up what the connection needs (a Browserbase context, a profile folder); returns
        the fields to store on the connection (browserbase_context_id / local_profile_path)."""
        ...

    async def open(
        self,
        playwright: Playwright,
        connection: ConnectionLike,
        *,
        purpose: str,
        headless: bool = True,
        detached: bool = False,
    ) -> BrowserSession:
        """A connected browser session for `purpose` (login, verify, post, keepalive).

        `detached`: a login that outlives this process (the command line): the browser keeps
        running after `detach()`, until `release_login()` ends it."""
        ...

    async def close(
        self, session: BrowserSession, *, notes_posted: int | None = None
    ) -> UsageRecord:
        """Disconnect and release the browser, in every outcome. Never raises."""
        ...

    async def detach(self, session: BrowserSession) -> None:
        """Disconnect Playwright but leave a detached login browser running for the user."""
        ...

    async def release_login(self, connection: ConnectionLike) -> UsageRecord | None:
        """End a detached login browser left running for this connection (if any)."""
        ...

    async def refresh_live_view(self, session: BrowserSession) -> str | None:
        """Ask again for the live view (a tab opened or closed); updates the session's."""
        ...

    async def explain(self, session: BrowserSession, error: BaseException) -> AutomationError:
        """The taxonomy error for a failure inside the session (a closed transport is named)."""
        ...

    async def forget(self, connection: ConnectionLike) -> None:
        """Delete what prepare() made (the Browserbase context / the local profile)."""
        ...


@asynccontextmanager
async def session_scope(
    provider: Provider,
    playwright: Playwright,
    connection: ConnectionLike,
    *,
    purpose: str,
    headless: bool = True,
    on_usage: Callable[[UsageRecord], None] | None = None,
) -> AsyncIterator[BrowserSession]:
    """Open a session, yield it, and release it whatever happens.

    An exception from the body comes out as an AutomationError (the provider explains a closed
    browser connection). The usage record lands on `session.usage` and goes to `on_usage`.
    """
    try:
        session = await provider.open(playwright, connection, purpose=purpose, headless=headless)
    except AutomationError as error:
        # A session was created (and billed) before the failure: its usage is recorded too.
        if error.usage is not None and on_usage is not None:
            try:
                on_usage(error.usage)
            except Exception:
                log.exception("recording browser usage failed")
        raise

    async def finish() -> None:
        usage = await provider.close(session)
        if on_usage is not None:
            try:
                on_usage(usage)
            except Exception:
                log.exception("recording browser usage failed")

    try:
        yield session
    except Exception as error:
        try:
            explained = await provider.explain(session, error)
        except Exception:
            explained = classify(error)
        await finish()
        if explained is error:
            raise
        raise explained from error
    except BaseException:
        await finish()
        raise
    else:
        await finish()
