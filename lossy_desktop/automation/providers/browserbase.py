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
- Plans (docs.browserbase.com): a Free session lives at most 15 minutes and keepAlive is refused.
  The plan is the `browserbase_plan` setting, or learned from the API's refusal (then the create
  is made again asking for less — a refused create made nothing); we never ask for more than it
  allows, and messages name the limit.
- Release is asynchronous: a persisting session saves its context only after it has ended.
  Every release here waits (bounded) for the session's final status, and after a persisting one
  a settle delay, so the next session on the context finds the newest login — for every caller.
- 429 (browsers at once, or creates per minute) is `browser_capacity`: wait `retry-after`.
- Nothing that creates is retried blindly (sessions.create and contexts.create run with the
  SDK's retries off). Sessions carry `userMetadata` {app, client, platform, purpose}: sessions
  this install created and never released (a crash, a create that timed out after the server
  made it) are found at start-up with `sessions.list(q=...)` and released.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import socket
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import browserbase
from browserbase import AsyncBrowserbase

from lossy_desktop.automation.errors import (
    AUTH_REJECTED,
    BROWSER_CAPACITY,
    BROWSER_UNAVAILABLE,
    NETWORK_ERROR,
    SCRIPT_FAILED,
    SESSION_EXPIRED,
    AutomationError,
    classify,
)
from lossy_desktop.automation.providers.base import PURPOSES, BrowserSession, ConnectionLike
from lossy_desktop.core import secrets
from lossy_desktop.core.billing import BROWSERBASE_PLANS, BrowserbasePlan, UsageRecord
from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.errors import LossyError
from lossy_desktop.core.logs import redact, register_secret

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

    from lossy_desktop.core.settings import Settings

log = logging.getLogger("lossy.automation")

# Waits between attempts to delete a context still held by a session that is ending.
CONTEXT_BUSY_RETRIES_S = (0.5, 1.0, 2.0, 3.0, 5.0)

CONNECT_TIMEOUT_MS = 60_000
LOGIN_TIMEOUT_S = 1800  # a person logging in (2FA, a phone) gets half an hour (Free: 15 min)
CHECK_TIMEOUT_S = 300  # verify / keep-alive: visit one page
HTTP_TIMEOUT_S = 30.0
KEY_CHECK_TIMEOUT_S = 15.0
MAX_SESSION_S = 6 * 3600  # the API's maximum on paid plans
RELEASE_WAIT_S = 30.0  # how long a release waits for the session to reach a final status
RELEASE_POLL_S = 0.25
FINAL_STATUSES = ("COMPLETED", "ERROR", "TIMED_OUT")
APP_TAG = "lossy-desktop"
# The dashboard's replay page of a session (docs: "https://browserbase.com/sessions/" + id).
DASHBOARD_URL = "https://www.browserbase.com"
DEFAULT_API_URL = "https://api.browserbase.com"

# Plans learned from the API's refusals, per (API address, key digest), for this process.
_learned_plans: dict[tuple[str, str], str] = {}
_AT_MOST = re.compile(r"at most (\d+) seconds", re.IGNORECASE)


def forget_learned_plans() -> None:
    """Forget the plans learned from refusals (the account was upgraded; tests)."""
    _learned_plans.clear()


def orphan_query(client_id: str) -> str:
    """The sessions.list `q` that finds this install's sessions (docs.browserbase.com, "Query
    sessions by user metadata": `user_metadata['key']:'value'`, string values only)."""
    return f"user_metadata['app']:'{APP_TAG}' AND user_metadata['client']:'{client_id}'"


def client_id_for(data_root: str) -> str:
    """A stable, non-secret id of this install (host + data folder) for userMetadata."""
    return hashlib.sha256(f"{socket.gethostname()}:{data_root}".encode()).hexdigest()[:12]


def _retry_after(error: browserbase.APIStatusError) -> float | None:
    """`retry-after`, else `x-ratelimit-reset` (seconds until the window resets), in seconds."""
    for header in ("retry-after", "x-ratelimit-reset"):
        value = error.response.headers.get(header)
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            continue
    return None


def _plan_refusal(error: BaseException) -> str | None:
    """The API's message when it refused something for the account's plan, else None."""
    if not isinstance(error, browserbase.APIStatusError) or error.status_code not in (400, 403):
        return None
    text = _api_message(error)
    lowered = text.lower()
    if "plan" in lowered or "keepalive" in lowered or _AT_MOST.search(text):
        return text
    return None


def api_error(error: Exception, doing: str) -> AutomationError:
    """A Browserbase SDK error as a taxonomy error. The message never carries the key."""
    if isinstance(error, AutomationError):
        return error
    refusal = _plan_refusal(error)
    if refusal is not None:
        return AutomationError(
            SCRIPT_FAILED,
            f"Browserbase refused {doing} for your plan: {refusal}",
            retryable=False,
        )
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
        limit = error.response.headers.get("x-ratelimit-limit")
        return AutomationError(
            BROWSER_CAPACITY,
            f"Browserbase has no free browser while {doing} (HTTP 429: "
            + (_api_message(error) or "too many sessions")
            + (f"; limit {limit}" if limit else "")
            + "); trying again after "
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


def _key_refusal(status: int, project_id: str | None) -> str:
    """Why Browserbase refused a key check, in plain words."""
    if status in (401, 403):
        return (
            f"Browserbase refused this API key (HTTP {status}). Copy it again from your "
            "Browserbase dashboard (Settings → API keys)."
        )
    if status == 404 and project_id:
        return "The key works, but Browserbase knows no project with this id. Check the project id."
    if status == 429:
        return "Browserbase is rate limiting requests; try again in a minute."
    return f"Browserbase answered HTTP {status}; try again later."


def check_api_key(api_key: str, project_id: str | None = None) -> str:
    """`BrowserbaseProvider.check_key` for a key (typed or stored), from a plain thread."""
    return asyncio.run(BrowserbaseProvider(api_key=api_key).check_key(project_id))


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

    # Browserbase saves a context a few seconds after its session ends (docs: "wait a few
    # seconds before reusing it"): after a persisting session has reached its final status we
    # wait this long more before anything else may start on the context.
    context_settle_s = 3.0

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock = system_clock,
        api_key: str | None = None,
        project_id: str | None = None,
        base_url: str | None = None,
        client_id: str = "",
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._api_key = api_key
        self._project_id = project_id
        self._base_url = base_url  # None: the SDK's default, or BROWSERBASE_BASE_URL
        self.client_id = client_id

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

    def _api_url(self) -> str:
        return (self._base_url or os.environ.get("BROWSERBASE_BASE_URL") or DEFAULT_API_URL).rstrip(
            "/"
        )

    def replay_url(self, session_id: str) -> str:
        """The page where a recorded session can be watched (the dashboard; a stand-in API
        serves its own)."""
        api = self._api_url()
        base = DASHBOARD_URL if api == DEFAULT_API_URL else api
        return f"{base}/sessions/{session_id}"

    async def check_key(self, project_id: str | None = None) -> str:
        """Ask Browserbase whether the API key works, creating nothing billable: read the
        project `project_id` (or the project list). Returns a sentence for the user; raises
        LossyError with a plain reason. The key goes only into the SDK's X-BB-API-Key header,
        never into a message."""
        async with self.client(max_retries=0) as bb:
            try:
                if project_id:
                    project = await bb.projects.retrieve(project_id, timeout=KEY_CHECK_TIMEOUT_S)
                    name = getattr(project, "name", None)
                    return f"The key works (project “{name}”)." if name else "The key works."
                projects = await bb.projects.list(timeout=KEY_CHECK_TIMEOUT_S)
            except browserbase.APITimeoutError:
                raise LossyError(
                    "Browserbase did not answer in time. Check your internet connection."
                ) from None
            except browserbase.APIConnectionError as error:
                cause = error.__cause__ or error
                raise LossyError(f"Could not reach Browserbase ({type(cause).__name__}).") from None
            except browserbase.APIStatusError as error:
                raise LossyError(_key_refusal(error.status_code, project_id)) from None
        count = len(projects)
        return f"The key works ({count} project{'s' if count != 1 else ''})."

    # -- the plan

    def _plan_key(self) -> tuple[str, str]:
        key, _project = self._credentials()
        return self._api_url(), hashlib.sha256(key.encode()).hexdigest()[:16]

    def plan(self) -> str | None:
        """The account's plan: the `browserbase_plan` setting, else what the API's refusals
        taught us, else None (unknown: assume what paid plans allow until refused)."""
        configured = str(self._setting("browserbase_plan", "") or "")
        if configured in BROWSERBASE_PLANS:
            return configured
        return _learned_plans.get(self._plan_key())

    def _learn(self, refusal: str) -> None:
        key = self._plan_key()
        if _learned_plans.get(key) != "free":
            log.warning(
                "Browserbase refused a session for the plan (%s): using Free limits", refusal
            )
        # Only the Free plan refuses what we ask for (a session over 15 minutes, keepAlive).
        _learned_plans[key] = "free"

    def _limits(self) -> BrowserbasePlan | None:
        plan = self.plan()
        return BROWSERBASE_PLANS.get(plan) if plan else None

    def max_session_s(self) -> int:
        limits = self._limits()
        return limits.max_session_s if limits is not None else MAX_SESSION_S

    def keep_alive_allowed(self) -> bool:
        limits = self._limits()
        return limits.keep_alive if limits is not None else True

    def plan_limit_text(self) -> str:
        """'the Free plan's 15-minute session limit' style wording, for messages."""
        limits = self._limits()
        minutes = self.max_session_s() // 60
        if limits is None:
            return f"Browserbase's {minutes // 60}-hour session limit"
        if minutes < 120:
            return f"the {limits.name} plan's {minutes}-minute session limit"
        return f"the {limits.name} plan's {minutes // 60}-hour session limit"

    # -- the Provider interface

    async def prepare(self, connection: ConnectionLike) -> dict[str, Any]:
        if connection.browserbase_context_id:
            return {"browserbase_context_id": connection.browserbase_context_id}
        _key, project = self._credentials()
        # No retries: a retried create (its first answer lost) leaves a duplicate context.
        async with self.client(max_retries=0) as bb:
            try:
                kwargs: dict[str, Any] = {"project_id": project} if project else {}
                context = await bb.contexts.create(**kwargs)
            except Exception as error:
                raise api_error(error, "creating a context") from None
        log.info("Browserbase context %s created for %s", context.id, connection.platform)
        return {"browserbase_context_id": context.id}

    def session_timeout(self, purpose: str) -> int:
        configured = int(self._setting("browserbase_session_timeout_s", 900))
        if purpose == "login":
            wanted = max(configured, LOGIN_TIMEOUT_S)
        elif purpose in ("verify", "keepalive"):
            wanted = max(60, min(configured, CHECK_TIMEOUT_S))
        else:
            wanted = configured
        return max(60, min(wanted, self.max_session_s()))

    async def open(
        self,
        playwright: Playwright,
        connection: ConnectionLike,
        *,
        purpose: str,
        headless: bool = True,
        detached: bool = False,
    ) -> BrowserSession:
        """`detached` asks for keepAlive; on a plan without it (Free) the session is opened
        attached instead and `session.detached` is False: the caller must stay connected."""
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
        record = bool(self._setting("browserbase_record_sessions", False))
        created, detached = await self._create(connection, purpose, project, record, detached)
        started_at = self._clock()
        session_id = created.id
        connect_url = created.connect_url
        register_secret(connect_url)
        register_secret(getattr(created, "signing_key", None))
        log.info(
            "Browserbase session %s created (%s, %s, timeout %s s)",
            session_id,
            connection.platform,
            purpose,
            self.session_timeout(purpose),
        )
        try:
            browser = await playwright.chromium.connect_over_cdp(
                connect_url, timeout=CONNECT_TIMEOUT_MS
            )
        except BaseException as error:
            info = await self._release(session_id, settle=purpose != "post")
            status = getattr(info, "status", None) if info is not None else None
            usage = self._usage(connection.platform, purpose, session_id, started_at, info)
            if not isinstance(error, Exception):
                raise
            raise AutomationError(
                BROWSER_UNAVAILABLE,
                f"could not connect to Browserbase session {session_id}"
                + (f" (status {status})" if status else "")
                + f": {type(error).__name__}",
                usage=usage,
            ) from None
        try:
            context = browser.contexts[0] if browser.contexts else await browser.new_context()
            page = context.pages[0] if context.pages else await context.new_page()
        except BaseException as error:
            await self._disconnect(browser)
            info = await self._release(session_id, settle=purpose != "post")
            if not isinstance(error, Exception):
                raise
            failed = classify(error)
            failed.usage = self._usage(connection.platform, purpose, session_id, started_at, info)
            raise failed from None
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
        session.extra["persist"] = purpose != "post"
        session.extra["seen_pages"] = [p for p in context.pages if not p.is_closed()]
        if record:
            session.extra["replay_url"] = self.replay_url(session_id)
        _watch_disconnect(browser, session)
        if purpose == "login":
            await self.refresh_live_view(session)
        return session

    async def _create(
        self,
        connection: ConnectionLike,
        purpose: str,
        project: str | None,
        record: bool,
        detached: bool,
    ) -> tuple[Any, bool]:
        """sessions.create, asking no more than the plan allows; a refusal for the plan (which
        created nothing) teaches the plan, and the create is made once more within it."""
        for attempt in (1, 2):
            keep_alive = detached and self.keep_alive_allowed()
            body: dict[str, Any] = {
                "browser_settings": {
                    "context": {
                        "id": connection.browserbase_context_id,
                        "persist": purpose != "post",
                    },
                    "record_session": record,
                    "log_session": record,
                    "viewport": {"width": 1280, "height": 900},
                },
                "api_timeout": self.session_timeout(purpose),
                "user_metadata": {
                    "app": APP_TAG,
                    "client": self.client_id,
                    "platform": connection.platform,
                    "purpose": purpose,
                },
            }
            if project:
                body["project_id"] = project
            region = str(self._setting("browserbase_region", ""))
            if region:
                body["region"] = region
            if keep_alive:
                body["keep_alive"] = True  # survives this process disconnecting, until timeout
            # No retries: a retried create can start a second billed session.
            async with self.client(max_retries=0) as bb:
                try:
                    return await bb.sessions.create(**body), keep_alive
                except browserbase.NotFoundError:
                    raise AutomationError(
                        SESSION_EXPIRED,
                        f"the Browserbase context of the {connection.platform} connection no "
                        "longer exists: connect it again",
                    ) from None
                except browserbase.APIStatusError as error:
                    refusal = _plan_refusal(error)
                    if refusal is not None and attempt == 1 and self.plan() != "free":
                        self._learn(refusal)
                        continue
                    if refusal is not None:
                        raise AutomationError(
                            SCRIPT_FAILED,
                            f"Browserbase refused a session within {self.plan_limit_text()}: "
                            f"{refusal}",
                            retryable=False,
                        ) from None
                    raise api_error(error, "starting a browser session") from None
                except Exception as error:
                    raise api_error(error, "starting a browser session") from None
        raise AssertionError("unreachable")

    async def close(
        self, session: BrowserSession, *, notes_posted: int | None = None
    ) -> UsageRecord:
        await self._disconnect(session.browser)
        info = None
        if session.session_id:
            info = await self._release(
                session.session_id, settle=bool(session.extra.get("persist", True))
            )
        usage = self._usage(
            session.platform,
            session.purpose,
            session.session_id,
            session.started_at,
            info,
            notes_posted=session.notes_posted if notes_posted is None else notes_posted,
        )
        session.usage = usage
        return usage

    def _usage(
        self,
        platform: str,
        purpose: str,
        session_id: str | None,
        started_at: float,
        info: Any,
        *,
        notes_posted: int = 0,
    ) -> UsageRecord:
        """The usage of a session: Browserbase's own start and end times where it gave them."""
        started = _epoch(getattr(info, "started_at", None)) if info is not None else None
        ended = _epoch(getattr(info, "ended_at", None)) if info is not None else None
        return UsageRecord.build(
            provider=self.name,
            platform=platform,
            purpose=purpose,
            session_id=session_id,
            started_at=started if started is not None else started_at,
            ended_at=ended if ended is not None else self._clock(),
            notes_posted=notes_posted,
        )

    async def detach(self, session: BrowserSession) -> None:
        if not session.detached:
            raise ValueError("only a session opened with keepAlive (detached) can be detached")
        await self._disconnect(session.browser)

    async def release_login(self, connection: ConnectionLike) -> UsageRecord | None:
        session_id = connection.browserbase_session_id
        if not session_id:
            return None
        info = await self._release(session_id, settle=True)
        if info is None or _epoch(getattr(info, "started_at", None)) is None:
            return None
        return self._usage(connection.platform, "login", session_id, self._clock(), info)

    async def refresh_live_view(self, session: BrowserSession) -> str | None:
        if not session.session_id:
            return None
        # The page the user is on: a tab opened since we last looked (a sign-in popup) becomes
        # the session's page; when the session's page closes, the newest one left.
        open_pages = [p for p in session.context.pages if not p.is_closed()]
        seen = session.extra.get("seen_pages") or []
        opened = [p for p in open_pages if p not in seen]
        if open_pages and (session.page.is_closed() or opened):
            session.page = (opened or open_pages)[-1]
        session.extra["seen_pages"] = open_pages
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
        explained = await self._explain(session, error)
        replay = session.extra.get("replay_url")
        if replay and explained.replay_url is None:
            explained.replay_url = str(replay)
        return explained

    async def _explain(self, session: BrowserSession, error: BaseException) -> AutomationError:
        if isinstance(error, AutomationError):
            return error
        classified = classify(error)
        if not (session.disconnected or classified.kind == BROWSER_UNAVAILABLE):
            return classified
        status = await self._status(session.session_id) if session.session_id else None
        if status == "TIMED_OUT":
            timeout = self.session_timeout(session.purpose)
            limit = f", {self.plan_limit_text()}" if timeout >= self.max_session_s() else ""
            return AutomationError(
                BROWSER_UNAVAILABLE,
                f"the Browserbase session {session.session_id} reached its timeout "
                f"({timeout} s{limit}) and was closed (TIMED_OUT)",
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
            await self._release(connection.browserbase_session_id, settle=True)
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

    async def release_orphans(self, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Release this install's sessions still running that nobody holds (a crash; a create
        that timed out after the server made it). `keep`: ids still in use (a detached
        login). Returns the released ids."""
        if not self.client_id:
            return []
        try:
            async with self.client() as bb:
                running = await bb.sessions.list(q=orphan_query(self.client_id), status="RUNNING")
        except Exception as error:
            log.warning("could not list Browserbase sessions: %s", api_error(error, "listing"))
            return []
        orphans = [s.id for s in running if s.id not in keep]
        for session_id in orphans:
            log.info("releasing orphaned Browserbase session %s", session_id)
        await asyncio.gather(*(self._release(sid, settle=False) for sid in orphans))
        return orphans

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

    async def _release(self, session_id: str, *, settle: bool) -> Any:
        """REQUEST_RELEASE (an already finished session is fine), then wait — bounded by
        RELEASE_WAIT_S — for the session to reach a final status (release is asynchronous),
        and after a session that persists its context, `context_settle_s` more for the save.
        Returns the session as last read (None if unknown). Never raises."""
        started = time.monotonic()
        try:
            async with self.client() as bb:
                await bb.sessions.update(session_id, status="REQUEST_RELEASE")
            log.info("Browserbase session %s release requested", session_id)
        except browserbase.APIStatusError as error:
            if error.status_code not in (404, 409, 410):
                log.warning(
                    "releasing Browserbase session %s failed (HTTP %s): it bills until its timeout",
                    session_id,
                    error.status_code,
                )
                return await self._retrieve(session_id)
        except Exception as error:
            log.warning(
                "releasing Browserbase session %s failed (%s): it bills until its timeout",
                session_id,
                type(error).__name__,
            )
            return None
        info = None
        try:
            while True:
                info = await self._retrieve(session_id)
                status = getattr(info, "status", None) if info is not None else None
                if info is None or status in FINAL_STATUSES:
                    break
                if time.monotonic() - started >= RELEASE_WAIT_S:
                    log.warning(
                        "Browserbase session %s still %s %.0f s after its release",
                        session_id,
                        status,
                        RELEASE_WAIT_S,
                    )
                    break
                await asyncio.sleep(RELEASE_POLL_S)
            if settle and self.context_settle_s > 0:
                await asyncio.sleep(self.context_settle_s)
        finally:
            log.info(
                "Browserbase session %s ended (%s) %.1f s after its release%s",
                session_id,
                getattr(info, "status", None) if info is not None else "status unknown",
                time.monotonic() - started,
                " (context saved)" if settle else "",
            )
        return info

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
