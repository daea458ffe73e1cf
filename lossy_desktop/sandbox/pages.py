"""The HTML the sandbox's platforms share: the page document, a video page's config for its
script, the sign-in form's frame, the "unavailable" page, and the pages that stop automation
(the site_challenge fault).

Each platform's own markup (masthead, player, comments container, sign-in fields) is in its
module in platforms/; the platform's script in static/ loads the comments lazily, renders them
and posts new ones with fetch. Selector names are one table per platform and variant ("normal",
and the two changed-selector variants), handed to the script too, so the changed pages are
consistent between server and browser.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from lossy_desktop.sandbox.model import Video

STATIC = "/_sandbox/static"


@dataclass(frozen=True)
class PageView:
    """What the server decided for one video page (from the session and the faults)."""

    video: Video
    view_id: str
    """Ties the page's own later requests to what was decided here (`X-Sandbox-View`)."""
    viewer: str | None
    expired: bool
    disabled: bool
    variant: str
    """Which selector names the page uses: "normal", or a changed_selectors variant."""
    highlight: str | None = None
    """The comment id the address asks to highlight (YouTube `lc`, Air `commentId`)."""
    bot_check: bool = False
    """Draw YouTube's "Sign in to confirm you're not a bot" in the player (site_challenge)."""


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


def document(platform: str, title: str, body: str, config: dict[str, Any] | None) -> str:
    """A platform's page; with `config`, the page's script runs with it as window.__SANDBOX__."""
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


def video_document(
    platform: str,
    view: PageView,
    *,
    names: dict[str, str],
    title: str,
    header: str,
    expired_notice: str,
    main: str,
    api: str,
    login_url: str,
    extra: dict[str, Any] | None = None,
) -> str:
    """A video page: the platform's `header`, its `expired_notice` when the session expired,
    `main`, and its script, configured with what the server decided."""
    video, viewer = view.video, view.viewer
    config = {
        "view": view.view_id,
        "platform": platform,
        "videoId": video.id,
        "title": video.title,
        "duration": video.duration,
        "viewer": viewer,
        "avatar": avatar_url(viewer) if viewer else None,
        "expired": view.expired,
        "commentsDisabled": view.disabled,
        "variant": view.variant,
        "roles": view.variant != "ids_and_roles",
        "names": names,
        "api": api,
        "loginUrl": login_url,
        **(extra or {}),
    }
    body = f"{header}\n{expired_notice if view.expired else ''}\n{main}"
    return document(platform, title, body, config)


@dataclass(frozen=True)
class SignInForm:
    """A platform's sign-in page: its title, the card's opening (its heading), and the account
    and password fields with the submit button."""

    title: str
    card: str
    fields: str


def sign_in_page(
    platform: str, action: str, form: SignInForm, continue_url: str, error: str | None
) -> str:
    """The sign-in page; its form carries `continue` and what the page saw of
    navigator.webdriver."""
    err = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    body = f"""{form.card}{err}
<form method="post" action="{action}">
<input type="hidden" name="continue" value="{escape(continue_url)}">{CLIENT_CHECK}
{form.fields}</form></div>"""
    return document(platform, form.title, body, None)


def unavailable(platform: str, message: str, attrs: str = "") -> str:
    """The page of a video that is not there (or of a server error): `message` as its heading,
    with `attrs` on it."""
    body = (
        f'<main class="unavailable"><h1 id="unavailable-message"{attrs} role="alert">'
        f'{escape(message)}</h1><p><a href="/{platform}">Home</a></p></main>'
    )
    return document(platform, message, body, None)


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
