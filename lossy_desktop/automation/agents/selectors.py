"""Every platform's page selectors, in one table per platform, best first.

Each entry is a tuple of `Find`s tried in order: the platform's stable ids first, then
Playwright's user-facing locators (role + accessible name, visible text), which survive markup
changes that ids do not. When none of a tuple matches, the agent fails with selector_failed and
a screenshot.

Inside a comment item the agent reads with plain CSS (one `evaluate_all` round trip for all the
comments), so `comment_text`, `comment_author`, `comment_link` and `held_in_item` are CSS lists.

YouTube and Vimeo: public markup seen in 2022–2025 (DESIGN.md "Platforms"). Air (air.inc) has no
public markup reference: its table is marked `confirmed=False` — its ids are plausible
`data-testid`s and its fallbacks lean on roles and names; check them against the live site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

Role = Literal[
    "article",
    "button",
    "link",
    "listitem",
    "textbox",
    "region",
    "complementary",
    "alert",
    "status",
    "img",
    "menuitem",
]


@dataclass(frozen=True)
class Find:
    """One way to find an element: CSS, or role (+ accessible name), or visible text."""

    css: str | None = None
    role: Role | None = None
    name: str | re.Pattern[str] | None = None
    exact: bool = False
    text: str | re.Pattern[str] | None = None

    def locate(self, scope: Page | Locator) -> Locator:
        if self.css is not None:
            return scope.locator(self.css)
        if self.role is not None:
            if self.name is None:
                return scope.get_by_role(self.role)
            return scope.get_by_role(self.role, name=self.name, exact=self.exact or None)
        if self.text is not None:
            return scope.get_by_text(self.text, exact=self.exact or None)
        raise ValueError("Find needs css, role or text")

    def describe(self) -> str:
        if self.css is not None:
            return f"css={self.css}"
        if self.role is not None:
            name = self.name.pattern if isinstance(self.name, re.Pattern) else self.name
            return f"role={self.role}" + (f"[name={name!r}]" if name is not None else "")
        text = self.text.pattern if isinstance(self.text, re.Pattern) else self.text
        return f"text={text!r}"


def css(*selectors: str) -> tuple[Find, ...]:
    return tuple(Find(css=s) for s in selectors)


@dataclass(frozen=True)
class CommentControls:
    """Acting on one of the account's own comments (deleting it) and noticing that the comment
    POST itself failed."""

    item_by_id: tuple[str, ...]
    """CSS templates (`{id}` = the comment's id) finding the comment's element, best first."""
    menu: tuple[Find, ...]
    """Inside the comment: the button that opens its action menu (empty: the actions show)."""
    delete: tuple[Find, ...]
    """The menu's Delete action (menus render at the page's end, so searched page-wide)."""
    confirm: tuple[Find, ...]
    """The confirmation dialog's Delete button (page-wide)."""
    post_request: str
    """Regex of the URL the page sends a new comment to (a failed one = the post's answer was
    lost)."""
    newest_first: bool
    """The page lists comments newest first (so the oldest copy of a duplicate is the last)."""


@dataclass(frozen=True)
class PlatformSelectors:
    platform: str
    confirmed: bool
    """False: nobody has checked these against the live site (Air)."""

    # Login signs (read from the page itself).
    logged_in: tuple[Find, ...]
    logged_out: tuple[Find, ...]
    session_expired: tuple[Find, ...]
    """Shown instead of the login when the platform ended the session (else: not logged in)."""
    account: tuple[Find, ...]
    """An element naming the signed-in account (attribute in `account_attrs`, else its text)."""
    account_attrs: tuple[str, ...]

    # The video page.
    video_unavailable: tuple[Find, ...]
    player: tuple[Find, ...]
    """The <video> element (or an element containing it)."""
    comments_section: tuple[Find, ...]
    """Scrolled into view so lazily loaded comments load."""
    comments_disabled: tuple[Find, ...]

    # Writing a comment.
    placeholder: tuple[Find, ...]
    """Clicked to open the editor (empty when the editor is always open)."""
    editor: tuple[Find, ...]
    submit: tuple[Find, ...]

    # Reading comments.
    comment_item: tuple[Find, ...]
    comment_text: tuple[str, ...]
    comment_author: tuple[str, ...]
    comment_link: tuple[str, ...]
    held_in_item: tuple[str, ...]
    held_text: str
    """Regex (JS syntax, case-insensitive) of a hold notice inside a comment item."""

    # What the platform says after a submit.
    rate_limited: tuple[Find, ...]
    held_notice: tuple[Find, ...]
    post_error: tuple[Find, ...]

    # Deleting one's own comment; the comment POST.
    controls: CommentControls

    # Pages that stop automation (shown instead of the platform's own page): each is
    # site_challenge — the note is held until the user reconnects and gets past it.
    consent_screen: tuple[Find, ...] = ()
    """A cookie consent wall ("Before you continue to YouTube" at consent.youtube.com)."""
    traffic_check: tuple[Find, ...] = ()
    """An "unusual traffic" / captcha / "verify you are human" page (google.com/sorry,
    Vimeo's "Verify to continue", Cloudflare's "Just a moment...")."""
    signin_challenge: tuple[Find, ...] = ()
    """A sign-in check ("Verify it's you", "Sign in to confirm you're not a bot")."""
    challenge_urls: tuple[tuple[str, str], ...] = ()
    """(group, regex): a page address that is one of the three above (the regex is searched in
    the page's URL, case-insensitively)."""


CHALLENGE_GROUPS: tuple[str, ...] = ("consent_screen", "traffic_check", "signin_challenge")


_RATE_TEXT = re.compile(r"too (quickly|fast|often)|slow down|too many comments|rate limit", re.I)
_HELD_TEXT = "held for review|pending (review|approval)|awaiting (approval|moderation)"
_DISABLED_TEXT = re.compile(
    r"comments are (turned off|disabled|off)|comments (have been )?disabled", re.I
)
_ERROR_TEXT = re.compile(
    r"(couldn't|could not|unable to|failed to) (post|add|save) (your |the )?comment"
    r"|couldn't reach|could not reach|something went wrong|check your connection",
    re.I,
)
_SIGN_IN = re.compile(r"^\s*(sign in|log in)\s*$", re.I)
_COMMENT_NAME = re.compile(r"comment", re.I)
# Pages that stop automation, modelled on the real ones (public markup, 2020–2025):
# - Google's consent wall: consent.youtube.com/m?continue=…, title "Before you continue to
#   YouTube", <form action="https://consent.youtube.com/save" method="POST"> with "Reject all" /
#   "Accept all"; on the watch page itself an in-page <ytd-consent-bump-v2-lightbox>.
# - Google's "unusual traffic" page: www.google.com/sorry/index?continue=… (HTTP 429), text "Our
#   systems have detected unusual traffic from your computer network", <form id="captcha-form"
#   action="index"> with a reCAPTCHA (<div class="g-recaptcha">).
# - Google's sign-in checks: accounts.google.com/v3/signin/challenge/… "Verify it's you"
#   (<h1 id="headingText">); YouTube's player: "Sign in to confirm you're not a bot".
# - Vimeo's block page: title "Vimeo / CAPTCHA Challenge", <h1>Verify to continue</h1>, "please
#   confirm you're a human (and not a spambot)", <form action="https://vimeo.com/_unblock_ratelimit">
#   with a reCAPTCHA or a Cloudflare Turnstile; Cloudflare's managed challenge: title "Just a
#   moment...", "Verify you are human by completing the action below.", #challenge-form /
#   #challenge-stage, an iframe from challenges.cloudflare.com (HTTP 403, cf-mitigated: challenge).
_CONSENT = (
    Find(css="form[action*='consent.youtube.com/save'], form[action*='consent.google.com/save']"),
    Find(css="ytd-consent-bump-v2-lightbox"),
    Find(text=re.compile(r"^\s*before you continue to (youtube|google)", re.I)),
)
_TRAFFIC = (
    Find(css="form#captcha-form"),
    Find(css="form[action$='/_unblock_ratelimit']"),
    Find(css="#challenge-form, #challenge-stage, iframe[src*='challenges.cloudflare.com']"),
    Find(css="iframe[src*='/recaptcha/'], iframe[src*='hcaptcha.com']"),
    Find(
        text=re.compile(
            r"detected unusual traffic from your computer network"
            r"|verify you are human by completing|confirm you'?re a human \(and not a spambot\)",
            re.I,
        )
    ),
)
_SIGNIN_CHALLENGE = (
    Find(text=re.compile(r"^\s*verify it['’]s you\s*$", re.I)),
    Find(text=re.compile(r"sign in to confirm (that )?you['’]re not a bot", re.I)),
)
_CHALLENGE_URLS = (
    ("consent_screen", r"^https?://consent\.(youtube|google)\.[a-z.]+/"),
    ("traffic_check", r"^https?://(www\.|ipv[46]\.)?google\.[a-z.]+/sorry/"),
    ("traffic_check", r"[?&]__cf_chl_"),
    ("signin_challenge", r"^https?://accounts\.google\.com/(v3/)?signin/(v2/)?challenge"),
)

_DELETE_NAME = re.compile(r"^\s*delete( comment)?\s*$", re.I)
_EXPIRED = (
    Find(css="[data-session-expired]"),
    Find(text=re.compile(r"session (has )?expired|sign in again|log in again", re.I)),
)


YOUTUBE = PlatformSelectors(
    platform="youtube",
    confirmed=True,
    logged_in=(
        Find(css="#avatar-btn"),
        Find(role="button", name=re.compile(r"account menu|account", re.I)),
    ),
    logged_out=(
        Find(css='a[href*="ServiceLogin"]'),
        Find(role="link", name=_SIGN_IN),
    ),
    session_expired=_EXPIRED,
    account=(
        Find(css="#avatar-btn [data-account]"),
        Find(css="#avatar-btn[data-account]"),
        Find(css="#avatar-btn img[alt]"),
        Find(css="button[aria-label='Account menu'] img[alt]"),
        Find(css="#avatar-btn"),
    ),
    account_attrs=("data-account", "alt", "aria-label"),
    video_unavailable=(
        Find(css="ytd-watch-flexy #error-screen yt-playability-error-supported-renderers"),
        Find(text=re.compile(r"video (is )?unavailable|this video isn't available", re.I)),
    ),
    player=css("#movie_player video", "video.html5-main-video", "video"),
    comments_section=css("ytd-comments#comments", "#comments", "ytd-comments"),
    comments_disabled=(
        Find(css="ytd-comments ytd-message-renderer"),
        Find(text=_DISABLED_TEXT),
    ),
    placeholder=(
        Find(css="ytd-comment-simplebox-renderer #placeholder-area"),
        Find(css="#simplebox-placeholder"),
        Find(text=re.compile(r"^add a (public )?comment", re.I)),
    ),
    editor=(
        Find(css="ytd-comment-simplebox-renderer #contenteditable-root"),
        Find(css="#contenteditable-root"),
        Find(css='div[contenteditable="true"][role="textbox"]'),
        Find(role="textbox", name=_COMMENT_NAME),
    ),
    submit=(
        Find(css="ytd-comment-simplebox-renderer #submit-button button"),
        Find(css="#submit-button button"),
        Find(css="#submit-button"),
        Find(role="button", name="Comment", exact=True),
    ),
    comment_item=(
        Find(css="ytd-comment-thread-renderer"),
        Find(css="ytd-comment-view-model"),
        Find(css="ytd-comment-renderer"),
        Find(css="[data-comment-id]"),
        Find(role="article"),
    ),
    comment_text=("#content-text", "yt-attributed-string#content-text", "[id*=content-text]"),
    comment_author=("#author-text", "a[id*=author]", "a[href*='/@']", "a[href*='%40']"),
    comment_link=("#published-time-text a", "a[href*='lc=']"),
    held_in_item=("[data-held='true']", ".held-for-review", "#held-for-review"),
    held_text=_HELD_TEXT,
    rate_limited=(Find(text=_RATE_TEXT),),
    held_notice=(Find(text=re.compile(_HELD_TEXT, re.I)),),
    post_error=(Find(text=_ERROR_TEXT),),
    consent_screen=_CONSENT,
    traffic_check=_TRAFFIC,
    signin_challenge=_SIGNIN_CHALLENGE,
    challenge_urls=_CHALLENGE_URLS,
    controls=CommentControls(
        item_by_id=(
            "ytd-comment-thread-renderer:has(#published-time-text a[href*='lc={id}'])",
            "ytd-comment-view-model:has(a[href*='lc={id}'])",
            "[data-comment-id='{id}']",
        ),
        menu=(
            Find(css="#action-menu button"),
            Find(css="ytd-menu-renderer #button"),
            Find(role="button", name=re.compile(r"^action menu$", re.I)),
        ),
        delete=(
            Find(css="ytd-menu-popup-renderer ytd-menu-service-item-renderer:has-text('Delete')"),
            Find(role="menuitem", name=_DELETE_NAME),
        ),
        confirm=(
            Find(css="yt-confirm-dialog-renderer #confirm-button button"),
            Find(css="yt-confirm-dialog-renderer #confirm-button"),
            Find(role="button", name=_DELETE_NAME),
        ),
        post_request=r"/comment/create_comment",
        newest_first=True,
    ),
)

VIMEO = PlatformSelectors(
    platform="vimeo",
    confirmed=True,
    logged_in=(
        Find(css="[data-fatal-attraction='topnav-user-menu']"),
        Find(css="#topnav_user"),
        Find(css=".topnav_menu_avatar"),
        Find(role="link", name=re.compile(r"account menu", re.I)),
        Find(role="button", name=re.compile(r"account menu|user menu|profile", re.I)),
    ),
    logged_out=(
        Find(css='a[href$="/log_in"]'),
        Find(css='a[href*="log_in"]'),
        Find(role="link", name=_SIGN_IN),
    ),
    session_expired=_EXPIRED,
    account=(
        Find(css="[data-account]"),
        Find(css=".topnav_menu_avatar img[alt]"),
        Find(css=".topnav_user_name"),
    ),
    account_attrs=("data-account", "alt", "aria-label"),
    video_unavailable=(
        Find(
            text=re.compile(r"sorry, (we couldn't find that page|this video does not exist)", re.I)
        ),
        Find(text=re.compile(r"video (is )?(unavailable|private|not found)", re.I)),
    ),
    player=css(".vp-video video", "#player video", "video"),
    comments_section=(
        *css("#comments-panel", ".comments_panel", "#comments"),
        Find(role="complementary", name=re.compile(r"^comments$", re.I)),
    ),
    comments_disabled=(
        Find(css=".comments-disabled"),
        Find(text=_DISABLED_TEXT),
    ),
    placeholder=(),
    editor=(
        Find(css="#comment-form textarea"),
        Find(css="form.comment_form textarea"),
        Find(css="textarea[name='text']"),
        Find(role="textbox", name=_COMMENT_NAME),
    ),
    submit=(
        Find(css="#comment-form button[type='submit']"),
        Find(role="button", name=re.compile(r"^(add )?comment$|^post", re.I)),
    ),
    comment_item=(
        Find(css="article[id^='comment_']"),
        Find(css="article.comment"),
        Find(css="[data-comment-id]"),
        Find(role="article"),
    ),
    comment_text=(".comment_body", ".comment_text", ".comment-text", "[data-comment-text]"),
    comment_author=(".comment_author", ".comment-author", "[data-comment-author]", "a[rel=author]"),
    comment_link=("a.comment_permalink", "a[href*='#comment_']", "[data-permalink]"),
    held_in_item=("[data-held='true']", ".comment_pending"),
    held_text=_HELD_TEXT,
    rate_limited=(Find(text=_RATE_TEXT),),
    held_notice=(Find(text=re.compile(_HELD_TEXT, re.I)),),
    post_error=(Find(text=_ERROR_TEXT),),
    consent_screen=_CONSENT,
    traffic_check=_TRAFFIC,
    signin_challenge=_SIGNIN_CHALLENGE,
    challenge_urls=_CHALLENGE_URLS,
    controls=CommentControls(
        item_by_id=("#comment_{id}", "[data-comment-id='{id}']"),
        menu=(
            Find(css=".comment_menu_button"),
            Find(role="button", name=re.compile(r"^more (actions|options)$", re.I)),
        ),
        delete=(Find(css=".comment_menu_delete"), Find(role="menuitem", name=_DELETE_NAME)),
        confirm=(Find(css=".confirm_delete"), Find(role="button", name=_DELETE_NAME)),
        post_request=r"/videos/[^/]+/comments(\?|$)",
        newest_first=False,
    ),
)

# UNCONFIRMED: Air publishes no markup reference; nobody has checked these against app.air.inc.
AIR = PlatformSelectors(
    platform="air",
    confirmed=False,
    logged_in=(
        Find(css="[data-testid='account-menu']"),
        Find(css="[data-testid='user-avatar']"),
        Find(css="[data-testid*='avatar']"),
        Find(role="button", name=re.compile(r"account|profile", re.I)),
    ),
    logged_out=(
        Find(css="a[href*='/login']"),
        Find(role="link", name=_SIGN_IN),
        Find(role="button", name=_SIGN_IN),
    ),
    session_expired=_EXPIRED,
    account=(
        Find(css="[data-testid='account-menu'][data-account]"),
        Find(css="[data-testid='account-menu'] [data-account]"),
        Find(css="[data-account]"),
        Find(css="[data-testid='user-avatar']"),
        Find(css="[data-testid*='avatar'] img[alt]"),
        Find(css="[data-testid='account-menu']"),
    ),
    account_attrs=("data-account", "aria-label", "alt"),
    video_unavailable=(
        Find(css="[data-testid='asset-not-found']"),
        Find(
            text=re.compile(
                r"(asset|page) (was )?not found|no longer available|asset doesn't exist", re.I
            )
        ),
    ),
    player=css("video[data-testid='asset-video']", "[data-testid='video-player'] video", "video"),
    comments_section=css("[data-testid='comments-panel']", "[data-testid='comments']"),
    comments_disabled=(
        Find(css="[data-testid='comments-disabled']"),
        Find(text=_DISABLED_TEXT),
    ),
    placeholder=(),
    editor=(
        Find(css="[data-testid='comment-input']"),
        Find(css="[data-testid='comment-composer'] [contenteditable='true']"),
        Find(css="[data-testid='comment-composer'] textarea"),
        Find(role="textbox", name=_COMMENT_NAME),
    ),
    submit=(
        Find(css="[data-testid='comment-submit']"),
        Find(role="button", name=re.compile(r"^((send|post)( comment)?|comment)$", re.I)),
    ),
    comment_item=(
        Find(css="[data-testid='comment']"),
        Find(css="[data-comment-id]"),
        Find(role="article"),
    ),
    comment_text=("[data-testid='comment-body']", "[data-testid='comment-text']", "p"),
    comment_author=("[data-testid='comment-author']", "[data-testid*='author']"),
    comment_link=(
        "[data-testid='comment-copy-link']",
        "a[data-testid='comment-link']",
        "a[href*='commentId=']",
        "a[href*='comment=']",
    ),
    held_in_item=("[data-held='true']", "[data-testid='comment-pending']"),
    held_text=_HELD_TEXT,
    rate_limited=(Find(text=_RATE_TEXT),),
    held_notice=(Find(text=re.compile(_HELD_TEXT, re.I)),),
    post_error=(Find(text=_ERROR_TEXT),),
    consent_screen=_CONSENT,
    traffic_check=_TRAFFIC,
    signin_challenge=_SIGNIN_CHALLENGE,
    challenge_urls=_CHALLENGE_URLS,
    controls=CommentControls(
        item_by_id=(
            "[data-testid='comment'][data-comment-id='{id}']",
            "[data-testid='comment']:has(a[href*='commentId={id}'])",
            "[data-comment-id='{id}']",
        ),
        menu=(
            Find(css="[data-testid='comment-menu']"),
            Find(role="button", name=re.compile(r"^comment (options|menu)$|^more$", re.I)),
        ),
        delete=(
            Find(css="[data-testid='comment-menu-delete']"),
            Find(role="menuitem", name=_DELETE_NAME),
        ),
        confirm=(
            Find(css="[data-testid='confirm-delete']"),
            Find(role="button", name=_DELETE_NAME),
        ),
        post_request=r"/assets/[^/]+/comments(\?|$)",
        newest_first=False,
    ),
)

SELECTORS: dict[str, PlatformSelectors] = {s.platform: s for s in (YOUTUBE, VIMEO, AIR)}
