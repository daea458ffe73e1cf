"""The sandbox web server: mock YouTube, Vimeo and Air, the sandbox's JSON API, a fake
Browserbase API — all on one aiohttp app bound to 127.0.0.1.

What the platforms share is here (sessions and login cookies, fault switches, the comment API's
checks, the pages that stop automation, the loopback Host/Origin guard); what each one is
(addresses, texts, pages, its own routes) is its module in platforms/.

Tests and benchmarks use `SandboxServer` (a background thread with its own asyncio loop):

    with SandboxServer(port=0) as sb:
        page.goto(sb.video_url("youtube", "abc"))
        sb.set_fault("youtube", "rate_limited", count=1)
        assert sb.comments("youtube", "abc")[0]["text"] == "0:12 — hello"

See README.md in this folder for the URLs, selectors, endpoints and faults.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from lossy_desktop.core.loopback import (
    MISDIRECTED,
    host_is_loopback,
    is_loopback_name,
    reuse_address,
    websocket_origin_allowed,
)
from lossy_desktop.sandbox import pages
from lossy_desktop.sandbox.browserbase import APIError, FakeBrowserbase
from lossy_desktop.sandbox.model import Comment, SandboxError, Video
from lossy_desktop.sandbox.pages import PageView
from lossy_desktop.sandbox.platforms import PLATFORMS, get_platform
from lossy_desktop.sandbox.state import Fault, SandboxState

log = logging.getLogger("lossy.sandbox")

STATIC_DIR = Path(__file__).with_name("static")
BROWSERBASE_KEY: web.AppKey[FakeBrowserbase] = web.AppKey("browserbase", FakeBrowserbase)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COOKIE_MAX_AGE = 30 * 24 * 3600

# The cookie a real site sets once its check is passed; the sandbox then serves the page again.
CHALLENGE_PASS_COOKIES = {
    "consent": "SOCS",
    "unusual_traffic": "GOOGLE_ABUSE_EXEMPTION",
    "verify_its_you": "SIDCC",
    "verify_to_continue": "cf_clearance",
    "cloudflare": "cf_clearance",
    "bot_check": "SIDCC",
}
# Which cookie each challenge form's address sets (the last part of its path).
CHALLENGE_PASS_BY_PATH = {
    "save": "SOCS",
    "index": "GOOGLE_ABUSE_EXEMPTION",
    "pk": "SIDCC",
    "_unblock_ratelimit": "cf_clearance",
    "pass": "cf_clearance",
}


class DroppedConnection(Exception):
    """Raised inside a handler to close the connection without an answer."""


@dataclass
class Gate:
    """What the faults decided for one request that goes ahead."""

    drop_after_commit: bool = False
    stored_twice: bool = False
    """`resent=True`: the browser re-sent the POST (its socket was reset before any answer):
    the comment is stored twice, and the connection drops before an answer."""


def published_text(created_at: float) -> str:
    age = max(0.0, time.time() - created_at)
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if age >= size:
            n = int(age // size)
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "just now"


def comment_json(comment: Comment, video: Video) -> dict[str, Any]:
    """A comment as the platform's API answers it to the page's script."""
    return {
        "id": comment.id,
        "author": comment.author,
        "avatar": pages.avatar_url(comment.author),
        "text": comment.text,
        "time": comment.time,
        "permalink": comment.permalink,
        "path": get_platform(comment.platform).comment_link(video, comment.id),
        "held": comment.held,
        "createdAt": comment.created_at,
        "publishedText": published_text(comment.created_at),
    }


def _json_error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers or None
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _sandbox_path(value: str | None) -> str:
    """A challenge page's `continue`: only a path under one of the platforms is followed."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value if value.split("/")[1].split("?")[0] in PLATFORMS else "/"


def _safe_continue(platform: str, value: str | None) -> str:
    """Only same-site paths under the platform are followed after login."""
    home = f"/{platform}"
    if not value:
        return home
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith(home) or value.startswith("//"):
        return home
    return value


class PlatformSite:
    """The routes of the mock platforms (what they share here, the rest in their modules in
    platforms/) and of /_sandbox/."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    # ---- faults and sessions -------------------------------------------------------------

    async def gate(
        self, request: web.Request, platform: str, scope: str, video_id: str | None
    ) -> Gate:
        """Apply dropped_connection, server_error and slow_page faults to a request."""
        state = self.state
        drop = state.take_fault(platform, scope, video_id, ("dropped_connection",))
        gate = Gate()
        if drop is not None:
            if scope == "post" and drop.params.get("after_commit"):
                gate.drop_after_commit = True
                gate.stored_twice = bool(drop.params.get("resent"))
            else:
                log.info("sandbox: %s %s: dropping the connection (fault)", platform, scope)
                raise DroppedConnection()
        err = state.take_fault(platform, scope, video_id, ("server_error",))
        if err is not None:
            status = int(err.params.get("status", 500))
            message = get_platform(platform).messages["server_error"]
            log.info("sandbox: %s %s: answering %d (fault)", platform, scope, status)
            if scope == "page":
                raise _HTTPPage(status, pages.unavailable(platform, message))
            raise _HTTPJSON(status, "server_error", message)
        slow = state.take_fault(platform, scope, video_id, ("slow_page",))
        if slow is not None:
            await asyncio.sleep(float(slow.params.get("delay", 3.0)))
        return gate

    # ---- pages that stop automation (site_challenge) -------------------------------------

    def challenge(self, request: web.Request, platform: str, video_id: str | None) -> bool:
        """Serve the site_challenge fault's page instead of the platform's (a redirect to
        Google's consent / "unusual traffic" / "Verify it's you" page, or Vimeo's or
        Cloudflare's check in place) — unless this browser already got past that check.
        True: YouTube's bot check, drawn in the watch page's player."""
        fault = self.state.take_fault(platform, "page", video_id, ("site_challenge",))
        if fault is None:
            return False
        variant = str(fault.params.get("variant"))
        if request.cookies.get(CHALLENGE_PASS_COOKIES[variant]):
            return False
        if variant == "bot_check":
            return True
        here = quote(request.path_qs, safe="")
        log.info("sandbox: %s page: serving the %s challenge (fault)", platform, variant)
        if variant == "consent":
            raise web.HTTPFound(
                f"/consent.youtube.com/m?continue={here}&gl=GB&m=0&pc=yt&hl=en&src=1"
            )
        if variant == "unusual_traffic":
            raise web.HTTPFound(f"/www.google.com/sorry/index?continue={here}&hl=en")
        if variant == "verify_its_you":
            raise web.HTTPFound(
                f"/accounts.google.com/v3/signin/challenge/pk?continue={here}"
                "&flowName=GlifWebSignIn"
            )
        if variant == "verify_to_continue":
            html = pages.verify_to_continue_page(platform, request.path_qs)
            raise web.HTTPForbidden(text=html, content_type="text/html")
        ray = secrets.token_hex(8)
        html = pages.cloudflare_page(request.host, request.path_qs, ray)
        raise web.HTTPForbidden(
            text=html, content_type="text/html", headers={"cf-mitigated": "challenge"}
        )

    async def consent_form(self, request: web.Request) -> web.Response:
        target = _sandbox_path(request.query.get("continue"))
        return _html(pages.consent_page(target, get_platform("youtube").login_path))

    async def sorry_form(self, request: web.Request) -> web.Response:
        target = _sandbox_path(request.query.get("continue"))
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return _html(pages.sorry_page(target, request.remote or "127.0.0.1", when), 429)

    async def verify_its_you_form(self, request: web.Request) -> web.Response:
        target = _sandbox_path(request.query.get("continue"))
        return _html(pages.verify_its_you_page(target))

    async def challenge_passed(self, request: web.Request) -> web.Response:
        """A challenge page's form: the check is passed (its cookie set), on to `continue`."""
        form = await request.post()
        target = _sandbox_path(str(form.get("continue", "") or ""))
        cookie = CHALLENGE_PASS_BY_PATH[request.path.rsplit("/", 1)[-1]]
        response = web.HTTPSeeOther(target)
        response.set_cookie(cookie, secrets.token_urlsafe(12), path="/", samesite="Lax")
        raise response

    def session(self, request: web.Request, platform: str) -> str | None:
        cookie = request.cookies.get(get_platform(platform).cookie_name)
        login = self.state.lookup_login(platform, cookie)
        return login.account if login else None

    def login_fault(self, platform: str, scope: str, video_id: str | None) -> Fault | None:
        return self.state.take_fault(platform, scope, video_id, ("session_expired", "logged_out"))

    # ---- pages ---------------------------------------------------------------------------

    def video(self, platform: str, video_id: str) -> Video | None:
        return self.state.video(platform, video_id)

    def not_found(self, platform: str) -> web.Response:
        """The platform's page for a video that does not exist (404)."""
        return _html(self._unavailable(platform, not_found=True), 404)

    def _unavailable(self, platform: str, *, not_found: bool = False) -> str:
        site = get_platform(platform)
        attrs = site.not_found_attrs if not_found else ""
        return pages.unavailable(platform, site.messages["invalid_video"], attrs)

    async def video_page(
        self, request: web.Request, platform: str, video_id: str, highlight: str | None
    ) -> web.Response:
        """A video's page as the platform draws it, after the faults and the session."""
        state = self.state
        await self.gate(request, platform, "page", video_id)
        bot_check = self.challenge(request, platform, video_id)
        video = state.video(platform, video_id)
        if video is None:
            return self.not_found(platform)
        if not video.exists:
            return _html(self._unavailable(platform, not_found=True))
        viewer = self.session(request, platform)
        expired = False
        lf = self.login_fault(platform, "page", video_id)
        if lf is not None and viewer is not None:
            viewer = None
            expired = lf.kind == "session_expired"
        disabled = not video.comments_enabled
        if state.take_fault(platform, "page", video_id, ("comments_disabled",)) is not None:
            disabled = True
        variant = "normal"
        changed = state.take_fault(platform, "page", video_id, ("changed_selectors",))
        if changed is not None:
            variant = str(changed.params.get("variant", "ids"))
        view_id = state.record_view(
            {"logged_out": lf is not None, "expired": expired, "disabled": disabled}
        )
        view = PageView(
            video,
            view_id,
            viewer=viewer,
            expired=expired,
            disabled=disabled,
            variant=variant,
            highlight=highlight,
            bot_check=bot_check,
        )
        return _html(get_platform(platform).video_page(view))

    async def home(self, request: web.Request) -> web.Response:
        platform = request.match_info["platform"]
        await self.gate(request, platform, "page", None)
        self.challenge(request, platform, None)
        viewer = self.session(request, platform)
        if self.login_fault(platform, "page", None) is not None:
            viewer = None
        videos = [v for v in self._videos(platform) if v.exists]
        return _html(get_platform(platform).home_page(viewer, videos))

    def _videos(self, platform: str) -> list[Video]:
        out = []
        for info in self.state.videos():
            if info["platform"] == platform:
                video = self.state.video(platform, info["id"], create=False)
                if video is not None:
                    out.append(video)
        return out

    # ---- login ---------------------------------------------------------------------------

    def _platform_of(self, request: web.Request) -> str:
        return request.path.split("/")[1]

    async def login_form(self, request: web.Request) -> web.Response:
        platform = self._platform_of(request)
        await self.gate(request, platform, "page", None)
        target = _safe_continue(platform, request.query.get("continue"))
        return _html(get_platform(platform).login_page(target, None))

    async def login_submit(self, request: web.Request) -> web.Response:
        platform = self._platform_of(request)
        form = await request.post()
        account = str(form.get("account", "")).strip()
        target = _safe_continue(platform, str(form.get("continue", "") or ""))
        render = get_platform(platform).login_page
        if not account or len(account) > 100 or any(ord(ch) < 32 for ch in account):
            error = "Enter an account name (1–100 characters)."
            return _html(render(target, error), 400)
        seen = str(form.get(pages.CLIENT_FIELD, ""))
        self.state.sign_ins.append({"platform": platform, "account": account, "webdriver": seen})
        if seen != "false":
            log.info("sandbox: %s: refused a sign-in from an automated browser", platform)
            return _html(render(target, pages.NOT_SECURE), 400)
        login = self.state.login(platform, account)
        log.info("sandbox: %s: %s logged in", platform, account)
        response = web.HTTPSeeOther(target)
        response.set_cookie(
            get_platform(platform).cookie_name,
            login.token,
            path=f"/{platform}",
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
        )
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        platform = self._platform_of(request)
        cookie = get_platform(platform).cookie_name
        token = request.cookies.get(cookie)
        if token:
            self.state.logout(platform, token)
        response = web.HTTPSeeOther(f"/{platform}")
        response.del_cookie(cookie, path=f"/{platform}")
        raise response

    # ---- comments API (what the pages' scripts call) -------------------------------------

    async def list_comments(self, request: web.Request, platform: str, video_id: str) -> Any:
        await self.gate(request, platform, "list", video_id)
        video = self.state.video(platform, video_id)
        if video is None or not video.exists:
            raise _HTTPJSON(404, "invalid_video", get_platform(platform).messages["invalid_video"])
        flags = self.state.view_flags(request.headers.get("X-Sandbox-View"))
        viewer = None if flags.get("logged_out") else self.session(request, platform)
        if flags.get("disabled") or not video.comments_enabled:
            return web.json_response({"disabled": True, "comments": [], "viewer": viewer})
        shown = self.state.visible_comments(platform, video_id, viewer)
        return web.json_response(
            {
                "disabled": False,
                "viewer": viewer,
                "comments": [comment_json(c, video) for c in shown],
            }
        )

    async def post_comment(self, request: web.Request, platform: str, video_id: str) -> Any:
        state = self.state
        gate = await self.gate(request, platform, "post", video_id)
        site = get_platform(platform)
        messages = site.messages
        video = state.video(platform, video_id)
        if video is None or not video.exists:
            raise _HTTPJSON(404, "invalid_video", messages["invalid_video"])
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _HTTPJSON(400, "bad_request", "The request body must be JSON.")
        if not isinstance(body, dict):
            raise _HTTPJSON(400, "bad_request", "The request body must be a JSON object.")
        flags = state.view_flags(request.headers.get("X-Sandbox-View"))
        account = self.session(request, platform)
        lf = self.login_fault(platform, "post", video_id)
        if account is None or flags.get("logged_out") or lf is not None:
            expired = flags.get("expired") or (lf is not None and lf.kind == "session_expired")
            code = "session_expired" if expired else "not_logged_in"
            raise _HTTPJSON(401, code, messages[code])
        assert account is not None
        if (
            flags.get("disabled")
            or not video.comments_enabled
            or state.take_fault(platform, "post", video_id, ("comments_disabled",)) is not None
        ):
            raise _HTTPJSON(403, "comments_disabled", messages["comments_disabled"])
        text = body.get("text", body.get("commentText"))
        if not isinstance(text, str) or not text.strip():
            raise _HTTPJSON(400, "empty", messages["empty"])
        text = text.strip()
        if len(text) > site.comment_limit:
            raise _HTTPJSON(400, "text_too_long", messages["text_too_long"])
        limited = state.take_fault(platform, "post", video_id, ("rate_limited",))
        if limited is not None:
            retry = str(int(float(limited.params.get("retry_after", 30))))
            log.info("sandbox: %s: rate limited a comment (fault)", platform)
            raise _HTTPJSON(429, "rate_limited", messages["rate_limited"], retry_after=retry)
        held = state.take_fault(platform, "post", video_id, ("held_for_review",)) is not None
        player_time = _number(body.get("playerTime"))
        time_code = _number(body.get("timeCode")) if site.takes_time_code else None

        def store() -> Comment:
            return state.add_comment(
                platform,
                video_id,
                text,
                account,
                player_time=player_time,
                time_code=time_code,
                held=held,
            )

        comment = store()
        log.info("sandbox: %s/%s: comment %s by %s", platform, video_id, comment.id, account)
        if gate.stored_twice:
            # The same POST arriving a second time (a browser's automatic resend): a second copy.
            again = store()
            log.info(
                "sandbox: %s/%s: resent comment stored again as %s", platform, video_id, again.id
            )
        if gate.drop_after_commit:
            raise DroppedConnection()
        return web.json_response({"comment": comment_json(comment, video)})

    async def delete_comment(
        self, request: web.Request, platform: str, video_id: str, comment_id: str
    ) -> Any:
        """Delete the viewer's own comment (404 when it is already gone)."""
        account = self.session(request, platform)
        if account is None:
            raise _HTTPJSON(401, "not_logged_in", get_platform(platform).messages["not_logged_in"])
        try:
            deleted = self.state.delete_comment(platform, video_id, comment_id, account)
        except SandboxError as error:
            raise _HTTPJSON(403, "forbidden", str(error))
        self.state.record_delete_request(platform, video_id, comment_id, deleted)
        if not deleted:
            raise _HTTPJSON(404, "not_found", "This comment has been deleted.")
        log.info(
            "sandbox: %s/%s: comment %s deleted by %s", platform, video_id, comment_id, account
        )
        return web.json_response({"deleted": comment_id})

    # ---- /_sandbox/ ----------------------------------------------------------------------

    async def sb_comments(self, request: web.Request) -> web.Response:
        platform = request.query.get("platform") or None
        video = request.query.get("video") or request.query.get("video_id") or None
        found = self.state.comments(platform, video)
        return web.json_response({"comments": [c.public() for c in found]})

    async def sb_faults(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.json_response({"faults": self.state.faults()})
        if request.method == "DELETE":
            self.state.clear_faults(request.query.get("platform") or None)
            return web.json_response({"faults": self.state.faults()})
        body = await _json_body(request)
        params = dict(body)
        platform = params.pop("platform", None)
        fault = params.pop("fault", None)
        if not isinstance(platform, str) or not isinstance(fault, str):
            raise SandboxError("give 'platform' and 'fault'")
        count = params.pop("count", None)
        video_id = params.pop("video_id", None)
        entry = self.state.set_fault(platform, fault, count=count, video_id=video_id, **params)
        return web.json_response(entry, status=201)

    async def sb_reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        bb = request.app.get(BROWSERBASE_KEY)
        if bb is not None:
            await bb.reset()
        return web.json_response({"ok": True})

    async def sb_sessions(self, request: web.Request) -> web.Response:
        bb = request.app.get(BROWSERBASE_KEY)
        return web.json_response(
            {"logins": self.state.logins(), "browserbase": bb.summaries() if bb else []}
        )

    async def sb_videos(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.json_response({"videos": self.state.videos()})
        body = await _json_body(request)
        platform, video_id = body.get("platform"), body.get("id")
        if not isinstance(platform, str) or not isinstance(video_id, str):
            raise SandboxError("give 'platform' and 'id'")
        allowed = {"duration", "title", "comments_enabled", "exists", "workspace"}
        extra = {k: v for k, v in body.items() if k in allowed}
        unknown = set(body) - allowed - {"platform", "id"}
        if unknown:
            raise SandboxError(f"unknown video field(s): {', '.join(sorted(unknown))}")
        return web.json_response(self.state.set_video(platform, video_id, **extra), status=201)

    async def sb_login(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        platform, account = body.get("platform"), body.get("account")
        if not isinstance(platform, str) or not isinstance(account, str) or not account.strip():
            raise SandboxError("give 'platform' and 'account'")
        login = self.state.login(platform, account.strip())
        return web.json_response(
            {"cookie": cookie_for(self.state.base_url, platform, login.token)}, status=201
        )

    async def sb_health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "platforms": list(PLATFORMS)})

    async def sb_index(self, request: web.Request) -> web.Response:
        links = "".join(f'<li><a href="/{p}">{p}</a></li>' for p in PLATFORMS)
        return _html(
            "<!DOCTYPE html><title>Lossy sandbox</title><h1>Lossy Desktop sandbox</h1>"
            f"<ul>{links}</ul><p>JSON: <a href='/_sandbox/comments'>/_sandbox/comments</a>, "
            "<a href='/_sandbox/faults'>/_sandbox/faults</a>, "
            "<a href='/_sandbox/sessions'>/_sandbox/sessions</a></p>"
        )

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/", self.sb_index)
        r.add_get("/favicon.ico", _no_content)
        r.add_get("/_sandbox", self.sb_index)
        r.add_get("/_sandbox/health", self.sb_health)
        r.add_get("/_sandbox/comments", self.sb_comments)
        r.add_route("*", "/_sandbox/faults", self.sb_faults)
        r.add_post("/_sandbox/reset", self.sb_reset)
        r.add_get("/_sandbox/sessions", self.sb_sessions)
        r.add_get("/_sandbox/videos", self.sb_videos)
        r.add_post("/_sandbox/videos", self.sb_videos)
        r.add_post("/_sandbox/login", self.sb_login)
        r.add_static("/_sandbox/static", STATIC_DIR)
        for site in PLATFORMS.values():
            r.add_get(site.login_path, self.login_form)
            r.add_post(site.login_path, self.login_submit)
            r.add_get(site.logout_path, self.logout)
        for site in PLATFORMS.values():
            r.add_routes(site.routes(self))
        keys = "|".join(PLATFORMS)
        r.add_get("/consent.youtube.com/m", self.consent_form)
        r.add_post("/consent.youtube.com/save", self.challenge_passed)
        r.add_get("/www.google.com/sorry/index", self.sorry_form)
        r.add_post("/www.google.com/sorry/index", self.challenge_passed)
        r.add_get("/accounts.google.com/v3/signin/challenge/pk", self.verify_its_you_form)
        r.add_post("/accounts.google.com/v3/signin/challenge/pk", self.challenge_passed)
        r.add_post(f"/{{platform:{keys}}}/_unblock_ratelimit", self.challenge_passed)
        r.add_post("/cdn-cgi/challenge-platform/h/g/flow/pass", self.challenge_passed)
        r.add_get(f"/{{platform:{keys}}}", self.home)
        r.add_get(f"/{{platform:{keys}}}/", self.home)


async def _value(fn: Callable[[], Any]) -> Any:
    return fn()


async def _no_content(request: web.Request) -> web.Response:
    return web.Response(status=204)


class _HTTPJSON(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after

    def response(self) -> web.Response:
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        return _json_error(self.status, self.code, self.message, **headers)


class _HTTPPage(Exception):
    def __init__(self, status: int, html: str):
        super().__init__(status)
        self.status, self.html = status, html


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SandboxError("the body must be JSON")
    if not isinstance(body, dict):
        raise SandboxError("the body must be a JSON object")
    return body


def cookie_for(base_url: str, platform: str, token: str) -> dict[str, Any]:
    """A login cookie in Playwright's `context.add_cookies` shape."""
    return {
        "name": get_platform(platform).cookie_name,
        "value": token,
        "url": f"{base_url}/{platform}",
        "httpOnly": True,
        "sameSite": "Lax",
        "expires": time.time() + COOKIE_MAX_AGE,
    }


@web.middleware
async def _loopback_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer only requests addressed to the loopback interface (a DNS-rebinding page sends its
    own domain as Host: 421), and accept WebSockets (the CDP connect URL, the live view) only
    from programs or from this server's own pages (403 for a foreign Origin)."""
    host = request.headers.get("Host")
    if not host_is_loopback(host):
        return _json_error(421, "misdirected_request", MISDIRECTED)
    upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
    if upgrade and not websocket_origin_allowed(request.headers.get("Origin"), host):
        return _json_error(
            403,
            "forbidden_origin",
            "WebSocket connections from web pages on other origins are refused",
        )
    return await handler(request)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DroppedConnection:
        if request.transport is not None:
            # Start an answer, then cut it: a browser silently re-sends a request whose
            # connection closed before any byte came back (which would hide the fault, or post
            # twice after a commit); a truncated answer is a real, visible failure.
            request.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 4096\r\n\r\n{"
            )
            request.transport.abort()
        raise web.HTTPInternalServerError()  # never sent: the connection is gone
    except _HTTPJSON as error:
        return error.response()
    except APIError as error:
        return error.response()
    except _HTTPPage as error:
        return _html(error.html, error.status)
    except SandboxError as error:
        return web.json_response({"error": str(error)}, status=400)


def build_app(state: SandboxState, browserbase: FakeBrowserbase | None = None) -> web.Application:
    app = web.Application(middlewares=[_loopback_guard, _errors], client_max_size=2 * 1024 * 1024)
    PlatformSite(state).add_routes(app)
    if browserbase is not None:
        app[BROWSERBASE_KEY] = browserbase
        browserbase.add_routes(app)
    return app


def check_loopback(host: str) -> None:
    if is_loopback_name(host):
        return
    raise SandboxError(f"the sandbox serves on a loopback address only (got {host!r})")


class SandboxServer:
    """The sandbox in a background thread with its own asyncio loop."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        browserbase_api_key: str | None = None,
        max_sessions: int = 3,
        plan: str = "developer",
        profiles_dir: Path | None = None,
        default_timeout: int = 300,
        connect_timeout: float = 300.0,
        chromium_path: str | None = None,
        time_scale: float = 1.0,
    ) -> None:
        check_loopback(host)
        if max_sessions < 1:
            raise SandboxError("max_sessions must be at least 1")
        self.host = host
        self.requested_port = port
        self.port = 0
        self.state = SandboxState()
        # No fixed default: a key anyone can guess would let any local program (or a page,
        # through the API) start browsers here. A fresh random one per run unless given.
        self.browserbase_api_key = browserbase_api_key or secrets.token_urlsafe(24)
        self._bb_options: dict[str, Any] = {
            "api_key": self.browserbase_api_key,
            "max_sessions": max_sessions,
            "plan": plan,
            "profiles_dir": profiles_dir,
            "default_timeout": default_timeout,
            "connect_timeout": connect_timeout,
            "chromium_path": chromium_path,
            "time_scale": time_scale,
        }
        self.browserbase: FakeBrowserbase | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None

    # ---- life cycle ----------------------------------------------------------------------

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> SandboxServer:
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="lossy-sandbox", daemon=True)
        self._thread.start()
        ready.wait(10)
        try:
            self._call(self._start_site(), timeout=30)
        except BaseException:
            self.stop()
            raise
        log.info("sandbox: serving on %s", self.base_url)
        return self

    async def _start_site(self) -> None:
        self.browserbase = FakeBrowserbase(self.state, **self._bb_options)
        self._app = build_app(self.state, self.browserbase)
        self._runner = web.AppRunner(
            self._app, handle_signals=False, access_log=None, shutdown_timeout=5
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.host, self.requested_port, reuse_address=reuse_address()
        )
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        self.state.base_url = self.base_url
        self.browserbase.base_url = self.base_url

    async def _stop_site(self) -> None:
        if self.browserbase is not None:
            await self.browserbase.end_all()  # stops every Chromium, closes their sockets
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if loop.is_running():
                self._call(self._stop_site(), timeout=60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()
            self._loop = None
            self._thread = None
            log.info("sandbox: stopped")

    def _call(self, coro: Awaitable[Any], timeout: float = 30) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    # ---- addresses -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def home_url(self, platform: str) -> str:
        return self.base_url + get_platform(platform).home_path

    def login_url(self, platform: str) -> str:
        return self.base_url + get_platform(platform).login_path

    def video_url(self, platform: str, video_id: str) -> str:
        """The video's page (Air's in the asset's workspace, once a visit named it)."""
        site = get_platform(platform)
        video = self.state.video(platform, video_id, create=False) or Video(platform, video_id)
        return self.base_url + site.video_path(video)

    # ---- state ---------------------------------------------------------------------------

    def comments(
        self, platform: str | None = None, video_id: str | None = None
    ) -> list[dict[str, Any]]:
        return [c.public() for c in self.state.comments(platform, video_id)]

    def set_fault(self, platform: str, fault: str, **options: Any) -> dict[str, Any]:
        """Switch a fault on: `count=`, `video_id=`, `on=` and the fault's own params, as
        `SandboxState.set_fault` takes them."""
        return self.state.set_fault(platform, fault, **options)

    def faults(self) -> list[dict[str, Any]]:
        return self.state.faults()

    def clear_faults(self, platform: str | None = None) -> None:
        self.state.clear_faults(platform)

    def set_video(self, platform: str, video_id: str, **fields: Any) -> dict[str, Any]:
        return self.state.set_video(platform, video_id, **fields)

    def add_comment(
        self,
        platform: str,
        video_id: str,
        text: str,
        *,
        author: str = "Someone Else",
        time_code: float | None = None,
        held: bool = False,
    ) -> dict[str, Any]:
        """Seed a comment as if another account (or `author`) had posted it."""
        return self.state.add_comment(
            platform, video_id, text, author, time_code=time_code, held=held
        ).public()

    def delete_by_hand(self, platform: str, video_id: str, comment_id: str) -> bool:
        """Delete a comment as its author would on the site (not through the delete route)."""
        for comment in self.state.comments(platform, video_id):
            if comment.id == comment_id:
                return self.state.delete_comment(platform, video_id, comment_id, comment.author)
        return False

    def delete_requests(self, platform: str | None = None) -> list[dict[str, Any]]:
        """Every delete request the platform's delete route answered (id, deleted or 404)."""
        return self.state.delete_requests(platform)

    def login_cookie(self, platform: str, account: str) -> dict[str, Any]:
        """Log `account` in and return its cookie for Playwright's `context.add_cookies`."""
        login = self.state.login(platform, account)
        return cookie_for(self.base_url, platform, login.token)

    def logout(self, platform: str) -> int:
        """End every login of the platform (the pages then show "Sign in")."""
        get_platform(platform)
        return self.state.logout(platform)

    def logins(self) -> list[dict[str, Any]]:
        return self.state.logins()

    def sign_ins(self) -> list[dict[str, str]]:
        """Every sign-in form posted, with what its page saw of navigator.webdriver."""
        return list(self.state.sign_ins)

    def reset(self) -> None:
        """Forget videos, comments, logins, faults; end every fake Browserbase session and
        delete its contexts."""
        self.state.reset()
        if self.browserbase is not None and self._loop is not None:
            self._call(self.browserbase.reset(), timeout=60)

    def browserbase_sessions(self) -> list[dict[str, Any]]:
        """The fake Browserbase's sessions (id, status, contextId, connected, pid); no secrets."""
        if self.browserbase is None or self._loop is None:
            return []
        return list(self._call(_value(self.browserbase.summaries)))
