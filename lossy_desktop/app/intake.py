"""Recorder intake: a loopback-only HTTP endpoint the note recorder posts notes to.

    POST /v1/notes      one note object, or an array of them (JSON)
                        Authorization: Bearer <token from the OS keyring>
    GET  /v1/health     {"ok": true, "version": ...}; no token needed, says nothing else

Served by aiohttp on the app's own asyncio loop (qasync), bound to 127.0.0.1 only, on the port
of the `intake_port` setting (0 turns it off). Rules, in the order they are checked:

- Host header must name the loopback interface (guards against DNS rebinding): else 421
  (core/loopback.py, the same check as the sandbox's).
- A request carrying an Origin header must come from the `recorder_origin` setting: else 403.
  Only that origin gets CORS headers (and a preflight answer); everyone else gets none.
- The bearer token, compared in constant time as bytes (a token that is not UTF-8 is simply
  wrong): else 401. No token in the keyring (no keyring backend): 503 saying so. Failed
  authentications are counted per client address: over `auth_fail_limit` per `rate_period`
  seconds they get 429 instead of 401. A request with the right token never counts there, so
  requests without it cannot lock the real recorder out.
- Then, for authenticated requests only: at most `rate_limit` per `rate_period` seconds
  (sliding window): else 429 with Retry-After.
- A request aiohttp cannot parse (a malformed header line) gets a plain 400: never the line
  itself (it may hold the token), and no traceback in the log.
- Bodies over `max_body` bytes: 413 (read no further than the limit).
- Every note goes through core/notes.validate_note, the very validator the importer uses. One bad
  note: 422 naming the note's index and the field, and nothing is written.
- All good: the notes are created in one transaction (off the event loop) → 201 with their ids.
  Notes already stored (same external id, or same video, time and text) are skipped and listed
  under "duplicates" (200 when nothing was new): sending a batch twice is harmless.

The token is a secret: it is never logged, and error bodies never echo it back.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import hmac
import json
import logging
import time
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from PySide6.QtCore import QObject, Signal

from lossy_desktop import __version__
from lossy_desktop.core import secrets
from lossy_desktop.core.errors import LossyError, ValidationError
from lossy_desktop.core.loopback import MISDIRECTED, host_is_loopback, reuse_address

if TYPE_CHECKING:
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.app")

MAX_BODY = 1_000_000
MAX_NOTES = 1_000
RATE_LIMIT = 60
RATE_PERIOD = 60.0
AUTH_FAIL_LIMIT = 20
MAX_CLIENTS_TRACKED = 1_000


def _error(status: int, message: str, **extra: Any) -> web.Response:
    body = {"error": message, **extra}
    return web.json_response(body, status=status)


class RateLimiter:
    """A sliding window: at most `limit` hits in any `period` seconds."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.period = period
        self._clock = clock
        self._hits: collections.deque[float] = collections.deque()

    def hit(self) -> float | None:
        """Record a hit; None if allowed, else seconds until one more would be."""
        now = self._clock()
        while self._hits and self._hits[0] <= now - self.period:
            self._hits.popleft()
        if len(self._hits) >= self.limit:
            return max(0.0, self._hits[0] + self.period - now)
        self._hits.append(now)
        return None


class _PlainErrorHandler(RequestHandler):
    """aiohttp's protocol handler, except that a request it cannot parse gets a plain
    "400 Bad Request": aiohttp's own answer quotes the offending header line (which may be
    `Authorization: Bearer <token>`) and logs it with a traceback."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        log.info("recorder intake refused a malformed request (%d)", status)
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        response = web.Response(status=status, text=f"{status} {phrase}\n")
        response.force_close()
        return response


class _PlainErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _PlainErrorHandler(self, loop=self._loop, **self._kwargs)


class _PlainErrorRunner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _PlainErrorServer
        return server


class _NoBadRequestTracebacks(logging.Filter):
    """On aiohttp's `aiohttp.server` logger: drop the records of requests it could not parse
    (their message and traceback quote the raw header line, token included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return error is None or type(error).__module__ != "aiohttp.http_exceptions"


_BAD_REQUEST_FILTER = _NoBadRequestTracebacks()


class IntakeServer:
    """The intake's aiohttp application and its listening socket.

    `token` returns the current bearer token (default: the keyring's, created on first use);
    it is read when the server starts and again after `reload_token()`.
    """

    def __init__(
        self,
        services: Services,
        *,
        token: Callable[[], str | None] | None = None,
        max_body: int = MAX_BODY,
        max_notes: int = MAX_NOTES,
        rate_limit: int = RATE_LIMIT,
        rate_period: float = RATE_PERIOD,
        auth_fail_limit: int = AUTH_FAIL_LIMIT,
        on_created: Callable[[list[int]], None] | None = None,
    ) -> None:
        self._services = services
        self._token_source = token or (lambda: secrets.intake_token(create=True))
        self._token: str | None = None
        self._token_error: str | None = None
        self.max_body = max_body
        self.max_notes = max_notes
        self._limiter = RateLimiter(rate_limit, rate_period)
        self._auth_fail_limit = auth_fail_limit
        self._rate_period = rate_period
        self._auth_failures: collections.OrderedDict[str, RateLimiter] = collections.OrderedDict()
        self._on_created = on_created
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port: int | None = None
        # Database and keyring calls run on our own plain threads (not the loop's default
        # executor: under qasync that is a QThread pool nobody would stop at quit).
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=2, thread_name_prefix="lossy-intake"
            )
        return self._executor

    # -- life cycle -------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body, middlewares=[self._guard])
        app.router.add_get("/v1/health", self._health)
        app.router.add_post("/v1/notes", self._post_notes)
        app.router.add_route("OPTIONS", "/v1/notes", self._preflight)
        app.router.add_route("OPTIONS", "/v1/health", self._preflight)
        return app

    async def reload_token(self) -> None:
        """Read the token again (after Regenerate in settings). Keyring calls run off-loop."""
        loop = asyncio.get_running_loop()
        try:
            self._token = await loop.run_in_executor(self._pool(), self._token_source)
            self._token_error = None if self._token else secrets.NO_BACKEND_FOR_TOKEN
        except LossyError as error:
            self._token, self._token_error = None, str(error)
        except Exception as error:  # a keyring backend failing in its own way
            self._token = None
            self._token_error = f"The system keyring could not be read ({type(error).__name__})."

    async def start(self, port: int) -> int:
        """Listen on 127.0.0.1:port (0 picks a free port). Returns the port."""
        if self._runner is not None:
            raise RuntimeError("intake already running")
        await self.reload_token()
        server_log = logging.getLogger("aiohttp.server")
        if _BAD_REQUEST_FILTER not in server_log.filters:
            server_log.addFilter(_BAD_REQUEST_FILTER)
        runner = _PlainErrorRunner(self.make_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=reuse_address())
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner, self._site = runner, site
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("recorder intake listening on 127.0.0.1:%s", self.port)
        return self.port

    async def stop(self) -> None:
        runner, self._runner, self._site = self._runner, None, None
        if runner is not None:
            await runner.cleanup()
            log.info("recorder intake stopped")
        self.port = None
        executor, self._executor = self._executor, None
        if executor is not None:
            # Its threads end once their (short) database call does; don't block the loop.
            executor.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def token_problem(self) -> str | None:
        """Why no request can be accepted (no keyring), or None."""
        return self._token_error

    # -- request handling -------------------------------------------------------------------

    def _allowed_origin(self) -> str | None:
        origin = self._services.settings.get("recorder_origin").rstrip("/")
        return origin or None

    def _cors(self, request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        allowed = self._allowed_origin()
        if origin and allowed and origin.rstrip("/") == allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if not host_is_loopback(request.headers.get("Host")):
            return _error(421, MISDIRECTED)
        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/") != (self._allowed_origin() or "\0"):
            return _error(403, "origin not allowed (set recorder_origin in settings)")
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as error:
            response = _error(error.status, error.reason)
        self._cors(request, response)
        return response

    async def _preflight(self, request: web.Request) -> web.Response:
        # The guard already refused any origin but the configured one.
        if request.headers.get("Origin") is None:
            return _error(400, "a preflight request needs an Origin header")
        response = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        return response

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "version": __version__})

    def _authorized(self, request: web.Request) -> bool:
        # The raw bytes: a header that is not UTF-8 is a wrong token, not an encoding error.
        header = next((v for k, v in request.raw_headers if k.lower() == b"authorization"), b"")
        scheme, _, given = header.partition(b" ")
        given = given.strip()
        if scheme.lower() != b"bearer" or not given or self._token is None:
            return False
        return hmac.compare_digest(given, self._token.encode())

    def _auth_failed(self, request: web.Request) -> float | None:
        """Count a failed authentication for the request's client: None, or how long it must
        wait (it is over the limit)."""
        client = request.remote or "?"
        limiter = self._auth_failures.pop(client, None)
        if limiter is None:
            limiter = RateLimiter(self._auth_fail_limit, self._rate_period)
            while len(self._auth_failures) >= MAX_CLIENTS_TRACKED:
                self._auth_failures.popitem(last=False)
        self._auth_failures[client] = limiter
        return limiter.hit()

    @staticmethod
    def _too_many(wait: float) -> web.Response:
        response = _error(429, "too many requests; try again later")
        response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return response

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The body, or None when it is over the limit (reads at most limit + 1 bytes)."""
        if request.content_length is not None and request.content_length > self.max_body:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await request.content.readany()
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _post_notes(self, request: web.Request) -> web.Response:
        if self._token is None:
            return _error(503, self._token_error or secrets.NO_BACKEND_FOR_TOKEN)
        if not self._authorized(request):
            wait = self._auth_failed(request)
            if wait is not None:
                return self._too_many(wait)
            response = _error(401, "missing or wrong bearer token")
            response.headers["WWW-Authenticate"] = 'Bearer realm="lossy-desktop"'
            return response
        wait = self._limiter.hit()
        if wait is not None:
            return self._too_many(wait)
        body = await self._read_body(request)
        if body is None:
            return _error(413, f"body too large (at most {self.max_body} bytes)")
        if request.content_type not in ("application/json", ""):
            return _error(415, "send JSON (Content-Type: application/json)")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return _error(400, f"body is not valid JSON: {error}")
        except (ValueError, RecursionError):  # an integer of > 4300 digits; nesting too deep
            return _error(400, "body is not usable JSON (a number too long or nesting too deep)")
        items = payload if isinstance(payload, list) else [payload]
        if not items:
            return _error(422, "no notes in the request", index=None, field="notes")
        if len(items) > self.max_notes:
            return _error(422, f"at most {self.max_notes} notes per request", field="notes")
        loop = asyncio.get_running_loop()
        try:
            created, duplicates = await loop.run_in_executor(
                self._pool(), self._validate_and_create, items
            )
        except ValidationError as error:
            index = error.line - 1 if error.line is not None else None
            where = f"note {index}: " if index is not None else ""
            return _error(
                422, f"{where}{error.field}: {error.message}", index=index, field=error.field
            )
        except LossyError as error:
            return _error(400, str(error))
        ids = [note["id"] for note in created]
        log.info("recorder intake received %d note(s), %d already known", len(ids), len(duplicates))
        if ids and self._on_created is not None:
            self._on_created(ids)
        return web.json_response(
            {"created": created, "duplicates": duplicates}, status=201 if created else 200
        )

    def _validate_and_create(self, items: list[Any]) -> tuple[list[dict[str, Any]], list[int]]:
        """Runs on a worker thread: validate every note, then write them all or none.

        A note already stored (same external id, or same video, time and text) is not stored
        twice: a recorder may safely send a batch again after a lost response. Returns the
        created notes and the indexes of the duplicates."""
        from lossy_desktop.core.notes import validate_note

        inputs = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValidationError("note", "must be a JSON object", line=index + 1)
            inputs.append(validate_note(item, self._services.settings, line=index + 1))
        views = self._services.notes.import_many(inputs)
        created = [
            {
                "id": view.id,
                "external_id": view.external_id,
                "status": view.status,
                "queued": view.queued,
            }
            for view in views
            if view is not None
        ]
        duplicates = [index for index, view in enumerate(views) if view is None]
        return created, duplicates


class IntakeController(QObject):
    """Runs the IntakeServer on the app's asyncio loop (qasync) per the `intake_port` setting.

    `apply()` (re)starts or stops the server after a settings change; `reload_token()` after the
    token is regenerated; `aclose()` at quit. `stateChanged(str)` carries a sentence for the
    settings window ("Listening on 127.0.0.1:8765", "Off", "Port 8765 is in use…");
    `notesReceived(list)` the ids of notes that arrived.
    """

    stateChanged = Signal(str)
    notesReceived = Signal(list)

    def __init__(
        self,
        services: Services,
        parent: QObject | None = None,
        *,
        token: Callable[[], str | None] | None = None,
        **server_options: Any,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._server = IntakeServer(
            services, token=token, on_created=self._created, **server_options
        )
        self._state = "Off"
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def state(self) -> str:
        return self._state

    @property
    def port(self) -> int | None:
        return self._server.port

    @property
    def server(self) -> IntakeServer:
        return self._server

    def _set_state(self, text: str) -> None:
        self._state = text
        self.stateChanged.emit(text)

    def _created(self, ids: list[int]) -> None:
        self.notesReceived.emit(ids)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def apply(self) -> asyncio.Task[None]:
        """Start, restart or stop the server to match the settings (on the running loop)."""
        return self._spawn(self.restart())

    def reload_token(self) -> asyncio.Task[None]:
        return self._spawn(self._reload_token())

    async def _reload_token(self) -> None:
        await self._server.reload_token()
        if self._server.running:
            self._report_running()

    def _report_running(self) -> None:
        problem = self._server.token_problem
        where = f"Listening on 127.0.0.1:{self._server.port}"
        # The problem itself is said once, beside the token (Settings ▸ Recorder).
        self._set_state(f"{where}, but refusing notes: it has no token" if problem else where)

    async def restart(self) -> None:
        async with self._lock:
            port = self._services.settings.get("intake_port")
            if self._server.running and self._server.port == port:
                await self._server.reload_token()
                self._report_running()
                return
            await self._server.stop()
            if port == 0:
                self._set_state("Off")
                return
            try:
                await self._server.start(port)
            except OSError as error:
                log.warning("recorder intake could not listen on port %s: %s", port, error)
                self._set_state(
                    f"Port {port} is in use or not allowed ({error.strerror or error}); "
                    "choose another port"
                )
                return
            self._report_running()

    async def aclose(self) -> None:
        async with self._lock:
            await self._server.stop()
        self._set_state("Off")
