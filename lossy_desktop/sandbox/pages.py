"""HTML of the mock YouTube, Vimeo and Air pages.

The server renders the page shell (masthead with the account's avatar or a "Sign in" link, the
player, the empty comments container); the platform's script in static/ loads the comments
lazily, renders them and posts new ones with fetch. Selector names live in NAMES: one table per
platform and variant ("normal", and the two changed-selector variants), handed to the script too,
so the changed pages are consistent between server and browser.
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from typing import Any
from urllib.parse import quote

from lossy_desktop.sandbox.state import Video

STATIC = "/_sandbox/static"

# Stable names per platform. "ids": ids, classes, tags and test ids change, roles and accessible
# names stay; "ids_and_roles": roles and accessible names are gone too.
_YOUTUBE = {
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
_YOUTUBE_CHANGED = {
    **{k: f"yc7-{k.replace('_', '-')}" for k in _YOUTUBE},
    "comments_tag": "yt-comments-panel-v2",
    "header_tag": "yt-comments-header-v2",
    "simplebox_tag": "yt-comment-composer-view-model",
    "thread_tag": "yt-thread-view-model-v2",
    "comment_tag": "yt-comment-entity-v2",
    "message_tag": "yt-notice-view-model",
    "player_id": "movie_player",
}
_VIMEO = {
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
_VIMEO_CHANGED = {
    **{k: f"vx2-{k.replace('_', '-')}" for k in _VIMEO},
    "comment_prefix": "vx2-c-",
    "player_id": "player",
}
_AIR = {
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
_AIR_CHANGED = {
    **{k: f"ax9-{k}" for k in _AIR},
    "comment_prefix": "ax9-c-",
}
NAMES: dict[str, dict[str, dict[str, str]]] = {
    "youtube": {"normal": _YOUTUBE, "ids": _YOUTUBE_CHANGED, "ids_and_roles": _YOUTUBE_CHANGED},
    "vimeo": {"normal": _VIMEO, "ids": _VIMEO_CHANGED, "ids_and_roles": _VIMEO_CHANGED},
    "air": {"normal": _AIR, "ids": _AIR_CHANGED, "ids_and_roles": _AIR_CHANGED},
}

_COLOURS = ("#c2185b", "#7b1fa2", "#303f9f", "#0288d1", "#00796b", "#689f38", "#f57c00", "#5d4037")


def avatar_url(name: str) -> str:
    """An SVG data URL with the account's initial, the same colour every time."""
    colour = _COLOURS[hashlib.sha1(name.encode()).digest()[0] % len(_COLOURS)]
    initial = escape((name.strip()[:1] or "?").upper())
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='40' height='40'>"
        f"<circle cx='20' cy='20' r='20' fill='{colour}'/>"
        "<text x='20' y='26' font-size='18' text-anchor='middle' fill='white' "
        f"font-family='sans-serif'>{initial}</text></svg>"
    )
    return "data:image/svg+xml," + quote(svg)


# Google's sign-in refuses a browser whose navigator.webdriver is true ("This browser or app may
# not be secure"); the sandbox's sign-in pages do the same: each form carries what the page saw
# (no script run: "no-script", refused too) and the server decides.
CLIENT_FIELD = "client_webdriver"
CLIENT_CHECK = (
    f'<input type="hidden" name="{CLIENT_FIELD}" value="no-script">'
    "<script>document.currentScript.previousElementSibling.value = "
    "String(navigator.webdriver === true);</script>"
)
NOT_SECURE = (
    "Couldn't sign you in. This browser or app may not be secure. Try using a different browser."
)


def _document(platform: str, title: str, body: str, config: dict[str, Any] | None) -> str:
    script = ""
    if config is not None:
        data = json.dumps(config).replace("</", "<\\/")
        script = (
            f"<script>window.__SANDBOX__ = {data};</script>\n"
            f'<script src="{STATIC}/common.js"></script>\n'
            f'<script src="{STATIC}/{platform}.js"></script>'
        )
    return f"""<!DOCTYPE html>
<html lang="en" data-platform="{platform}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{STATIC}/sandbox.css">
</head>
<body class="sb-{platform}">
{body}
{script}
</body>
</html>
"""


def _config(
    platform: str,
    video: Video,
    *,
    viewer: str | None,
    expired: bool,
    disabled: bool,
    variant: str,
    api: str,
    login_url: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "platform": platform,
        "videoId": video.id,
        "title": video.title,
        "duration": video.duration,
        "viewer": viewer,
        "avatar": avatar_url(viewer) if viewer else None,
        "expired": expired,
        "commentsDisabled": disabled,
        "variant": variant,
        "roles": variant != "ids_and_roles",
        "names": NAMES[platform][variant],
        "api": api,
        "loginUrl": login_url,
        **(extra or {}),
    }


# ---- YouTube ----------------------------------------------------------------------------------


def _youtube_masthead(viewer: str | None, names: dict[str, str], login_url: str) -> str:
    if viewer:
        account = (
            f'<button id="{names["avatar_btn_id"]}" class="ytd-topbar-menu-button-renderer" '
            f'aria-label="Account menu" title="{escape(viewer)}">'
            f'<img id="img" class="yt-img-shadow" alt="{escape(viewer)}" '
            f'src="{avatar_url(viewer)}" width="32" height="32"></button>'
        )
    else:
        account = (
            f'<a class="yt-spec-button-shape-next" href="{escape(login_url)}" '
            'aria-label="Sign in">Sign in</a>'
        )
    return (
        '<ytd-masthead id="masthead"><div id="start"><a id="logo" href="/youtube" '
        'title="YouTube Home">▶ YouTube <small>sandbox</small></a></div>'
        '<div id="center"><input id="search" name="search_query" placeholder="Search" '
        f'aria-label="Search"></div><div id="end">{account}</div></ytd-masthead>'
    )


def youtube_watch(
    video: Video,
    *,
    viewer: str | None,
    expired: bool,
    disabled: bool,
    variant: str,
    highlight: str | None,
    login_url: str,
    bot_check: bool = False,
) -> str:
    names = NAMES["youtube"][variant]
    config = _config(
        "youtube",
        video,
        viewer=viewer,
        expired=expired,
        disabled=disabled,
        variant=variant,
        api="/youtube/youtubei/v1",
        login_url=login_url,
        extra={"highlight": highlight},
    )
    notice = ""
    if expired:
        notice = (
            '<div id="session-expired" data-session-expired class="yt-alert" role="alert">'
            "Your session has expired. "
            f'<a href="{escape(login_url)}">Sign in</a> again to continue.</div>'
        )
    body = f"""{_youtube_masthead(viewer, names, login_url)}
{notice}
<ytd-watch-flexy id="page-manager" video-id="{escape(video.id)}">
 <div id="primary">
  {_YOUTUBE_BOT_CHECK if bot_check else ""}
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
    return _document("youtube", f"{video.title} - YouTube", body, config)


# The player's error screen when YouTube wants a sign-in to prove a person is watching.
_YOUTUBE_BOT_CHECK = """<div id="error-screen" class="ytd-watch-flexy">
   <yt-playability-error-supported-renderers><div class="reason">
   <yt-formatted-string class="reason">Sign in to confirm you’re not a bot</yt-formatted-string>
   <yt-formatted-string class="subreason">This helps protect our community.
   <a href="https://support.google.com/youtube/answer/3037019">Learn more</a></yt-formatted-string>
   </div><a class="sign-in" href="/youtube/ServiceLogin">Sign in</a>
   </yt-playability-error-supported-renderers></div>"""


def youtube_home(viewer: str | None, videos: list[Video], login_url: str) -> str:
    items = "".join(
        f'<ytd-rich-item-renderer><a id="video-title-link" href="/youtube/watch?v={quote(v.id)}">'
        f"{escape(v.title)}</a></ytd-rich-item-renderer>"
        for v in videos
    )
    body = f"""{_youtube_masthead(viewer, NAMES["youtube"]["normal"], login_url)}
<ytd-browse id="home"><h2>Home</h2><div id="contents">{
        items or "<p>No videos yet: open /youtube/watch?v=ANY_ID.</p>"
    }</div></ytd-browse>"""
    return _document("youtube", "YouTube", body, None)


def youtube_login(continue_url: str, error: str | None = None) -> str:
    err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    body = f"""<div class="login-card" id="identifierId-card"><h1>Sign in</h1>
<p>to continue to YouTube (sandbox)</p>{err}
<form method="post" action="/youtube/ServiceLogin">
<input type="hidden" name="continue" value="{escape(continue_url)}">{CLIENT_CHECK}
<label for="identifierId">Email or phone</label>
<input id="identifierId" name="account" type="text" autocomplete="username" required autofocus>
<label for="password">Password (any)</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button id="identifierNext" type="submit">Next</button></form></div>"""
    return _document("youtube", "Sign in - Google Accounts", body, None)


# ---- Vimeo ------------------------------------------------------------------------------------


def _vimeo_topnav(viewer: str | None, names: dict[str, str], login_url: str) -> str:
    if viewer:
        account = (
            f'<a id="{names["user_id"]}" class="topnav_menu_avatar" href="/vimeo" '
            f'aria-label="{escape(viewer)} account menu" title="{escape(viewer)}">'
            f'<img alt="{escape(viewer)}" src="{avatar_url(viewer)}" width="32" height="32">'
            f'<span class="topnav_user_name">{escape(viewer)}</span></a>'
        )
    else:
        account = (
            f'<a class="{names["login_class"]}" href="{escape(login_url)}">Log in</a> '
            f'<a class="topnav_join" href="{escape(login_url)}">Join</a>'
        )
    return (
        '<header id="topnav" role="banner"><a class="topnav_logo" href="/vimeo">vimeo '
        f"<small>sandbox</small></a><nav>{account}</nav></header>"
    )


def vimeo_video(
    video: Video,
    *,
    viewer: str | None,
    expired: bool,
    disabled: bool,
    variant: str,
    login_url: str,
) -> str:
    names = NAMES["vimeo"][variant]
    config = _config(
        "vimeo",
        video,
        viewer=viewer,
        expired=expired,
        disabled=disabled,
        variant=variant,
        api=f"/vimeo/api/videos/{quote(video.id)}/comments",
        login_url=login_url,
    )
    notice = ""
    if expired:
        notice = (
            '<div id="session-expired" data-session-expired class="flash_notice" role="alert">'
            "Your session expired. "
            f'Please <a href="{escape(login_url)}">log in</a> again.</div>'
        )
    body = f"""{_vimeo_topnav(viewer, names, login_url)}
{notice}
<main class="clip_page" data-clip-id="{escape(video.id)}">
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
    return _document("vimeo", f"{video.title} on Vimeo", body, config)


def vimeo_home(viewer: str | None, videos: list[Video], login_url: str) -> str:
    items = "".join(
        f'<li><a href="/vimeo/{quote(v.id)}">{escape(v.title)}</a></li>' for v in videos
    )
    body = f"""{_vimeo_topnav(viewer, NAMES["vimeo"]["normal"], login_url)}
<main><h2>Videos</h2><ul>{items or "<li>No videos yet: open /vimeo/ANY_ID.</li>"}</ul></main>"""
    return _document("vimeo", "Vimeo", body, None)


def vimeo_login(continue_url: str, error: str | None = None) -> str:
    err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    body = f"""<div class="login-card"><h1>Log in to Vimeo</h1>{err}
<form method="post" action="/vimeo/log_in">
<input type="hidden" name="continue" value="{escape(continue_url)}">{CLIENT_CHECK}
<label for="login_email">Email or name</label>
<input id="login_email" name="account" type="text" autocomplete="username" required autofocus>
<label for="login_password">Password (any)</label>
<input id="login_password" name="password" type="password">
<button id="login_submit" type="submit">Log in with email</button></form></div>"""
    return _document("vimeo", "Log in to Vimeo", body, None)


# ---- Air --------------------------------------------------------------------------------------


def _air_header(viewer: str | None, names: dict[str, str], login_url: str) -> str:
    if viewer:
        account = (
            f'<button data-testid="{names["avatar"]}" class="air-avatar" '
            f'aria-label="{escape(viewer)}" title="{escape(viewer)}">'
            f'<img alt="{escape(viewer)}" src="{avatar_url(viewer)}" width="28" height="28">'
            "</button>"
        )
    else:
        account = f'<a data-testid="{names["sign_in"]}" href="{escape(login_url)}">Sign in</a>'
    return (
        '<header class="air-header"><a class="air-logo" href="/air">air '
        f"<small>sandbox</small></a><div>{account}</div></header>"
    )


def air_asset(
    video: Video,
    *,
    viewer: str | None,
    expired: bool,
    disabled: bool,
    variant: str,
    highlight: str | None,
    login_url: str,
) -> str:
    names = NAMES["air"][variant]
    config = _config(
        "air",
        video,
        viewer=viewer,
        expired=expired,
        disabled=disabled,
        variant=variant,
        api=f"/air/api/assets/{quote(video.id)}/comments",
        login_url=login_url,
        extra={"highlight": highlight, "workspace": video.workspace},
    )
    notice = ""
    if expired:
        notice = (
            '<div data-testid="session-expired" data-session-expired role="alert">'
            "Your session has expired. "
            f'<a href="{escape(login_url)}">Sign in</a> again.</div>'
        )
    body = f"""{_air_header(viewer, names, login_url)}
{notice}
<main class="air-asset" data-testid="asset-page" data-asset-id="{escape(video.id)}">
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
    return _document("air", f"{video.title} · Air", body, config)


def air_home(viewer: str | None, videos: list[Video], login_url: str) -> str:
    items = "".join(
        f'<li><a href="/air/{quote(v.workspace)}/c/{quote(v.id)}">{escape(v.title)}</a></li>'
        for v in videos
    )
    body = f"""{_air_header(viewer, NAMES["air"]["normal"], login_url)}
<main data-testid="workspace-home"><h2>Assets</h2><ul>{
        items or "<li>No assets yet: open /air/WORKSPACE/c/ANY_ID.</li>"
    }</ul></main>"""
    return _document("air", "Air", body, None)


def air_login(continue_url: str, error: str | None = None) -> str:
    err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    body = f"""<div class="login-card" data-testid="login-card"><h1>Sign in to Air</h1>{err}
<form method="post" action="/air/login">
<input type="hidden" name="continue" value="{escape(continue_url)}">{CLIENT_CHECK}
<label for="air-email">Email</label>
<input id="air-email" data-testid="login-email" name="account" type="text" required autofocus>
<label for="air-password">Password (any)</label>
<input id="air-password" name="password" type="password">
<button data-testid="login-submit" type="submit">Sign in</button></form></div>"""
    return _document("air", "Sign in · Air", body, None)


def unavailable(platform: str, message: str, *, not_found: bool = False) -> str:
    testid = ' data-testid="asset-not-found"' if not_found and platform == "air" else ""
    body = (
        f'<main class="unavailable"><h1 id="unavailable-message"{testid} role="alert">'
        f'{escape(message)}</h1><p><a href="/{platform}">Home</a></p></main>'
    )
    return _document(platform, message, body, None)


# ---- pages that stop automation (the site_challenge fault) ------------------------------------
# Modelled on the real pages' text and markup (see automation/agents/selectors.py); their forms
# work: getting past one sets the cookie the real site would (SOCS, GOOGLE_ABUSE_EXEMPTION, SIDCC,
# cf_clearance) and goes on to `continue`, and the sandbox then serves the platform's page again.
# Nothing is loaded from the internet: the captcha widgets are local checkboxes.


def _plain_document(title: str, body: str, *, lang: str = "en", style: str = "") -> str:
    css = f"<style>{style}</style>" if style else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>{css}
</head>
<body>
{body}
</body>
</html>
"""


def consent_page(continue_url: str, login_url: str) -> str:
    """Google's cookie consent wall (consent.youtube.com/m?continue=…)."""

    def form(eom: str, label: str, text: str) -> str:
        return (
            '<form action="/consent.youtube.com/save" method="POST" style="display:inline;">'
            '<input type="hidden" name="gl" value="GB"><input type="hidden" name="m" value="0">'
            '<input type="hidden" name="pc" value="yt">'
            f'<input type="hidden" name="continue" value="{escape(continue_url)}">'
            '<input type="hidden" name="hl" value="en"><input type="hidden" name="src" value="1">'
            f'<input type="hidden" name="set_eom" value="{eom}">'
            f'<button type="submit" aria-label="{escape(label)}">{escape(text)}</button></form>'
        )

    body = f"""<header style="text-align:right"><a href="{escape(login_url)}">Sign in</a></header>
<main style="max-width:560px;margin:40px auto;font-family:sans-serif">
<h1>Before you continue to YouTube</h1>
<p>We use cookies and data to</p>
<ul><li>Deliver and maintain Google services</li><li>Track outages and protect against spam,
fraud and abuse</li><li>Measure audience engagement and site statistics</li></ul>
<p>If you choose to “Accept all”, we will also use cookies and data to develop and improve new
services and deliver and measure the effectiveness of ads.</p>
<div class="buttons">
{form("true", "Reject the use of cookies and other data for the purposes described", "Reject all")}
{form("false", "Accept the use of cookies and other data for the purposes described", "Accept all")}
</div></main>"""
    return _plain_document("Before you continue to YouTube", body)


def sorry_page(continue_url: str, ip: str, when: str) -> str:
    """Google's "unusual traffic" page (www.google.com/sorry/index?continue=…, HTTP 429)."""
    body = f"""<div style="max-width:400px;">
<hr noshade size="1" style="color:#ccc; background-color:#ccc;"><br>
<form id="captcha-form" action="index" method="post">
<div id="recaptcha" class="g-recaptcha" data-sitekey="sandbox"><label>
<input type="checkbox" name="g-recaptcha-response" value="sandbox" required> I'm not a robot
</label></div>
<input type="hidden" name="continue" value="{escape(continue_url)}">
<button type="submit">Submit</button>
</form>
<hr noshade size="1" style="color:#ccc; background-color:#ccc;">
<div style="font-size:13px;"><b>About this page</b><br><br>
Our systems have detected unusual traffic from your computer network. This page checks to see if
it's really you sending the requests, and not a robot.
<a href="#" onclick="document.getElementById('infoDiv').style.display='block';">Why did this
happen?</a><br><br>
<div id="infoDiv" style="display:none; background-color:#eee; padding:10px; margin:0 0 15px 0;
line-height:1.4em;">This page appears when Google automatically detects requests coming from your
computer network which appear to be in violation of the Terms of Service. The block will expire
shortly after those requests stop.</div>
IP address: {escape(ip)}<br>Time: {escape(when)}<br>URL: {escape(continue_url)}<br>
</div></div>"""
    return _plain_document(
        continue_url,
        body,
        style="body{font-family:arial,sans-serif;background-color:#fff;color:#000;"
        "padding:20px;font-size:18px}",
    )


def verify_its_you_page(continue_url: str) -> str:
    """Google's sign-in check (accounts.google.com/v3/signin/challenge/…)."""
    body = f"""<main style="max-width:450px;margin:40px auto;font-family:sans-serif">
<div>Google</div>
<h1 id="headingText"><span>Verify it’s you</span></h1>
<div id="headingSubtext"><span>To help keep your account safe, Google wants to make sure it’s
really you trying to sign in</span></div>
<form method="post" action="/accounts.google.com/v3/signin/challenge/pk">
<input type="hidden" name="continue" value="{escape(continue_url)}">
<p>Confirm on your phone, or enter a code from your authenticator app.</p>
<label for="code">Code</label>
<input id="code" name="code" type="text" autocomplete="one-time-code">
<button type="submit">Next</button></form></main>"""
    return _plain_document("Sign in - Google Accounts", body)


def verify_to_continue_page(platform: str, continue_url: str) -> str:
    """Vimeo's block page ("Vimeo / CAPTCHA Challenge": "Verify to continue")."""
    body = f"""<div class="content">
<h1>Verify to continue</h1>
<p>We detected a high number of errors from your connection. To continue, please confirm you're
a human (and not a spambot).</p>
<form id="form" action="/{platform}/_unblock_ratelimit" method="post">
<input type="hidden" name="continue" value="{escape(continue_url)}">
<div class="g-recaptcha" data-sitekey="sandbox" data-theme="light"><label>
<input type="checkbox" name="g-recaptcha-response" value="sandbox" required> I'm not a robot
</label></div>
<button type="submit">Continue</button>
</form></div>"""
    return _plain_document(
        "Vimeo / CAPTCHA Challenge",
        body,
        style="body{background:#141531;font-family:helvetica,arial,sans-serif;font-size:18px;"
        "color:#fff}div.content{margin:75px}a{color:#2196f3}",
    )


def cloudflare_page(host: str, continue_url: str, ray: str) -> str:
    """Cloudflare's managed challenge ("Just a moment...", HTTP 403, cf-mitigated: challenge)."""
    body = f"""<div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">{escape(host)}</h1>
<p id="Truv1" class="h2 spacer-bottom">Verify you are human by completing the action below.</p>
<form id="challenge-form" action="/cdn-cgi/challenge-platform/h/g/flow/pass" method="POST"
 enctype="application/x-www-form-urlencoded">
<input type="hidden" name="continue" value="{escape(continue_url)}">
<div id="challenge-stage"><label class="cb-lb"><input type="checkbox" name="cf-turnstile-response"
 value="sandbox" required><span class="cb-lb-t">Verify you are human</span></label>
<button type="submit">Continue</button></div>
</form>
<div class="core-msg spacer">{escape(host)} needs to review the security of your connection
before proceeding.</div>
</div></div>
<div class="footer" role="contentinfo"><div class="footer-inner">
<div class="ray-id">Ray ID: <code>{escape(ray)}</code></div>
<div class="text-center" id="footer-text">Performance &amp; security by Cloudflare</div>
</div></div>"""
    return _plain_document("Just a moment...", body, lang="en-US")
