"""The error taxonomy of browser automation: every failure becomes one `AutomationError` kind.

Each kind has a policy (`KIND_POLICY`): whether the posting queue tries again and how
(backoff, or a snooze for rate limits), whether the note is held until the user reconnects the
platform (and what the connection becomes), and the message the user sees. The kinds and their
policies are data kept in `core.error_kinds` (the notes' state reads them too); every name is
re-exported here.

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
from typing import TYPE_CHECKING, Final

from lossy_desktop.core.error_kinds import (
    AUTH_REJECTED,
    BROWSER_CAPACITY,
    BROWSER_UNAVAILABLE,
    COMMENTS_DISABLED,
    HELD_FOR_REVIEW,
    INVALID_VIDEO,
    KIND_POLICY,
    KINDS,
    NETWORK_ERROR,
    NOT_LOGGED_IN,
    PERMANENT_KINDS,
    RATE_LIMITED,
    SCRIPT_FAILED,
    SELECTOR_FAILED,
    SESSION_EXPIRED,
    SITE_CHALLENGE,
    TEXT_TOO_LONG,
    KindPolicy,
    Retry,
    policy,
    user_message,
)
from lossy_desktop.core.errors import LossyError
from lossy_desktop.core.logs import redact
from lossy_desktop.core.wording import platform_label

if TYPE_CHECKING:
    from lossy_desktop.core.billing import UsageRecord
    from lossy_desktop.core.notes import NoteView

__all__ = [  # the taxonomy's data (core.error_kinds) and what automation builds on it
    "AUTH_REJECTED",
    "BROWSER_CAPACITY",
    "BROWSER_UNAVAILABLE",
    "COMMENTS_DISABLED",
    "HELD_FOR_REVIEW",
    "INVALID_VIDEO",
    "KINDS",
    "KIND_POLICY",
    "NETWORK_ERROR",
    "NOT_LOGGED_IN",
    "PERMANENT_KINDS",
    "RATE_LIMITED",
    "RATE_LIMIT_SNOOZES",
    "SCRIPT_FAILED",
    "SELECTOR_FAILED",
    "SESSION_EXPIRED",
    "SITE_CHALLENGE",
    "TEXT_TOO_LONG",
    "AutomationError",
    "KindPolicy",
    "Retry",
    "classify",
    "connect_problem",
    "is_technical",
    "plain_error",
    "policy",
    "rate_limit_snooze",
    "user_message",
]

# Rate limits are snoozed 30 s, 90 s, 270 s (30·3^(n-1)); a snooze does not use up an attempt.
RATE_LIMIT_SNOOZES: Final[tuple[float, ...]] = (30.0, 90.0, 270.0)


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


def note_error(note: NoteView) -> str:
    """The sentence for a note's stored error ("" when it has none): `plain_error` with the
    note's own kind, platform and attempts; a failed note's "will try again" is cut."""
    if not note.error and not note.error_kind:
        return ""
    return plain_error(
        note.error_kind,
        note.error,
        note.platform,
        final=note.state == "failed",  # (core.note_state would load the database layer)
        attempts=note.attempts,
    )


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
    label = platform_label(platform)
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
