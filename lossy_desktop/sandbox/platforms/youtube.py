"""The fake YouTube: the watch page (comments load once scrolled to; the box is opened by a
click), Google's sign-in, the youtubei API its script calls (static/youtube.js)."""

from __future__ import annotations

import secrets
from html import escape
from urllib.parse import quote

from aiohttp import web

from lossy_desktop.sandbox import pages
from lossy_desktop.sandbox.model import Video
from lossy_desktop.sandbox.pages import PageView
from lossy_desktop.sandbox.platforms.base import SandboxPlatform, Site, json_object

KEY = "youtube"
LOGIN_PATH = "/youtube/ServiceLogin"
API = "/youtube/youtubei/v1"

# Selector names. "ids": ids, classes, tags and test ids change, roles and accessible names
# stay; "ids_and_roles": roles and accessible names are gone too.
_NORMAL = {
    "comments_tag": "ytd-comments",
    "comments_id": "comments",
    "sections_id": "sections",
    "contents_id": "contents",
    "header_tag": "ytd-comments-header-renderer",
    "count_id": "count",
    "simplebox_tag": "ytd-comment-simplebox-renderer",
    "placeholder_area_id": "placeholder-area",
    "simplebox_placeholder_id": "simplebox-placeholder",
    "editor_id": "contenteditable-root",
    "submit_id": "submit-button",
    "cancel_id": "cancel-button",
    "thread_tag": "ytd-comment-thread-renderer",
    "comment_tag": "ytd-comment-view-model",
    "author_id": "author-text",
    "published_id": "published-time-text",
    "content_id": "content-text",
    "held_class": "held-for-review",
    "avatar_btn_id": "avatar-btn",
    "player_id": "movie_player",
    "message_tag": "ytd-message-renderer",
    "toast_id": "toast",
}
_CHANGED = {
    **{k: f"yc7-{k.replace('_', '-')}" for k in _NORMAL},
    "comments_tag": "yt-comments-panel-v2",
    "header_tag": "yt-comments-header-v2",
    "simplebox_tag": "yt-comment-composer-view-model",
    "thread_tag": "yt-thread-view-model-v2",
    "comment_tag": "yt-comment-entity-v2",
    "message_tag": "yt-notice-view-model",
    "player_id": "movie_player",
}
NAMES = {"normal": _NORMAL, "ids": _CHANGED, "ids_and_roles": _CHANGED}

MESSAGES = {
    "rate_limited": "You're posting too quickly. Wait a while and try again.",
    "not_logged_in": "Sign in to comment.",
    "session_expired": "Your session has expired. Sign in again to comment.",
    "comments_disabled": "Comments are turned off.",
    "server_error": "Something went wrong. Try again later.",
    "text_too_long": "Your comment is too long.",
    "empty": "Your comment is empty.",
    "invalid_video": "Video unavailable",
}


def _masthead(viewer: str | None, names: dict[str, str]) -> str:
    if viewer:
        account = (
            f'<button id="{names["avatar_btn_id"]}" class="ytd-topbar-menu-button-renderer" '
            f'aria-label="Account menu" title="{escape(viewer)}">'
            f'<img id="img" class="yt-img-shadow" alt="{escape(viewer)}" '
            f'src="{pages.avatar_url(viewer)}" width="32" height="32"></button>'
        )
    else:
        account = (
            f'<a class="yt-spec-button-shape-next" href="{escape(LOGIN_PATH)}" '
            'aria-label="Sign in">Sign in</a>'
        )
    return (
        '<ytd-masthead id="masthead"><div id="start"><a id="logo" href="/youtube" '
        'title="YouTube Home">▶ YouTube <small>sandbox</small></a></div>'
        '<div id="center"><input id="search" name="search_query" placeholder="Search" '
        f'aria-label="Search"></div><div id="end">{account}</div></ytd-masthead>'
    )


# The player's error screen when YouTube wants a sign-in to prove a person is watching.
_BOT_CHECK = """<div id="error-screen" class="ytd-watch-flexy">
   <yt-playability-error-supported-renderers><div class="reason">
   <yt-formatted-string class="reason">Sign in to confirm you’re not a bot</yt-formatted-string>
   <yt-formatted-string class="subreason">This helps protect our community.
   <a href="https://support.google.com/youtube/answer/3037019">Learn more</a></yt-formatted-string>
   </div><a class="sign-in" href="/youtube/ServiceLogin">Sign in</a>
   </yt-playability-error-supported-renderers></div>"""


# What the page says above the player once the session has expired.
_EXPIRED = (
    '<div id="session-expired" data-session-expired class="yt-alert" role="alert">'
    "Your session has expired. "
    f'<a href="{escape(LOGIN_PATH)}">Sign in</a> again to continue.</div>'
)


def watch_page(view: PageView) -> str:
    video, names = view.video, NAMES[view.variant]
    main = f"""<ytd-watch-flexy id="page-manager" video-id="{escape(video.id)}">
 <div id="primary">
  {_BOT_CHECK if view.bot_check else ""}
  <div id="player-container">
   <div id="{names["player_id"]}" class="html5-video-player">
    <video class="video-stream html5-main-video" preload="none"></video>
    <div class="ytp-chrome-bottom">
     <button class="ytp-play-button" aria-label="Play (k)">▶</button>
     <div class="ytp-progress-bar" role="slider" aria-label="Seek slider" aria-valuemin="0"
      aria-valuemax="{int(video.duration)}" aria-valuenow="0" tabindex="0">
      <div class="ytp-play-progress"></div></div>
     <span class="ytp-time-display"><span class="ytp-time-current">0:00</span> /
      <span class="ytp-time-duration"></span></span>
    </div>
   </div>
  </div>
  <div id="above-the-fold"><h1 class="ytd-watch-metadata"><yt-formatted-string>{
        escape(video.title)
    }</yt-formatted-string></h1></div>
  <div id="below" class="spacer"><ytd-text-inline-expander id="description">Sandbox copy of a
   YouTube watch page. Comments load when you scroll to them.</ytd-text-inline-expander></div>
  <{names["comments_tag"]} id="{names["comments_id"]}" class="ytd-watch-flexy">
   <div id="{names["sections_id"]}"><tp-yt-paper-spinner id="spinner" active
    aria-label="Loading comments"></tp-yt-paper-spinner></div>
  </{names["comments_tag"]}>
 </div>
</ytd-watch-flexy>
<tp-yt-paper-toast id="{names["toast_id"]}" role="alert" hidden><span id="text"></span>
</tp-yt-paper-toast>"""
    return pages.video_document(
        KEY,
        view,
        names=names,
        title=f"{video.title} - YouTube",
        header=_masthead(view.viewer, names),
        expired_notice=_EXPIRED,
        main=main,
        api=API,
        login_url=LOGIN_PATH,
        extra={"highlight": view.highlight},
    )


def home_page(viewer: str | None, videos: list[Video]) -> str:
    items = "".join(
        f'<ytd-rich-item-renderer><a id="video-title-link" href="{video_path(v)}">'
        f"{escape(v.title)}</a></ytd-rich-item-renderer>"
        for v in videos
    )
    body = f"""{_masthead(viewer, _NORMAL)}
<ytd-browse id="home"><h2>Home</h2><div id="contents">{
        items or "<p>No videos yet: open /youtube/watch?v=ANY_ID.</p>"
    }</div></ytd-browse>"""
    return pages.document(KEY, "YouTube", body, None)


SIGN_IN = pages.SignInForm(
    "Sign in - Google Accounts",
    '<div class="login-card" id="identifierId-card"><h1>Sign in</h1>\n'
    "<p>to continue to YouTube (sandbox)</p>",
    """<label for="identifierId">Email or phone</label>
<input id="identifierId" name="account" type="text" autocomplete="username" required autofocus>
<label for="password">Password (any)</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button id="identifierNext" type="submit">Next</button>""",
)


def video_path(video: Video) -> str:
    return f"/youtube/watch?v={quote(video.id)}"


def comment_id(serial: int) -> str:
    """Like YouTube's: "Ugz" + 19 characters + "4AaABAg" (26 in all)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    body = "".join(secrets.choice(alphabet) for _ in range(19))
    return f"Ugz{body}4AaABAg"


def routes(site: Site) -> list[web.RouteDef]:
    async def watch(request: web.Request) -> web.StreamResponse:
        query = request.query
        return await site.video_page(request, KEY, query.get("v", ""), query.get("lc"))

    async def next_page(request: web.Request) -> web.StreamResponse:
        query = request.query
        return await site.list_comments(request, KEY, query.get("videoId", query.get("v", "")))

    async def create(request: web.Request) -> web.StreamResponse:
        body = await json_object(request)
        return await site.post_comment(request, KEY, str(body.get("videoId", "")))

    async def delete(request: web.Request) -> web.StreamResponse:
        body = await json_object(request)
        video_id, comment = str(body.get("videoId", "")), str(body.get("commentId", ""))
        return await site.delete_comment(request, KEY, video_id, comment)

    return [
        web.get(f"{API}/next", next_page),
        web.post(f"{API}/comment/create_comment", create),
        web.get("/youtube/watch", watch),
        web.post(f"{API}/comment/delete_comment", delete),
    ]


PLATFORM = SandboxPlatform(
    key=KEY,
    cookie_name="SID",
    login_path=LOGIN_PATH,
    logout_path="/youtube/logout",
    messages=MESSAGES,
    default_challenge="consent",
    video_page=watch_page,
    home_page=home_page,
    sign_in=SIGN_IN,
    video_path=video_path,
    comment_anchor=lambda comment: f"&lc={comment}",
    new_comment_id=comment_id,
    routes=routes,
    takes_time_code=False,
)
