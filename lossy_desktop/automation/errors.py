"""The error taxonomy of browser automation: every failure becomes one `AutomationError` kind.

Each kind has a policy (`KIND_POLICY`): whether the posting queue tries again and how
(backoff, or a snooze for rate limits), whether the note is held until the user reconnects the
platform (and what the connection becomes), and the message the user sees.

    try:
        ...
    except Exception as exc:
        err = classify(exc)          # never raises; secrets are redacted from the message
        if err.holds: ...            # hold the note, mark the connection err.connection_status
        elif err.retryable: ...      # snooze err.retry_after (rate limits) or back off

Qt- and database-free: only the automation layer, the workers and the app read it.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from lossy_desktop.core.errors import LossyError
from lossy_desktop.core.logs import redact
from lossy_desktop.core.platforms import PLATFORMS

if TYPE_CHECKING:
    from lossy_desktop.core.billing import UsageRecord

SESSION_EXPIRED: Final = "session_expired"
NOT_LOGGED_IN: Final = "not_logged_in"
RATE_LIMITED: Final = "rate_limited"
SELECTOR_FAILED: Final = "selector_failed"
NETWORK_ERROR: Final = "network_error"
SCRIPT_FAILED: Final = "script_failed"
COMMENTS_DISABLED: Final = "comments_disabled"
TEXT_TOO_LONG: Final = "text_too_long"
INVALID_VIDEO: Final = "invalid_video"
HELD_FOR_REVIEW: Final = "held_for_review"
BROWSER_UNAVAILABLE: Final = "browser_unavailable"
AUTH_REJECTED: Final = "auth_rejected"
BROWSER_CAPACITY: Final = "browser_capacity"
SITE_CHALLENGE: Final = "site_challenge"

Retry = Literal["never", "backoff", "snooze"]

# Rate limits are snoozed 30 s, 90 s, 270 s (30·3^(n-1)); a snooze does not use up an attempt.
RATE_LIMIT_SNOOZES: Final[tuple[float, ...]] = (30.0, 90.0, 270.0)


@dataclass(frozen=True)
class KindPolicy:
    kind: str
    retry: Retry
    """never: the note fails with the message; backoff: the queue retries up to max_attempts
    (30 s, 90 s, 270 s); snooze: the job is snoozed (see `snooze_seconds`), no attempt used."""
    holds: bool
    """The note waits (ghost) until the platform connection is active again."""
    connection_status: str | None
    """What the platform connection becomes (expired / logged_out), None when unaffected."""
    message: str
    """User-facing text; `{platform}` is the platform's label (YouTube, Vimeo, Air)."""

    @property
    def retryable(self) -> bool:
        return self.retry != "never"


KIND_POLICY: Final[dict[str, KindPolicy]] = {
    p.kind: p
    for p in (
        KindPolicy(
            SESSION_EXPIRED,
            "never",
            True,
            "expired",
            "{platform} logged you out — reconnect it in Settings",
        ),
        KindPolicy(
            NOT_LOGGED_IN,
            "never",
            True,
            "logged_out",
            "You are not logged in to {platform} — connect it in Settings",
        ),
        KindPolicy(
            RATE_LIMITED,
            "snooze",
            False,
            None,
            "{platform} is limiting how fast comments can be posted — will try again later",
        ),
        KindPolicy(
            SELECTOR_FAILED,
            "never",
            False,
            None,
            "{platform}'s page has changed and the comment box could not be found — "
            "a screenshot was saved; Lossy needs an update",
        ),
        KindPolicy(
            NETWORK_ERROR,
            "backoff",
            False,
            None,
            "Could not reach {platform} (network problem) — will try again",
        ),
        KindPolicy(
            SCRIPT_FAILED,
            "backoff",
            False,
            None,
            "Posting to {platform} failed unexpectedly — will try again",
        ),
        KindPolicy(
            COMMENTS_DISABLED,
            "never",
            False,
            None,
            "Comments are turned off for this {platform} video",
        ),
        KindPolicy(
            TEXT_TOO_LONG,
            "never",
            False,
            None,
            "The note is longer than {platform} allows in one comment — shorten it",
        ),
        KindPolicy(
            INVALID_VIDEO,
            "never",
            False,
            None,
            "The {platform} video could not be opened (removed, private or a wrong address)",
        ),
        KindPolicy(
            HELD_FOR_REVIEW,
            "never",
            False,
            None,
            "{platform} is holding the comment for review — it appears once the owner approves it",
        ),
        KindPolicy(
            BROWSER_UNAVAILABLE,
            "backoff",
            False,
            None,
            "The browser for {platform} could not be started or was closed — will try again",
        ),
        KindPolicy(
            AUTH_REJECTED,
            "never",
            False,
            None,
            "The Browserbase API key was rejected — check it in Settings",
        ),
        KindPolicy(
            BROWSER_CAPACITY,
            "snooze",
            False,
            None,
            "Browserbase has no free browser right now (your plan's limit on browsers at once "
            "or started per minute) — will try again when one is free",
        ),
        KindPolicy(
            SITE_CHALLENGE,
            "never",
            True,
            "expired",
            "{platform} wants you to confirm it's you (a sign-in check, a captcha or a "
            "cookie consent page) — reconnect {platform} in Settings and finish it in the "
            "window; the note waits",
        ),
    )
}

KINDS: Final[tuple[str, ...]] = tuple(KIND_POLICY)


def policy(kind: str) -> KindPolicy:
    try:
        return KIND_POLICY[kind]
    except KeyError:
        raise ValueError(f"unknown automation error kind {kind!r} (known: {', '.join(KINDS)})")


def user_message(kind: str, platform: str | None = None) -> str:
    """The user-facing sentence for a kind, with the platform's label filled in."""
    label = PLATFORMS[platform].label if platform in PLATFORMS else (platform or "the platform")
    return policy(kind).message.format(platform=label)


# Kinds whose failure comes back on a retry unless the note (or the video) is changed first.
PERMANENT_KINDS: Final[tuple[str, ...]] = (COMMENTS_DISABLED, TEXT_TOO_LONG, INVALID_VIDEO)

_TECHNICAL = ("call log:", "net::err_", "page.goto", "locator.", "page.", "traceback", "error:")


def is_technical(text: str) -> bool:
    """Whether a message reads as a program's (a browser call log, a Playwright method)."""
    return any(mark in text.lower() for mark in _TECHNICAL)


def plain_error(
    kind: str | None,
    message: str | None,
    platform: str | None = None,
    *,
    final: bool = False,
    attempts: int = 0,
) -> str:
    """THE sentence a user sees for a stored note error (list, tooltips, tray, command line).

    The stored message is "<the kind's sentence> (<technical detail>)"; the user gets the
    sentence only: no internal code, no technical detail, no browser call log (those stay in
    the log and in `--json`). A message the kind's sentence does not start (e.g. "Interrupted
    (the app closed while posting) …") is kept when it reads as plain words. `final`: the note
    failed for good, so a "will try again" becomes how many attempts were made."""
    known = kind in KIND_POLICY
    sentence = user_message(kind, platform) if known and kind else ""
    first = ""
    if message and message.strip():
        first = message.strip().splitlines()[0].strip()
    technical = is_technical(first)
    if first and not technical and not (sentence and first.startswith(sentence)):
        sentence = first
    if not sentence:
        sentence = "Something went wrong while posting"
    if final:
        cut = sentence.split(" — will try again")[0]
        if cut != sentence:
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            sentence = f"{cut} — gave up{tries}"
    return sentence


def rate_limit_snooze(
    attempt: int, retry_after: float | None = None, base_s: float | None = None
) -> float:
    """Seconds to snooze the n-th (1-based) rate limit in a row: 30, 90, 270 (then 270).

    `base_s` (the `rate_limit_snooze_base_s` setting) scales the steps: base, 3·base, 9·base.
    A `retry_after` the platform or API gave wins when it is longer.
    """
    index = min(max(attempt, 1), len(RATE_LIMIT_SNOOZES)) - 1
    base = RATE_LIMIT_SNOOZES[index]
    if base_s is not None:
        base = base * base_s / RATE_LIMIT_SNOOZES[0]
    return max(base, retry_after) if retry_after is not None else base


class AutomationError(Exception):
    """A failure of browser automation with its taxonomy kind.

    `message` is a technical description (already free of secrets); `user_message(platform)`
    gives the sentence for the user. `artifact_path` points at a screenshot of the page.
    `usage`: a browser session was created (and billed) before the failure: its usage record,
    for the caller to store. `replay_url`: where the session's recording can be watched.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        retryable: bool | None = None,
        retry_after: float | None = None,
        artifact_path: str | None = None,
        usage: UsageRecord | None = None,
        replay_url: str | None = None,
    ) -> None:
        self.policy = policy(kind)
        self._retryable = retryable
        self.kind = kind
        self.message = redact(message)
        self.retry_after = retry_after
        self.artifact_path = artifact_path
        self.usage = usage
        self.replay_url = replay_url
        super().__init__(f"{kind}: {self.message}")

    @property
    def retryable(self) -> bool:
        """The kind's policy, unless the raiser knew better (`retryable=` given)."""
        return self.policy.retryable if self._retryable is None else self._retryable

    @property
    def holds(self) -> bool:
        return self.policy.holds

    @property
    def connection_status(self) -> str | None:
        return self.policy.connection_status

    def user_message(self, platform: str | None = None) -> str:
        return user_message(self.kind, platform)

    def with_artifact(self, artifact_path: str | None) -> AutomationError:
        """A copy of this error pointing at a saved screenshot/trace."""
        return AutomationError(
            self.kind,
            self.message,
            retryable=self._retryable,
            retry_after=self.retry_after,
            artifact_path=artifact_path,
            usage=self.usage,
            replay_url=self.replay_url,
        )

    def __repr__(self) -> str:
        return f"AutomationError({self.kind!r}, {self.message!r})"


# Playwright error texts that mean the browser or its connection went away.
_BROWSER_GONE = (
    "target page, context or browser has been closed",
    "target closed",
    "browser has been closed",
    "browser closed",
    "connection closed",
    "websocket error",
    "browsertype.connect_over_cdp",
    "econnrefused",
    "connect econnrefused",
    "has been disconnected",
    "playwright connection closed",
)
# Chromium network failures while loading a page.
_NETWORK = (
    "net::err_",
    "ns_error_",
    "econnreset",
    "socket hang up",
    "timed out",
)


def _summary(text: str, limit: int = 300) -> str:
    """The first line of an error (Playwright appends long call logs), cut to `limit`."""
    first = text.strip().splitlines()[0] if text.strip() else text
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _retry_after_header(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def classify(exc: BaseException) -> AutomationError:
    """Map any exception raised while automating a browser to an `AutomationError`.

    Never raises. Playwright timeouts and net::ERR_ failures are network_error; a closed
    browser, page or CDP connection is browser_unavailable; httpx errors map by status
    (401/403 auth_rejected, 429 rate_limited with retry-after, others network_error);
    anything else is script_failed.
    """
    if isinstance(exc, AutomationError):
        return exc
    full = f"{type(exc).__name__}: {exc}".strip()
    lowered = full.lower()
    text = _summary(full)

    # Imported here, not with the module: the app reads the taxonomy's words on the GUI thread,
    # and Playwright and httpx take ~0.1 s to import (a visible stall while posting).
    import httpx
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    if isinstance(exc, PlaywrightTimeout):
        return AutomationError(NETWORK_ERROR, f"the page did not respond in time ({text})")
    if isinstance(exc, PlaywrightError):
        if any(s in lowered for s in _BROWSER_GONE):
            return AutomationError(BROWSER_UNAVAILABLE, f"the browser connection closed ({text})")
        if any(s in lowered for s in _NETWORK):
            return AutomationError(NETWORK_ERROR, f"the page could not be loaded ({text})")
        return AutomationError(SCRIPT_FAILED, text)

    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in (401, 403):
            return AutomationError(AUTH_REJECTED, f"HTTP {status} from {exc.request.url.host}")
        if status == 429:
            return AutomationError(
                RATE_LIMITED,
                f"HTTP 429 from {exc.request.url.host}",
                retry_after=_retry_after_header(exc.response.headers.get("retry-after")),
            )
        return AutomationError(NETWORK_ERROR, f"HTTP {status} from {exc.request.url.host}")
    if isinstance(exc, httpx.TransportError):
        return AutomationError(NETWORK_ERROR, text)

    if isinstance(exc, TimeoutError):
        return AutomationError(NETWORK_ERROR, f"timed out ({text})")
    if isinstance(exc, ConnectionError | socket.gaierror | ssl.SSLError):
        if isinstance(exc, ConnectionRefusedError):
            return AutomationError(BROWSER_UNAVAILABLE, text)
        return AutomationError(NETWORK_ERROR, text)
    if any(s in lowered for s in _NETWORK):
        return AutomationError(NETWORK_ERROR, text)
    return AutomationError(SCRIPT_FAILED, text)


def connect_problem(exc: BaseException, platform: str | None = None) -> str:
    """THE sentence a user sees when logging in to a platform or checking a login fails.

    One plain sentence, in the words of connecting (not posting): no Playwright text, no call
    log, no internal code — the caller logs `classify(exc)` for the technical side. An error the
    app already words for users (`LossyError`) is said as it is."""
    if isinstance(exc, LossyError):
        return str(exc)
    label = PLATFORMS[platform].label if platform in PLATFORMS else (platform or "the platform")
    error = classify(exc)
    kind = error.kind
    first = error.message.strip().splitlines()[0] if error.message.strip() else ""
    if kind == BROWSER_UNAVAILABLE and first[:1].isupper() and not is_technical(first):
        return first  # worded for users where it was raised ("No Chromium was found. …")
    if kind == NETWORK_ERROR:
        return (
            f"Could not reach {label} — check this computer's internet connection, then try again."
        )
    if kind == BROWSER_UNAVAILABLE:
        return f"The browser for {label} could not be started or was closed — try again."
    if kind in (SCRIPT_FAILED, SELECTOR_FAILED):
        return f"Something went wrong while opening {label} — try again (details are in the log)."
    return user_message(kind, platform).split(" — will try again")[0]
