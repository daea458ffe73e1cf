"""The error taxonomy: policies, classification of real exception types, no secrets."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from lossy_desktop.automation import errors as E
from lossy_desktop.automation.errors import AutomationError, classify


def test_every_kind_has_a_policy_and_message() -> None:
    assert set(E.KINDS) == {
        "session_expired",
        "not_logged_in",
        "rate_limited",
        "selector_failed",
        "network_error",
        "script_failed",
        "comments_disabled",
        "text_too_long",
        "invalid_video",
        "held_for_review",
        "browser_unavailable",
        "auth_rejected",
        "browser_capacity",
        "site_challenge",
    }
    for kind in E.KINDS:
        assert "{" not in E.user_message(kind, "vimeo")


def test_retry_and_hold_policies() -> None:
    retried = {k for k in E.KINDS if AutomationError(k, "x").retryable}
    assert retried == {
        "rate_limited",
        "network_error",
        "script_failed",
        "browser_unavailable",
        "browser_capacity",
    }
    held = {k for k in E.KINDS if AutomationError(k, "x").holds}
    assert held == {"session_expired", "not_logged_in", "site_challenge"}
    assert E.KIND_POLICY["rate_limited"].retry == "snooze"
    assert E.KIND_POLICY["session_expired"].connection_status == "expired"
    assert E.KIND_POLICY["not_logged_in"].connection_status == "logged_out"
    assert E.user_message("session_expired", "youtube") == (
        "YouTube logged you out — reconnect it in Settings"
    )


def test_rate_limit_snoozes_grow_and_honour_retry_after() -> None:
    assert [E.rate_limit_snooze(n) for n in (1, 2, 3, 4)] == [30, 90, 270, 270]
    assert E.rate_limit_snooze(1, retry_after=120) == 120
    assert E.rate_limit_snooze(3, retry_after=5) == 270


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown automation error kind 'bogus'"):
        AutomationError("bogus", "x")


def _http_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "https://api.browserbase.com/v1/sessions")
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError("boom", request=request, response=response)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (PlaywrightTimeout("Timeout 30000ms exceeded.\nCall log:\n  - waiting"), "network_error"),
        (PlaywrightError("net::ERR_EMPTY_RESPONSE at http://127.0.0.1:1/x"), "network_error"),
        (PlaywrightError("net::ERR_CONNECTION_RESET"), "network_error"),
        (PlaywrightError("Target page, context or browser has been closed"), "browser_unavailable"),
        (PlaywrightError("Browser.new_page: Connection closed"), "browser_unavailable"),
        (PlaywrightError("Element is not attached to the DOM"), "script_failed"),
        (_http_error(401), "auth_rejected"),
        (_http_error(403), "auth_rejected"),
        (_http_error(502), "network_error"),
        (httpx.ConnectError("connection refused"), "network_error"),
        (httpx.ReadTimeout("read timed out"), "network_error"),
        (TimeoutError(), "network_error"),
        (ConnectionResetError("reset by peer"), "network_error"),
        (ConnectionRefusedError("refused"), "browser_unavailable"),
        (KeyError("oops"), "script_failed"),
    ],
)
def test_classify_maps_real_exceptions(exc: BaseException, kind: str) -> None:
    err = classify(exc)
    assert err.kind == kind
    assert "\n" not in err.message  # Playwright's call log is cut off


def test_classify_rate_limit_keeps_retry_after() -> None:
    err = classify(_http_error(429, {"retry-after": "42"}))
    assert err.kind == "rate_limited"
    assert err.retry_after == 42.0


def test_classify_passes_automation_errors_through() -> None:
    original = AutomationError("comments_disabled", "off", artifact_path="/tmp/x.png")
    assert classify(original) is original


def test_messages_never_carry_connect_urls_or_keys() -> None:
    secret = "wss://connect.browserbase.com?signingKey=abcdef123456"
    err = classify(PlaywrightError(f"BrowserType.connect_over_cdp: failed {secret}"))
    assert "abcdef123456" not in str(err)
    assert "signingKey=abcdef" not in err.message


def test_retryable_can_be_overridden_by_the_raiser() -> None:
    err = AutomationError("network_error", "dns failed for good", retryable=False)
    assert not err.retryable
    assert err.with_artifact("/tmp/a.png").retryable is False
    assert AutomationError("network_error", "x").retryable
