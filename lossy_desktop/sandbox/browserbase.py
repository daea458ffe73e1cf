"""A fake Browserbase API (/v1) backed by real local Chromium processes.

Same paths, bodies and answers as the real API for what the official `browserbase` SDK calls:
sessions (create, retrieve, list, release, debug) and contexts (create, retrieve, update,
delete). Each session is a headless Chromium started with `automation.chromium.ChromiumProcess`
on 127.0.0.1; the session's `connectUrl` is a WebSocket on this server that, after checking its
signing key, is proxied to Chromium's browser CDP endpoint, so `connect_over_cdp` runs for real.
A context is a profile folder: a session started with `{context: {id, persist: true}}` uses it
directly (cookies survive into the next session); `persist: false` works on a copy.

The live view (`/debug`) proxies Chromium's own DevTools front end, guarded by a token.

Like a real cloud browser, the fake's browsers cannot be pointed at this computer's files or the
browser's own pages: a CDP command (on the connect URL or the live view) whose `url` is a
`file:`, `chrome:` (or similar local) URL is answered with an error and never reaches Chromium.

Documented behaviour it follows (docs.browserbase.com, 2025–2026):
- Release is asynchronous: after REQUEST_RELEASE the session still reports RUNNING for a moment
  (`release_delay_s`), then ends; a persisting context is saved only after that, and stays
  locked (409 to a new session) until the save is done (`context_save_s`).
- Plans (`plan`, switchable at run time with `set_plan`): free sessions live at most 15 minutes
  and keepAlive is refused (403); every plan caps concurrent sessions (429 with `retry-after`,
  `x-ratelimit-*`; `x-ratelimit-reset` in seconds until the reset).
- `GET /v1/sessions?q=user_metadata['key']:'value'` filters by userMetadata.
- A session created with `browserSettings.recordSession` has a replay page at
  `/sessions/{id}` (the dashboard's address for it).
- A page's live view ends ("browserbase-disconnected" to its parent) when a tab opens: the
  client asks `/debug` again for the current page.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import secrets
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from lossy_desktop.sandbox.state import SandboxState

log = logging.getLogger("lossy.sandbox")

REGIONS = ("us-west-2", "us-east-1", "eu-central-1", "ap-southeast-1")
PLANS = ("free", "developer", "startup", "scale")
FREE_PLAN_MAX_TIMEOUT = 15 * 60
# Schemes that reach this computer's files or the browser's own privileged pages.
LOCAL_SCHEMES = frozenset(
    {"file", "filesystem", "chrome", "chrome-untrusted", "chrome-extension", "devtools"}
)
# Concurrent browsers per plan (browserbase.com/pricing: Free 3, Developer 25, Startup 100,
# Scale 250+). The fake's own `max_sessions` (default 3, to keep tests small) applies unless
# lower limits are asked for.
PLAN_CONCURRENCY = {"free": 3, "developer": 25, "startup": 100, "scale": 250}
_METADATA_CLAUSE = re.compile(r"^user_metadata((?:\['[^'\]]+'\])+):'([^']*)'$")
_PROFILE_IGNORE = shutil.ignore_patterns(
    "Singleton*", "DevToolsActivePort", "lossy-chromium-stderr.log", "*.lock"
)


def _metadata_value(metadata: Any, path: list[str]) -> Any:
    value = metadata
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def is_local_url(url: str) -> bool:
    """Does this URL (as Chromium would parse it) open a local file or a browser page?"""
    # Chromium drops tabs and newlines anywhere and leading/trailing controls and spaces.
    cleaned = "".join(ch for ch in url if ch not in "\t\r\n").strip("".join(map(chr, range(33))))
    lowered = cleaned.lower()
    while lowered.startswith("view-source:"):
        lowered = lowered[len("view-source:") :]
    scheme, colon, _ = lowered.partition(":")
    return bool(colon) and scheme in LOCAL_SCHEMES


def refuse_local_navigation(text: str) -> str | None:
    """For a CDP command from the client: None to pass it on, or the error reply to send back
    instead when it would open a local URL (Page.navigate, Target.createTarget, ...)."""
    if '"url"' not in text:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    params = message.get("params") if isinstance(message, dict) else None
    url = params.get("url") if isinstance(params, dict) else None
    if not isinstance(url, str) or not is_local_url(url):
        return None
    log.info("sandbox browserbase: refused %s to a local URL", message.get("method"))
    reply: dict[str, Any] = {
        "id": message.get("id"),
        "error": {
            "code": -32000,
            "message": "Navigation to local (file:, chrome:) URLs is not allowed",
        },
    }
    if "sessionId" in message:
        reply["sessionId"] = message["sessionId"]
    return json.dumps(reply)


class APIError(Exception):
    _NAMES = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

    def response(self) -> web.Response:
        body = {
            "statusCode": self.status,
            "error": self._NAMES.get(self.status, "Error"),
            "message": self.message,
        }
        return web.json_response(body, status=self.status, headers=self.headers)


@dataclass
class BBContext:
    id: str
    project_id: str
    profile_dir: Path
    created_at: float
    updated_at: float
    name: str | None = None
    in_use_by: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "projectId": self.project_id,
            "name": self.name,
        }


@dataclass
class BBSession:
    id: str
    project_id: str
    status: str
    created_at: float
    expires_at: float
    keep_alive: bool
    region: str
    timeout: int
    signing_key: str
    live_token: str
    user_metadata: dict[str, Any] | None
    context_id: str | None
    persist: bool
    record: bool = False
    releasing: asyncio.Task[None] | None = None
    profile_dir: Path | None = None
    temporary_profile: bool = False
    started_at: float | None = None
    ended_at: float | None = None
    updated_at: float = 0.0
    connected: bool = False
    process: Any = None  # ChromiumProcess
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    watchdog: asyncio.Task[None] | None = None
    ending: asyncio.Future[None] | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at or self.created_at),
            "startedAt": _iso(self.started_at or self.created_at),
            "endedAt": _iso(self.ended_at),
            "expiresAt": _iso(self.expires_at),
            "projectId": self.project_id,
            "status": self.status,
            "keepAlive": self.keep_alive,
            "region": self.region,
            "proxyBytes": 0,
            "avgCpuUsage": 0,
            "memoryUsage": 0,
            "contextId": self.context_id,
            "userMetadata": self.user_metadata,
        }

    def summary(self) -> dict[str, Any]:
        """For /_sandbox/sessions: no signing key, no token."""
        return {
            "id": self.id,
            "status": self.status,
            "contextId": self.context_id,
            "keepAlive": self.keep_alive,
            "timeout": self.timeout,
            "connected": self.connected,
            "pid": self.process.pid if self.process is not None else None,
        }


class FakeBrowserbase:
    def __init__(
        self,
        state: SandboxState,
        *,
        api_key: str,
        profiles_dir: Path | None = None,
        max_sessions: int = 3,
        plan: str = "developer",
        project_id: str = "sandbox-project",
        default_timeout: int = 300,
        connect_timeout: float = 300.0,
        chromium_path: str | None = None,
        time_scale: float = 1.0,
        release_delay_s: float = 0.5,
        context_save_s: float = 0.5,
    ) -> None:
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}")
        if not api_key:
            raise ValueError("the fake Browserbase needs an API key to check")
        self.state = state
        self.api_key = api_key
        self.max_sessions = max_sessions
        self.plan = plan
        self.project_id = project_id
        self.default_timeout = default_timeout
        self.connect_timeout = connect_timeout
        self.chromium_path = chromium_path
        # Session lifetimes run this much faster (tests: 0.01 makes the 60 s minimum 0.6 s).
        self.time_scale = time_scale
        # After REQUEST_RELEASE a session runs on this long; its context is saved this long
        # after it ends (both: the documented asynchronous release).
        self.release_delay_s = release_delay_s
        self.context_save_s = context_save_s
        self._own_root = profiles_dir is None
        self.root = Path(profiles_dir or tempfile.mkdtemp(prefix="lossy-sandbox-bb-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.sessions: dict[str, BBSession] = {}
        self.contexts: dict[str, BBContext] = {}
        self._starting = 0
        self._http: aiohttp.ClientSession | None = None
        self.base_url = ""

    # ---- plumbing ------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/v1/sessions", self.create_session)
        r.add_get("/v1/sessions", self.list_sessions)
        r.add_get("/v1/sessions/{id}", self.get_session)
        r.add_post("/v1/sessions/{id}", self.update_session)
        r.add_get("/v1/sessions/{id}/debug", self.debug)
        r.add_post("/v1/contexts", self.create_context)
        r.add_get("/v1/contexts/{id}", self.get_context)
        r.add_put("/v1/contexts/{id}", self.update_context)
        r.add_delete("/v1/contexts/{id}", self.delete_context)
        r.add_get("/v1/connect/{id}", self.connect)
        r.add_get("/v1/live/{id}/view", self.live_view)
        r.add_get("/v1/live/{id}/status", self.live_status)
        r.add_get("/v1/live/{id}/devtools/{tail:.*}", self.live_devtools)
        r.add_get("/sessions/{id}", self.replay)
        app.on_cleanup.append(self._on_cleanup)

    async def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)
            )
        return self._http

    def _auth(self, request: web.Request) -> None:
        given = request.headers.get("X-BB-API-Key", "")
        if not given or not hmac.compare_digest(given.encode(), self.api_key.encode()):
            raise APIError(401, "Invalid API key")
        fault = self.state.take_fault("browserbase", "api", None, ("server_error",))
        if fault is not None:
            raise APIError(int(fault.params.get("status", 500)), "Internal server error")

    def _session(self, request: web.Request) -> BBSession:
        found = self.sessions.get(request.match_info["id"])
        if found is None:
            raise APIError(404, f"Session {request.match_info['id']} not found")
        return found

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            body = await request.json()
        except ValueError:
            raise APIError(400, "Body must be valid JSON")
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise APIError(400, "Body must be a JSON object")
        return body

    def set_plan(self, plan: str) -> None:
        """Switch the account's plan (the sandbox's stand-in for upgrading or downgrading)."""
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}")
        self.plan = plan

    def concurrency(self) -> int:
        return min(self.max_sessions, PLAN_CONCURRENCY[self.plan])

    def running(self) -> list[BBSession]:
        return [s for s in self.sessions.values() if s.status in ("PENDING", "RUNNING")]

    def summaries(self) -> list[dict[str, Any]]:
        return [s.summary() for s in self.sessions.values()]

    # ---- sessions ------------------------------------------------------------------------

    def _validate_create(self, body: dict[str, Any]) -> dict[str, Any]:
        project = body.get("projectId")
        if project is not None and (not isinstance(project, str) or not project):
            raise APIError(400, "projectId must be a non-empty string")
        timeout = body.get("timeout", self.default_timeout)
        if isinstance(timeout, bool) or not isinstance(timeout, int):
            raise APIError(400, "timeout must be an integer number of seconds")
        if not 60 <= timeout <= 21600:
            raise APIError(400, "timeout must be between 60 and 21600 seconds")
        if self.plan == "free" and timeout > FREE_PLAN_MAX_TIMEOUT:
            raise APIError(400, "timeout can be at most 900 seconds on the Free plan")
        keep_alive = body.get("keepAlive", False)
        if not isinstance(keep_alive, bool):
            raise APIError(400, "keepAlive must be a boolean")
        if keep_alive and self.plan == "free":
            raise APIError(403, "keepAlive is not available on the Free plan")
        region = body.get("region", "us-west-2")
        if region not in REGIONS:
            raise APIError(400, f"region must be one of {', '.join(REGIONS)}")
        metadata = body.get("userMetadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise APIError(400, "userMetadata must be an object")
        settings = body.get("browserSettings", {})
        if not isinstance(settings, dict):
            raise APIError(400, "browserSettings must be an object")
        context_id, persist = None, False
        context = settings.get("context")
        if context is not None:
            if not isinstance(context, dict) or not isinstance(context.get("id"), str):
                raise APIError(400, "browserSettings.context must be {id, persist}")
            persist = context.get("persist", False)
            if not isinstance(persist, bool):
                raise APIError(400, "browserSettings.context.persist must be a boolean")
            context_id = context["id"]
            found = self.contexts.get(context_id)
            if found is None:
                raise APIError(404, f"Context {context_id} not found")
            user = self.sessions.get(found.in_use_by or "")
            if user is not None and user.status in ("PENDING", "RUNNING"):
                raise APIError(409, f"Context {context_id} is in use by session {found.in_use_by}")
        viewport = settings.get("viewport")
        window: tuple[int, int] | None = None
        if viewport is not None:
            width = viewport.get("width") if isinstance(viewport, dict) else None
            height = viewport.get("height") if isinstance(viewport, dict) else None
            if not (isinstance(width, int) and isinstance(height, int)) or not (
                100 <= width <= 4096 and 100 <= height <= 4096
            ):
                raise APIError(400, "browserSettings.viewport must be {width, height} in pixels")
            window = (width, height)
        for flag in ("blockAds", "solveCaptchas", "recordSession", "logSession"):
            if flag in settings and not isinstance(settings[flag], bool):
                raise APIError(400, f"browserSettings.{flag} must be a boolean")
        return {
            "record": bool(settings.get("recordSession", True)),
            "project_id": project or self.project_id,
            "timeout": timeout,
            "keep_alive": keep_alive,
            "region": region,
            "metadata": metadata,
            "context_id": context_id,
            "persist": persist,
            "window": window,
        }

    async def create_session(self, request: web.Request) -> web.Response:
        self._auth(request)
        body = await self._body(request)
        opts = self._validate_create(body)
        fault = self.state.take_fault(
            "browserbase", "create", None, ("refuse_sessions", "rate_limited", "server_error")
        )
        if fault is not None and fault.kind == "rate_limited":
            raise self._too_many(float(fault.params.get("retry_after", 10)), "fault")
        if fault is not None:
            status = int(
                fault.params.get("status", 503 if fault.kind == "refuse_sessions" else 500)
            )
            raise APIError(status, "Session creation failed: the service is unavailable")
        if len(self.running()) + self._starting >= self.concurrency():
            raise self._too_many(5.0, "concurrent")
        now = time.time()
        session = BBSession(
            id=str(uuid.uuid4()),
            project_id=opts["project_id"],
            status="PENDING",
            created_at=now,
            expires_at=now + opts["timeout"] * self.time_scale,
            keep_alive=opts["keep_alive"],
            region=opts["region"],
            timeout=opts["timeout"],
            signing_key=secrets.token_urlsafe(32),
            live_token=secrets.token_urlsafe(24),
            user_metadata=opts["metadata"],
            context_id=opts["context_id"],
            persist=opts["persist"],
            record=opts["record"],
        )
        context = self.contexts.get(opts["context_id"]) if opts["context_id"] else None
        if context is not None:
            previous = self.sessions.get(context.in_use_by or "")
            if previous is not None and previous.ending is not None:
                await asyncio.shield(previous.ending)  # its browser is still saving the profile
            if context.in_use_by is not None or opts["context_id"] not in self.contexts:
                raise APIError(409, f"Context {context.id} is in use by another session")
            context.in_use_by = session.id
        self._starting += 1
        try:
            session.profile_dir, session.temporary_profile = self._profile_for(session, context)
            extra = (
                [f"--window-size={opts['window'][0]},{opts['window'][1]}"] if opts["window"] else []
            )
            loop = asyncio.get_running_loop()
            session.process = await loop.run_in_executor(None, self._start_browser, session, extra)
        except Exception as error:
            if context is not None:
                context.in_use_by = None
            self._discard_profile(session)
            log.warning("sandbox browserbase: could not start a browser: %s", error)
            raise APIError(500, f"Could not start a browser: {error}")
        finally:
            self._starting -= 1
        session.status = "RUNNING"
        session.started_at = session.updated_at = time.time()
        # The lifetime counts from when the browser is up.
        session.expires_at = session.started_at + session.timeout * self.time_scale
        session.ending = loop.create_future()
        self.sessions[session.id] = session
        session.watchdog = asyncio.create_task(self._watch(session))
        log.info(
            "sandbox browserbase: session %s running (pid %s, context %s, timeout %ss)",
            session.id,
            session.process.pid,
            session.context_id,
            session.timeout,
        )
        data = session.public()
        data["connectUrl"] = self._connect_url(session)
        data["signingKey"] = session.signing_key
        data["seleniumRemoteUrl"] = f"{self.base_url}/v1/selenium/{session.id}"
        return web.json_response(data, status=201)

    def _too_many(self, retry_after: float, why: str) -> APIError:
        headers = {
            "retry-after": str(int(retry_after)),
            "x-ratelimit-limit": str(self.concurrency()),
            "x-ratelimit-remaining": "0",
            # Seconds until the window resets (not an epoch time), as Browserbase sends it.
            "x-ratelimit-reset": str(int(retry_after)),
        }
        message = (
            f"You've reached the limit of {self.concurrency()} concurrent sessions"
            if why == "concurrent"
            else "Too many requests"
        )
        return APIError(429, message, headers)

    def _connect_url(self, session: BBSession) -> str:
        ws_base = self.base_url.replace("http://", "ws://", 1)
        return f"{ws_base}/v1/connect/{session.id}?signingKey={session.signing_key}"

    def _profile_for(self, session: BBSession, context: BBContext | None) -> tuple[Path, bool]:
        if context is not None and session.persist:
            return context.profile_dir, False
        target = self.root / "sessions" / session.id
        if context is not None and context.profile_dir.exists():
            shutil.copytree(context.profile_dir, target, ignore=_PROFILE_IGNORE)
        else:
            target.mkdir(parents=True, exist_ok=True)
        return target, True

    def _discard_profile(self, session: BBSession) -> None:
        if session.temporary_profile and session.profile_dir is not None:
            shutil.rmtree(session.profile_dir, ignore_errors=True)

    def _start_browser(self, session: BBSession, extra: list[str]) -> Any:
        from lossy_desktop.automation.chromium import ChromiumProcess, find_browser

        assert session.profile_dir is not None
        executable = find_browser(self.chromium_path)
        return ChromiumProcess.start(
            session.profile_dir, headless=True, executable=executable, extra_args=extra
        )

    async def _watch(self, session: BBSession) -> None:
        """End the session at its timeout, or when nobody connected within connect_timeout."""
        try:
            connect_deadline = session.created_at + self.connect_timeout
            while session.status == "RUNNING":
                now = time.time()
                if now >= session.expires_at:
                    await self.end(session, "TIMED_OUT")
                    return
                if not session.connected and now >= connect_deadline:
                    await self.end(session, "ERROR")
                    return
                wake = session.expires_at
                if not session.connected:
                    wake = min(wake, connect_deadline)
                await asyncio.sleep(min(max(0.05, wake - now), 1.0))
        except asyncio.CancelledError:
            pass

    async def end(self, session: BBSession, status: str) -> None:
        """Stop the session's browser gracefully (the profile is saved), close its sockets."""
        if session.status not in ("PENDING", "RUNNING"):
            if session.ending is not None:
                await asyncio.shield(session.ending)
            return
        session.status = status
        session.ended_at = session.updated_at = time.time()
        log.info("sandbox browserbase: session %s ending (%s)", session.id, status)
        for ws in list(session.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"session ended")
        process = session.process
        if process is not None:
            loop = asyncio.get_running_loop()
            with contextlib.suppress(Exception):
                await loop.run_in_executor(None, process.stop)
        self._discard_profile(session)
        context = self.contexts.get(session.context_id or "")
        if context is not None and context.in_use_by == session.id:
            if session.persist and self.context_save_s > 0:
                await asyncio.sleep(self.context_save_s)  # saving the profile into the context
            context.in_use_by = None
            if session.persist:
                context.updated_at = time.time()
        if session.watchdog is not None and session.watchdog is not asyncio.current_task():
            session.watchdog.cancel()
        if session.ending is not None and not session.ending.done():
            session.ending.set_result(None)

    async def list_sessions(self, request: web.Request) -> web.Response:
        self._auth(request)
        status = request.query.get("status")
        wanted = self._metadata_query(request.query.get("q", ""))
        found = [
            s.public()
            for s in self.sessions.values()
            if (not status or s.status == status)
            and all(_metadata_value(s.user_metadata, path) == value for path, value in wanted)
        ]
        return web.json_response(found)

    @staticmethod
    def _metadata_query(query: str) -> list[tuple[list[str], str]]:
        """`user_metadata['a']['b']:'v' AND user_metadata['c']:'w'` as [(path, value)]."""
        clauses: list[tuple[list[str], str]] = []
        for part in (p.strip() for p in query.split(" AND ")) if query.strip() else ():
            match = _METADATA_CLAUSE.match(part)
            if match is None:
                raise APIError(400, f"q must be user_metadata['key']:'value' clauses, got {part!r}")
            clauses.append((re.findall(r"\['([^'\]]+)'\]", match.group(1)), match.group(2)))
        return clauses

    async def get_session(self, request: web.Request) -> web.Response:
        self._auth(request)
        return web.json_response(self._session(request).public())

    async def update_session(self, request: web.Request) -> web.Response:
        self._auth(request)
        session = self._session(request)
        body = await self._body(request)
        if body.get("status") != "REQUEST_RELEASE":
            raise APIError(400, 'status must be "REQUEST_RELEASE"')
        if session.status in ("PENDING", "RUNNING") and session.releasing is None:
            # Accepted at once; the session still reports RUNNING until it has ended.
            session.releasing = asyncio.create_task(self._release_later(session))
        return web.json_response(session.public())

    async def _release_later(self, session: BBSession) -> None:
        if self.release_delay_s > 0:
            await asyncio.sleep(self.release_delay_s)
        await self.end(session, "COMPLETED")

    async def debug(self, request: web.Request) -> web.Response:
        self._auth(request)
        session = self._session(request)
        if session.status != "RUNNING" or session.process is None:
            raise APIError(400, f"Session {session.id} is not running ({session.status})")
        loop = asyncio.get_running_loop()
        try:
            tabs = await loop.run_in_executor(None, session.process.pages)
        except Exception as error:
            raise APIError(500, f"Could not list the session's pages: {error}")
        pages = []
        for tab in tabs:
            inspector, fullscreen = self._live_urls(session, tab["id"])
            pages.append(
                {
                    "id": tab["id"],
                    "url": tab.get("url", ""),
                    "title": tab.get("title", ""),
                    "faviconUrl": tab.get("faviconUrl", ""),
                    "debuggerUrl": inspector,
                    "debuggerFullscreenUrl": fullscreen,
                }
            )
        first = pages[0] if pages else None
        host = self.base_url.split("://", 1)[1]
        ws_url = (
            f"ws://{host}/v1/live/{session.id}/devtools/page/{first['id']}"
            f"?token={session.live_token}"
            if first
            else ""
        )
        return web.json_response(
            {
                "debuggerUrl": first["debuggerUrl"] if first else "",
                "debuggerFullscreenUrl": first["debuggerFullscreenUrl"] if first else "",
                "wsUrl": ws_url,
                "pages": pages,
            }
        )

    def _live_urls(self, session: BBSession, page_id: str) -> tuple[str, str]:
        host = self.base_url.split("://", 1)[1]
        token = session.live_token
        ws = f"{host}/v1/live/{session.id}/devtools/page/{page_id}?token={token}"
        inspector = (
            f"{self.base_url}/v1/live/{session.id}/devtools/inspector.html"
            f"?ws={quote(ws, safe='')}&token={token}"
        )
        fullscreen = (
            f"{self.base_url}/v1/live/{session.id}/view?page={quote(page_id)}&token={token}"
        )
        return inspector, fullscreen

    # ---- the CDP WebSocket (connectUrl) --------------------------------------------------

    async def connect(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(request.match_info["id"])
        key = request.query.get("signingKey", "")
        if session is None or not hmac.compare_digest(key.encode(), session.signing_key.encode()):
            raise APIError(401, "Invalid signing key")
        if session.status != "RUNNING":
            raise APIError(410, f"Session {session.id} has ended ({session.status})")
        if self.state.take_fault("browserbase", "connect", None, ("refuse_connect",)):
            await self.end(session, "ERROR")
            raise APIError(410, f"Session {session.id} has ended (ERROR)")
        session.connected = True
        try:
            return await self._proxy_ws(request, session, session.process.browser_ws_url)
        finally:
            if not session.keep_alive and session.status == "RUNNING":
                # Without keepAlive, a disconnect ends the session (like the real one).
                await self.end(session, "COMPLETED")

    async def _proxy_ws(
        self, request: web.Request, session: BBSession, target: str
    ) -> web.WebSocketResponse:
        downstream = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await downstream.prepare(request)
        session.sockets.add(downstream)
        client = await self._client()
        try:
            async with client.ws_connect(target, max_msg_size=0, autoping=True) as upstream:

                async def pump(
                    src: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
                    dst: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
                ) -> None:
                    from_client = src is downstream
                    async for msg in src:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            refusal = refuse_local_navigation(msg.data) if from_client else None
                            if refusal is not None:
                                await src.send_str(refusal)
                                continue
                            await dst.send_str(msg.data)
                        elif msg.type == aiohttp.WSMsgType.BINARY:
                            if from_client:
                                text = msg.data.decode("utf-8", "replace")
                                refusal = refuse_local_navigation(text)
                                if refusal is not None:
                                    await src.send_bytes(refusal.encode())
                                    continue
                            await dst.send_bytes(msg.data)
                        else:
                            break

                tasks = [
                    asyncio.create_task(pump(downstream, upstream)),
                    asyncio.create_task(pump(upstream, downstream)),
                ]
                try:
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
        except aiohttp.ClientError as error:
            log.info(
                "sandbox browserbase: session %s: browser socket failed: %s", session.id, error
            )
        finally:
            session.sockets.discard(downstream)
            with contextlib.suppress(Exception):
                await downstream.close()
        return downstream

    # ---- live view -----------------------------------------------------------------------

    def _live_session(self, request: web.Request) -> BBSession:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            raise APIError(404, "Session not found")
        token = request.query.get("token") or request.cookies.get(f"bb_live_{session.id[:8]}", "")
        if not token or not hmac.compare_digest(token.encode(), session.live_token.encode()):
            raise APIError(401, "Invalid live view token")
        return session

    def _set_live_cookie(self, response: web.StreamResponse, session: BBSession) -> None:
        response.set_cookie(
            f"bb_live_{session.id[:8]}",
            session.live_token,
            path=f"/v1/live/{session.id}",
            httponly=True,
            samesite="Strict",
        )

    async def live_view(self, request: web.Request) -> web.Response:
        session = self._live_session(request)
        page_id = request.query.get("page", "")
        inspector, _ = self._live_urls(session, page_id)
        html = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Live view</title>
<style>html,body,iframe{{margin:0;border:0;width:100%;height:100%;overflow:hidden}}</style></head>
<body><iframe id="devtools" src="{inspector}"></iframe>
<script>
var tabs = null;
(function poll() {{
  fetch("status", {{credentials: "same-origin"}}).then(r => r.json()).then(s => {{
    if (tabs === null) tabs = s.pages;
    if (s.status !== "RUNNING") {{
      window.parent.postMessage("browserbase-disconnected", "*");
      document.body.innerHTML = "<p id='ended'>The session has ended.</p>";
    }} else if (s.pages > tabs) {{
      // A tab opened: this page's view ends; the client asks /debug again.
      window.parent.postMessage("browserbase-disconnected", "*");
      document.body.innerHTML = "<p id='ended'>A new tab opened.</p>";
    }} else setTimeout(poll, 1000);
  }}).catch(() => setTimeout(poll, 2000));
}})();
</script></body></html>"""
        response = web.Response(text=html, content_type="text/html")
        self._set_live_cookie(response, session)
        return response

    async def live_status(self, request: web.Request) -> web.Response:
        session = self._live_session(request)
        pages = 0
        if session.status == "RUNNING" and session.process is not None:
            loop = asyncio.get_running_loop()
            with contextlib.suppress(Exception):
                pages = len(await loop.run_in_executor(None, session.process.pages))
        return web.json_response({"status": session.status, "pages": pages})

    async def replay(self, request: web.Request) -> web.Response:
        """The dashboard's replay page of a recorded session (`/sessions/{id}`)."""
        session = self.sessions.get(request.match_info["id"])
        if session is None or not session.record:
            raise APIError(404, "No recording for this session")
        return web.Response(
            text=f"<!DOCTYPE html><title>Session replay</title><h1>Replay of session "
            f"{session.id}</h1><p>Status: {session.status}</p>",
            content_type="text/html",
        )

    async def live_devtools(self, request: web.Request) -> web.StreamResponse:
        session = self._live_session(request)
        if session.status != "RUNNING" or session.process is None:
            raise APIError(410, "The session has ended")
        tail = request.match_info["tail"]
        port = session.process.port
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if not tail.startswith("page/"):
                raise APIError(403, "Only page targets can be inspected")
            return await self._proxy_ws(request, session, f"ws://127.0.0.1:{port}/devtools/{tail}")
        client = await self._client()
        async with client.get(f"http://127.0.0.1:{port}/devtools/{tail}") as upstream:
            data = await upstream.read()
            response = web.Response(
                body=data,
                status=upstream.status,
                content_type=upstream.content_type or "application/octet-stream",
            )
        if request.query.get("token"):
            self._set_live_cookie(response, session)
        return response

    # ---- contexts ------------------------------------------------------------------------

    async def create_context(self, request: web.Request) -> web.Response:
        self._auth(request)
        body = await self._body(request)
        project = body.get("projectId")
        if project is not None and (not isinstance(project, str) or not project):
            raise APIError(400, "projectId must be a non-empty string")
        name = body.get("name")
        if name is not None and not isinstance(name, str):
            raise APIError(400, "name must be a string")
        context_id = str(uuid.uuid4())
        now = time.time()
        profile = self.root / "contexts" / context_id
        profile.mkdir(parents=True)
        self.contexts[context_id] = BBContext(
            context_id,
            project or self.project_id,
            profile,
            now,
            now,
            name.strip() if name else None,
        )
        log.info("sandbox browserbase: context %s created", context_id)
        return web.json_response(
            {
                "id": context_id,
                "cipherAlgorithm": "AES-256-CBC",
                "initializationVectorSize": 16,
                "publicKey": "sandbox-public-key",
                "uploadUrl": f"{self.base_url}/v1/contexts/{context_id}/upload-unsupported",
            },
            status=201,
        )

    def _context(self, request: web.Request) -> BBContext:
        found = self.contexts.get(request.match_info["id"])
        if found is None:
            raise APIError(404, f"Context {request.match_info['id']} not found")
        return found

    async def get_context(self, request: web.Request) -> web.Response:
        self._auth(request)
        return web.json_response(self._context(request).public())

    async def update_context(self, request: web.Request) -> web.Response:
        self._auth(request)
        context = self._context(request)
        context.updated_at = time.time()
        return web.json_response(
            {
                "id": context.id,
                "cipherAlgorithm": "AES-256-CBC",
                "initializationVectorSize": 16,
                "publicKey": "sandbox-public-key",
                "uploadUrl": f"{self.base_url}/v1/contexts/{context.id}/upload-unsupported",
            }
        )

    async def delete_context(self, request: web.Request) -> web.Response:
        self._auth(request)
        context = self._context(request)
        if context.in_use_by is not None:
            raise APIError(409, f"Context {context.id} is in use by session {context.in_use_by}")
        del self.contexts[context.id]
        shutil.rmtree(context.profile_dir, ignore_errors=True)
        return web.Response(status=204)

    # ---- life cycle ----------------------------------------------------------------------

    async def reset(self) -> None:
        await self.end_all()
        for context in list(self.contexts.values()):
            shutil.rmtree(context.profile_dir, ignore_errors=True)
        self.contexts.clear()
        self.sessions.clear()

    async def end_all(self) -> None:
        await asyncio.gather(
            *(self.end(s, "COMPLETED") for s in self.running()), return_exceptions=True
        )
        releasing = [s.releasing for s in self.sessions.values() if s.releasing is not None]
        await asyncio.gather(*releasing, return_exceptions=True)

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.end_all()
        if self._http is not None:
            await self._http.close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)
