"""The fake Vimeo: the clip page (comments in a side panel, an "Add timecode" box), its log-in
form and the REST comment API its script calls (static/vimeo.js)."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from aiohttp import web

from lossy_desktop.sandbox import pages
from lossy_desktop.sandbox.model import Video
from lossy_desktop.sandbox.pages import PageView
from lossy_desktop.sandbox.platforms.base import SandboxPlatform, Site, comment_limit, comments_api

KEY = "vimeo"
LOGIN_PATH = "/vimeo/log_in"
API = "/vimeo/api/videos"

# Selector names. "ids": ids, classes, tags and test ids change, roles and accessible names
# stay; "ids_and_roles": roles and accessible names are gone too.
_NORMAL = {
    "panel_id": "comments-panel",
    "panel_class": "comments_panel",
    "list_id": "comments-list",
    "form_id": "comment-form",
    "text_id": "comment-text",
    "timecode_id": "comment-timecode",
    "submit_id": "comment-submit",
    "comment_prefix": "comment_",
    "comment_class": "comment",
    "author_class": "comment_author",
    "body_class": "comment_body",
    "copy_class": "copy_link",
    "permalink_class": "comment_permalink",
    "timecode_class": "timecode",
    "held_class": "comment_pending",
    "user_id": "topnav_user",
    "login_class": "topnav_login",
    "player_id": "player",
    "toast_id": "flash",
}
_CHANGED = {
    **{k: f"vx2-{k.replace('_', '-')}" for k in _NORMAL},
    "comment_prefix": "vx2-c-",
    "player_id": "player",
}
NAMES = {"normal": _NORMAL, "ids": _CHANGED, "ids_and_roles": _CHANGED}

MESSAGES = {
    "rate_limited": "Whoa, slow down! You're commenting too fast. Try again in a minute.",
    "not_logged_in": "Log in to leave a comment.",
    "session_expired": "Your session expired. Please log in again.",
    "comments_disabled": "Comments are disabled for this video.",
    "server_error": "Something went wrong on our end. Please try again.",
    "text_too_long": f"Comments can't be longer than {comment_limit(KEY)} characters.",
    "empty": "Please write a comment.",
    "invalid_video": "Sorry, this video does not exist.",
}


def _topnav(viewer: str | None, names: dict[str, str]) -> str:
    if viewer:
        account = (
            f'<a id="{names["user_id"]}" class="topnav_menu_avatar" href="/vimeo" '
            f'aria-label="{escape(viewer)} account menu" title="{escape(viewer)}">'
            f'<img alt="{escape(viewer)}" src="{pages.avatar_url(viewer)}" width="32" height="32">'
            f'<span class="topnav_user_name">{escape(viewer)}</span></a>'
        )
    else:
        account = (
            f'<a class="{names["login_class"]}" href="{escape(LOGIN_PATH)}">Log in</a> '
            f'<a class="topnav_join" href="{escape(LOGIN_PATH)}">Join</a>'
        )
    return (
        '<header id="topnav" role="banner"><a class="topnav_logo" href="/vimeo">vimeo '
        f"<small>sandbox</small></a><nav>{account}</nav></header>"
    )


# What the page says above the player once the session has expired.
_EXPIRED = (
    '<div id="session-expired" data-session-expired class="flash_notice" role="alert">'
    "Your session expired. "
    f'Please <a href="{escape(LOGIN_PATH)}">log in</a> again.</div>'
)


def clip_page(view: PageView) -> str:
    video, names = view.video, NAMES[view.variant]
    main = f"""<main class="clip_page" data-clip-id="{escape(video.id)}">
 <section class="clip_main">
  <div id="{names["player_id"]}" class="vp-player" data-player>
   <video class="vp-video" preload="none"></video>
   <div class="vp-controls">
    <button class="vp-play" aria-label="Play">▶</button>
    <div class="vp-progress" role="slider" aria-label="Seek" aria-valuemin="0"
     aria-valuemax="{int(video.duration)}" aria-valuenow="0" tabindex="0">
     <div class="vp-progress-played"></div></div>
    <span class="vp-time">0:00</span>
   </div>
  </div>
  <h1 class="clip_title">{escape(video.title)}</h1>
 </section>
 <aside id="{names["panel_id"]}" class="{names["panel_class"]}" aria-label="Comments">
  <h2>Comments <span class="comment_count"></span></h2>
  <div id="{names["list_id"]}" class="comments_list" aria-busy="true">Loading comments…</div>
 </aside>
</main>
<div id="{names["toast_id"]}" class="flash_error" role="alert" hidden></div>"""
    return pages.video_document(
        KEY,
        view,
        names=names,
        title=f"{video.title} on Vimeo",
        header=_topnav(view.viewer, names),
        expired_notice=_EXPIRED,
        main=main,
        api=f"{API}/{quote(video.id)}/comments",
        login_url=LOGIN_PATH,
    )


def home_page(viewer: str | None, videos: list[Video]) -> str:
    items = "".join(f'<li><a href="{video_path(v)}">{escape(v.title)}</a></li>' for v in videos)
    body = f"""{_topnav(viewer, _NORMAL)}
<main><h2>Videos</h2><ul>{items or "<li>No videos yet: open /vimeo/ANY_ID.</li>"}</ul></main>"""
    return pages.document(KEY, "Vimeo", body, None)


SIGN_IN = pages.SignInForm(
    "Log in to Vimeo",
    '<div class="login-card"><h1>Log in to Vimeo</h1>',
    """<label for="login_email">Email or name</label>
<input id="login_email" name="account" type="text" autocomplete="username" required autofocus>
<label for="login_password">Password (any)</label>
<input id="login_password" name="password" type="password">
<button id="login_submit" type="submit">Log in with email</button>""",
)


def video_path(video: Video) -> str:
    return f"/vimeo/{quote(video.id)}"


def routes(site: Site) -> list[web.RouteDef]:
    async def clip(request: web.Request) -> web.StreamResponse:
        return await site.video_page(request, KEY, request.match_info["video"], None)

    return [*comments_api(site, KEY, API), web.get("/vimeo/{video}", clip)]


PLATFORM = SandboxPlatform(
    key=KEY,
    cookie_name="vimeo_session",
    login_path=LOGIN_PATH,
    logout_path="/vimeo/log_out",
    messages=MESSAGES,
    default_challenge="verify_to_continue",
    video_page=clip_page,
    home_page=home_page,
    sign_in=SIGN_IN,
    video_path=video_path,
    comment_anchor=lambda comment: f"#comment_{comment}",
    new_comment_id=lambda serial: str(20_000_000 + serial),
    routes=routes,
    in_page_links=True,
)
