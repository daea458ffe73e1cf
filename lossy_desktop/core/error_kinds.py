"""The error kinds of posting and their policies: the data of the error taxonomy.

Each kind has a policy (`KIND_POLICY`): whether the posting queue tries again and how
(backoff, or a snooze for rate limits), whether the note is held until the user reconnects the
platform (and what the connection becomes), and the message the user sees.

Pure data, in core so that every layer reads the same table: the notes' state (`HOLD_KINDS`:
the kinds that hold a note) derives from it here, and `automation.errors` (classification,
`AutomationError`) builds on it. No database, no Playwright.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from lossy_desktop.core.wording import platform_label

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
    return policy(kind).message.format(platform=platform_label(platform))


# Kinds whose failure comes back on a retry unless the note (or the video) is changed first.
PERMANENT_KINDS: Final[tuple[str, ...]] = (COMMENTS_DISABLED, TEXT_TOO_LONG, INVALID_VIDEO)

# Kinds that mean "the platform connection must be renewed": the note waits (held) until the
# platform is connected again. Derived from the policies, never listed by hand.
HOLD_KINDS: Final[tuple[str, ...]] = tuple(k for k, p in KIND_POLICY.items() if p.holds)
