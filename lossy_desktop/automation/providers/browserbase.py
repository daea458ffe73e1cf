"""The Browserbase provider: a cloud browser per session, the login kept in a Context.

Why the official SDK (`browserbase`, httpx-based) rather than our own client: it tracks the API
(field names, types, errors by status) and honours `BROWSERBASE_BASE_URL`, so the sandbox's fake
API stands in for tests and the demo. We turn its retries OFF for session creation: the API has
no idempotency key, and a retried create can start a second billed session.

- A Context per platform connection holds cookies and storage between sessions. Login, verify
  and keep-alive sessions persist into it; posting sessions read it without persisting (several
  may run at once, and only one session at a time should write a context).
- A session must be released (REQUEST_RELEASE) in every outcome, or it bills until its timeout.
- The connect URL (with its signing key) and the live-view URL are secrets: registered with the
  log redactor, never stored, never shown in errors.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import browserbase
from browserbase import AsyncBrowserbase

from lossy_desktop.automation.errors import (
    AUTH_REJECTED,
    BROWSER_UNAVAILABLE,
    NETWORK_ERROR,
    RATE_LIMITED,
    SCRIPT_FAILED,
    SESSION_EXPIRED,
    AutomationError,
    classify,
)
from lossy_desktop.automation.providers.base import PURPOSES, BrowserSession, ConnectionLike
from lossy_desktop.core import secrets
from lossy_desktop.core.billing import UsageRecord
from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.logs import redact, register_secret

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

    from lossy_desktop.core.settings import Settings

log = logging.getLogger("lossy.automation")

# Waits between attempts to delete a context still held by a session that is ending.
CONTEXT_BUSY_RETRIES_S = (0.5, 1.0, 2.0, 3.0, 5.0)

CONNECT_TIMEOUT_MS = 60_000
LOGIN_TIMEOUT_S = 1800  # a person logging in (2FA, a phone) gets half an hour
CHECK_TIMEOUT_S = 300  # verify / keep-alive: visit one page
HTTP_TIMEOUT_S = 30.0


def _retry_after(error: browserbase.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def api_error(error: Exception, doing: str) -> AutomationError:
    """A Browserbase SDK error as a taxonomy error. The message never carries the key."""
    if isinstance(error, AutomationError):
        return error
    if isinstance(error, browserbase.AuthenticationError | browserbase.PermissionDeniedError):
        status: int = error.status_code
        detail = _api_message(error)
        return AutomationError(
            AUTH_REJECTED,
            f"Browserbase API key rejected (HTTP {status}) while {doing}"
            + (f": {detail}" if detail else ""),
        )
    if isinstance(error, browserbase.RateLimitError):
        after = _retry_after(error)
        return AutomationError(
            RATE_LIMITED,
            f"Browserbase is rate limiting ({doing}); retry after "
            + (f"{after:g} s" if after is not None else "a while"),
            retry_after=after,
        )
    if isinstance(error, browserbase.APIConnectionError):
        return AutomationError(NETWORK_ERROR, f"could not reach Browserbase while {doing}")
    if isinstance(error, browserbase.APIStatusError):
        detail = _api_message(error)
        status = error.status_code
        if status == 409:  # the context is still used by another session: transient
            return AutomationError(
                BROWSER_UNAVAILABLE,
                f"Browserbase refused {doing} (HTTP 409): {detail}",
                retryable=True,
            )
        if status >= 500:
            return AutomationError(
                NETWORK_ERROR, f"Browserbase failed (HTTP {status}) while {doing}: {detail}"
            )
        return AutomationError(
            SCRIPT_FAILED,
            f"Browserbase refused {doing} (HTTP {status}): {detail}",
            retryable=False,
        )
    return classify(error)


def _api_message(error: browserbase.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return redact(str(body[key]))[:300]
    return redact(str(error.message))[:300]


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


class BrowserbaseProvider:
    name = "browserbase"

    # Browserbase saves a context a few seconds after its session ends; a new session on it
    # before then may miss the newest cookies. Tests against the fake set this to 0.
    context_settle_s = 3.0

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock = system_clock,
        api_key: str | None = None,
        project_id: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._api_key = api_key
        self._project_id = project_id
        self._base_url = base_url  # None: the SDK's default, or BROWSERBASE_BASE_URL

    # -- the client

    def _credentials(self) -> tuple[str, str | None]:
        key = self._api_key or secrets.get_secret(secrets.BROWSERBASE_API_KEY)
        if not key:
            raise AutomationError(
                AUTH_REJECTED,
                "No Browserbase API key is set: add it in Settings (stored in the system "
                "keyring) or set BROWSERBASE_API_KEY",
            )
        register_secret(key)
        project = self._project_id or secrets.get_secret(secrets.BROWSERBASE_PROJECT_ID)
        return key, project

    def client(self, *, max_retries: int = 2) -> AsyncBrowserbase:
        key, _project = self._credentials()
        return AsyncBrowserbase(
            api_key=key,
            base_url=self._base_url,
            max_retries=max_retries,
            timeout=HTTP_TIMEOUT_S,
        )

    def _setting(self, key: str, default: Any) -> Any:
        return self._settings.get(key) if self._settings is not None else default

    # -- the Provider interface

    async def prepare(self, connection: ConnectionLike) -> dict[str, Any]:
        if connection.browserbase_context_id:
            return {"browserbase_context_id": connection.browserbase_context_id}
        _key, project = self._credentials()
        async with self.client() as bb:
            try:
                kwargs: dict[str, Any] = {"project_id": project} if project else {}
                context = await bb.contexts.create(**kwargs)
            except Exception as error:
                raise api_error(error, "creating a context") from None
        log.info("Browserbase context %s created for %s", context.id, connection.platform)
        return {"browserbase_context_id": context.id}

    def _session_timeout(self, purpose: str) -> int:
        configured = int(self._setting("browserbase_session_timeout_s", 900))
        if purpose == "login":
            return max(configured, LOGIN_TIMEOUT_S)
        if purpose in ("verify", "keepalive"):
            return max(60, min(configured, CHECK_TIMEOUT_S))
        return configured

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
        context_id = connection.browserbase_context_id
        if not context_id:
            raise AutomationError(
                SESSION_EXPIRED,
                f"the {connection.platform} connection has no Browserbase context: "
                "connect it again",
            )
        _key, project = self._credentials()
        body: dict[str, Any] = {
            "browser_settings": {
                "context": {"id": context_id, "persist": purpose != "post"},
                "record_session": False,
                "log_session": False,
                "viewport": {"width": 1280, "height": 900},
            },
            "api_timeout": self._session_timeout(purpose),
            "user_metadata": {
                "app": "lossy-desktop",
                "platform": connection.platform,
                "purpose": purpose,
            },
        }
        if project:
            body["project_id"] = project
        region = str(self._setting("browserbase_region", ""))
        if region:
            body["region"] = region
        if detached:
            body["keep_alive"] = True  # survives this process disconnecting, until its timeout
        started_at = self._clock()
        # No retries: a retried create can start a second billed session.
        async with self.client(max_retries=0) as bb:
            try:
                created = await bb.sessions.create(**body)
            except browserbase.NotFoundError:
                raise AutomationError(
                    SESSION_EXPIRED,
                    f"the Browserbase context of the {connection.platform} connection no longer "
                    "exists: connect it again",
                ) from None
            except Exception as error:
                raise api_error(error, "starting a browser session") from None
        session_id = created.id
        connect_url = created.connect_url
        register_secret(connect_url)
        register_secret(getattr(created, "signing_key", None))
        log.info(
            "Browserbase session %s created (%s, %s)", session_id, connection.platform, purpose
        )
        try:
            browser = await playwright.chromium.connect_over_cdp(
                connect_url, timeout=CONNECT_TIMEOUT_MS
            )
        except Exception as error:
            await self._release(session_id)
            status = await self._status(session_id)
            raise AutomationError(
                BROWSER_UNAVAILABLE,
                f"could not connect to Browserbase session {session_id}"
                + (f" (status {status})" if status else "")
                + f": {type(error).__name__}",
            ) from None
        try:
            context = browser.contexts[0] if browser.contexts else await browser.new_context()
            page = context.pages[0] if context.pages else await context.new_page()
        except Exception as error:
            await self._disconnect(browser)
            await self._release(session_id)
            raise classify(error) from None
        session = BrowserSession(
            provider=self.name,
            platform=connection.platform,
            purpose=purpose,
            session_id=session_id,
            browser=browser,
            context=context,
            page=page,
            started_at=started_at,
            detached=detached,
        )
        _watch_disconnect(browser, session)
        if purpose == "login":
            await self.refresh_live_view(session)
        return session

    async def close(
        self, session: BrowserSession, *, notes_posted: int | None = None
    ) -> UsageRecord:
        await self._disconnect(session.browser)
        if session.session_id:
            await self._release(session.session_id)
        usage = UsageRecord.build(
            provider=self.name,
            platform=session.platform,
            purpose=session.purpose,
            session_id=session.session_id,
            started_at=session.started_at,
            ended_at=self._clock(),
            notes_posted=session.notes_posted if notes_posted is None else notes_posted,
        )
        session.usage = usage
        return usage

    async def detach(self, session: BrowserSession) -> None:
        if not session.detached:
            raise ValueError("only a session opened with detached=True can be detached")
        await self._disconnect(session.browser)

    async def release_login(self, connection: ConnectionLike) -> UsageRecord | None:
        session_id = connection.browserbase_session_id
        if not session_id:
            return None
        await self._release(session_id)
        info = await self._retrieve(session_id)
        now = self._clock()
        started = _epoch(getattr(info, "started_at", None)) if info else None
        ended = _epoch(getattr(info, "ended_at", None)) if info else None
        if self.context_settle_s > 0:
            await asyncio.sleep(self.context_settle_s)
        if started is None:
            return None
        return UsageRecord.build(
            provider=self.name,
            platform=connection.platform,
            purpose="login",
            session_id=session_id,
            started_at=started,
            ended_at=ended or now,
        )

    async def refresh_live_view(self, session: BrowserSession) -> str | None:
        if not session.session_id:
            return None
        try:
            async with self.client() as bb:
                live = await bb.sessions.debug(session.session_id)
        except Exception as error:
            raise api_error(error, "asking for the live view") from None
        url = live.debugger_fullscreen_url
        pages = list(getattr(live, "pages", None) or [])
        if pages:
            current = session.page.url if not session.page.is_closed() else None
            match = [p for p in pages if current and p.url == current]
            url = (match[0] if match else pages[-1]).debugger_fullscreen_url or url
        for value in (live.debugger_fullscreen_url, live.debugger_url, live.ws_url, url):
            register_secret(value)
        full = url + ("&" if "?" in url else "?") + "navbar=false"
        session.set_live_view(full)
        return full

    async def explain(self, session: BrowserSession, error: BaseException) -> AutomationError:
        if isinstance(error, AutomationError):
            return error
        classified = classify(error)
        if not (session.disconnected or classified.kind == BROWSER_UNAVAILABLE):
            return classified
        status = await self._status(session.session_id) if session.session_id else None
        if status == "TIMED_OUT":
            return AutomationError(
                BROWSER_UNAVAILABLE,
                f"the Browserbase session {session.session_id} reached its timeout "
                f"({self._session_timeout(session.purpose)} s) and was closed (TIMED_OUT)",
            )
        if status:
            return AutomationError(
                BROWSER_UNAVAILABLE,
                f"the Browserbase session {session.session_id} ended with status {status}",
            )
        return AutomationError(
            BROWSER_UNAVAILABLE,
            f"the connection to Browserbase session {session.session_id} closed",
        )

    async def forget(self, connection: ConnectionLike) -> None:
        if connection.browserbase_session_id:
            await self._release(connection.browserbase_session_id)
        context_id = connection.browserbase_context_id
        if not context_id:
            return
        async with self.client() as bb:
            # A session that just ended (released, or its connection dropped) may still hold
            # the context for a few seconds while it saves: 409 until then.
            for wait in (*CONTEXT_BUSY_RETRIES_S, None):
                try:
                    await bb.contexts.delete(context_id)
                    break
                except browserbase.NotFoundError:
                    break
                except browserbase.ConflictError as error:
                    if wait is None:
                        raise api_error(error, "deleting the context") from None
                    await asyncio.sleep(wait)
                except Exception as error:
                    raise api_error(error, "deleting the context") from None
        log.info("Browserbase context %s deleted", context_id)

    # -- helpers

    async def session_status(self, session_id: str) -> str | None:
        """The session's status (PENDING, RUNNING, ERROR, TIMED_OUT, COMPLETED), None if unknown."""
        return await self._status(session_id)

    async def _retrieve(self, session_id: str) -> Any:
        try:
            async with self.client() as bb:
                return await bb.sessions.retrieve(session_id)
        except Exception as error:
            log.warning(
                "could not read Browserbase session %s: %s", session_id, type(error).__name__
            )
            return None

    async def _status(self, session_id: str | None) -> str | None:
        if not session_id:
            return None
        info = await self._retrieve(session_id)
        status = getattr(info, "status", None) if info is not None else None
        return str(status) if status else None

    async def _release(self, session_id: str) -> None:
        """REQUEST_RELEASE; an already finished session is fine. Never raises."""
        try:
            async with self.client() as bb:
                await bb.sessions.update(session_id, status="REQUEST_RELEASE")
            log.info("Browserbase session %s released", session_id)
        except browserbase.APIStatusError as error:
            if error.status_code in (404, 409, 410):
                return
            log.warning(
                "releasing Browserbase session %s failed (HTTP %s): it bills until its timeout",
                session_id,
                error.status_code,
            )
        except Exception as error:
            log.warning(
                "releasing Browserbase session %s failed (%s): it bills until its timeout",
                session_id,
                type(error).__name__,
            )

    @staticmethod
    async def _disconnect(browser: Browser) -> None:
        try:
            await asyncio.wait_for(browser.close(), 10)
        except Exception as error:
            log.debug("disconnecting from Browserbase: %s", type(error).__name__)


def _watch_disconnect(browser: Browser, session: BrowserSession) -> None:
    def mark(_browser: Any) -> None:
        session.disconnected = True

    browser.on("disconnected", mark)
