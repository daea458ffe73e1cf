"""The fake Air: the asset page (comments in a panel, a timestamp toggle on by default), its
sign-in form and the REST comment API its script calls (static/air.js). Assets live in a
workspace: `/air/WORKSPACE/c/ID`, and `/air/c/ID` redirects there."""

from __future__ import annotations

import uuid
from html import escape
from urllib.parse import quote

from aiohttp import web

from lossy_desktop.sandbox import pages
from lossy_desktop.sandbox.model import Video
from lossy_desktop.sandbox.pages import PageView
from lossy_desktop.sandbox.platforms.base import SandboxPlatform, Site, comment_limit, comments_api

KEY = "air"
LOGIN_PATH = "/air/login"
API = "/air/api/assets"

# Test ids. "ids": test ids change, roles and accessible names stay; "ids_and_roles": roles and
# accessible names are gone too.
_NORMAL = {
    "panel": "comments-panel",
    "list": "comments-list",
    "comment": "comment",
    "comment_prefix": "comment-",
    "author": "comment-author",
    "body": "comment-body",
    "timestamp": "comment-timestamp",
    "copy": "comment-copy-link",
    "input": "comment-input",
    "toggle": "comment-timestamp-toggle",
    "submit": "comment-submit",
    "held": "comment-pending",
    "avatar": "user-avatar",
    "sign_in": "sign-in-link",
    "video": "asset-video",
    "toast": "toast",
    "disabled": "comments-disabled",
}
_CHANGED = {
    **{k: f"ax9-{k}" for k in _NORMAL},
    "comment_prefix": "ax9-c-",
}
NAMES = {"normal": _NORMAL, "ids": _CHANGED, "ids_and_roles": _CHANGED}

MESSAGES = {
    "rate_limited": "You're posting comments too quickly. Please try again in a moment.",
    "not_logged_in": "Sign in to comment.",
    "session_expired": "Your session has expired. Please sign in again.",
    "comments_disabled": "Comments are turned off for this asset.",
    "server_error": "Something went wrong. Please try again.",
    "text_too_long": f"Comments are limited to {comment_limit(KEY)} characters.",
    "empty": "Write a comment first.",
    "invalid_video": "This asset was not found or is no longer available.",
}


def _header(viewer: str | None, names: dict[str, str]) -> str:
    if viewer:
        account = (
            f'<button data-testid="{names["avatar"]}" class="air-avatar" '
            f'aria-label="{escape(viewer)}" title="{escape(viewer)}">'
            f'<img alt="{escape(viewer)}" src="{pages.avatar_url(viewer)}" width="28" height="28">'
            "</button>"
        )
    else:
        account = f'<a data-testid="{names["sign_in"]}" href="{escape(LOGIN_PATH)}">Sign in</a>'
    return (
        '<header class="air-header"><a class="air-logo" href="/air">air '
        f"<small>sandbox</small></a><div>{account}</div></header>"
    )


# What the page says above the player once the session has expired.
_EXPIRED = (
    '<div data-testid="session-expired" data-session-expired role="alert">'
    "Your session has expired. "
    f'<a href="{escape(LOGIN_PATH)}">Sign in</a> again.</div>'
)


def asset_page(view: PageView) -> str:
    video, names = view.video, NAMES[view.variant]
    main = f"""<main class="air-asset" data-testid="asset-page" data-asset-id="{escape(video.id)}">
 <section class="air-viewer">
  <video data-testid="{names["video"]}" preload="none"></video>
  <div class="air-controls">
   <button data-testid="asset-play" aria-label="Play">▶</button>
   <input data-testid="asset-scrubber" type="range" min="0" max="{video.duration}" step="0.1"
    value="0" aria-label="Scrub">
   <span data-testid="asset-time">0:00</span>
  </div>
  <h1 data-testid="asset-title">{escape(video.title)}</h1>
 </section>
 <aside data-testid="{names["panel"]}" class="air-comments" aria-label="Comments">
  <h2>Comments</h2>
  <div data-testid="{names["list"]}" aria-busy="true">Loading…</div>
 </aside>
</main>
<div data-testid="{names["toast"]}" class="air-toast" role="alert" hidden></div>"""
    return pages.video_document(
        KEY,
        view,
        names=names,
        title=f"{video.title} · Air",
        header=_header(view.viewer, names),
        expired_notice=_EXPIRED,
        main=main,
        api=f"{API}/{quote(video.id)}/comments",
        login_url=LOGIN_PATH,
        extra={"highlight": view.highlight, "workspace": video.workspace},
    )


def home_page(viewer: str | None, videos: list[Video]) -> str:
    items = "".join(f'<li><a href="{video_path(v)}">{escape(v.title)}</a></li>' for v in videos)
    body = f"""{_header(viewer, _NORMAL)}
<main data-testid="workspace-home"><h2>Assets</h2><ul>{
        items or "<li>No assets yet: open /air/WORKSPACE/c/ANY_ID.</li>"
    }</ul></main>"""
    return pages.document(KEY, "Air", body, None)


SIGN_IN = pages.SignInForm(
    "Sign in · Air",
    '<div class="login-card" data-testid="login-card"><h1>Sign in to Air</h1>',
    """<label for="air-email">Email</label>
<input id="air-email" data-testid="login-email" name="account" type="text" required autofocus>
<label for="air-password">Password (any)</label>
<input id="air-password" name="password" type="password">
<button data-testid="login-submit" type="submit">Sign in</button>""",
)


def video_path(video: Video) -> str:
    return f"/air/{quote(video.workspace)}/c/{quote(video.id)}"


def routes(site: Site) -> list[web.RouteDef]:
    async def short(request: web.Request) -> web.StreamResponse:
        """`/air/c/ID`: on to the asset's address in its workspace."""
        video = site.video(KEY, request.match_info["video"])
        if video is None:
            return site.not_found(KEY)
        query = f"?{request.query_string}" if request.query_string else ""
        raise web.HTTPFound(video_path(video) + query)

    async def asset(request: web.Request) -> web.StreamResponse:
        video_id = request.match_info["video"]
        workspace = request.match_info.get("workspace")
        video = site.video(KEY, video_id)
        if video is not None and workspace and workspace != video.workspace:
            # First visit names the workspace; later visits under another one are redirects.
            if not video.comments:
                video.workspace = workspace
            else:
                raise web.HTTPFound(video_path(video))
        return await site.video_page(request, KEY, video_id, request.query.get("commentId"))

    return [
        *comments_api(site, KEY, API),
        web.get("/air/c/{video}", short),
        web.get("/air/{workspace}/c/{video}", asset),
    ]


PLATFORM = SandboxPlatform(
    key=KEY,
    cookie_name="air_session",
    login_path=LOGIN_PATH,
    logout_path="/air/logout",
    messages=MESSAGES,
    default_challenge="cloudflare",
    video_page=asset_page,
    home_page=home_page,
    sign_in=SIGN_IN,
    video_path=video_path,
    comment_anchor=lambda comment: f"?commentId={comment}",
    new_comment_id=lambda serial: str(uuid.uuid4()),
    routes=routes,
    not_found_attrs=' data-testid="asset-not-found"',
)
