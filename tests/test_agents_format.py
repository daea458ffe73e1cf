"""format_comment, the selector tables and the agent registry (no browser)."""

from __future__ import annotations

import math

import pytest

from lossy_desktop.automation.agents import agent_for, format_comment
from lossy_desktop.automation.agents.base import normalize_account, normalize_text
from lossy_desktop.automation.agents.platforms import AirAgent, VimeoAgent, YouTubeAgent
from lossy_desktop.automation.agents.selectors import SELECTORS
from lossy_desktop.core.errors import ValidationError


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0:00 — fix the cut"),
        (5, "0:05 — fix the cut"),
        (83, "1:23 — fix the cut"),
        (83.9, "1:23 — fix the cut"),
        (599, "9:59 — fix the cut"),
        (3599, "59:59 — fix the cut"),
        (3600, "1:00:00 — fix the cut"),
        (3723, "1:02:03 — fix the cut"),
        (36000 + 61, "10:01:01 — fix the cut"),
    ],
)
def test_format_comment_puts_the_timecode_first(seconds: float, expected: str) -> None:
    assert format_comment(seconds, "fix the cut") == expected


def test_format_comment_strips_the_text() -> None:
    assert format_comment(1, "  padded \n") == "0:01 — padded"


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_format_comment_refuses_bad_times(bad: float) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        format_comment(bad, "x")


def test_format_comment_refuses_empty_text() -> None:
    with pytest.raises(ValueError, match="empty"):
        format_comment(1, "   ")


def test_agent_for_each_platform() -> None:
    assert isinstance(agent_for("youtube"), YouTubeAgent)
    assert isinstance(agent_for("vimeo"), VimeoAgent)
    assert isinstance(agent_for("air"), AirAgent)
    with pytest.raises(ValidationError, match="unknown platform 'tiktok'"):
        agent_for("tiktok")


REQUIRED = (
    "logged_in",
    "logged_out",
    "player",
    "editor",
    "submit",
    "comment_item",
    "comment_text",
    "comment_author",
    "comment_link",
    "rate_limited",
)


def test_selector_tables_are_complete_and_air_is_marked_unconfirmed() -> None:
    assert set(SELECTORS) == {"youtube", "vimeo", "air"}
    assert SELECTORS["youtube"].confirmed and SELECTORS["vimeo"].confirmed
    assert not SELECTORS["air"].confirmed
    for table in SELECTORS.values():
        for name in REQUIRED:
            assert getattr(table, name), f"{table.platform}.{name} is empty"
        # Stable ids first, user-facing (role) locators as the last resort.
        roles = [f.role is not None for f in table.editor]
        assert roles[-1] and not roles[0]


def test_normalizing_texts_and_accounts() -> None:
    assert normalize_text(" 1:23 —\u00a0a\n  b ") == "1:23 — a b"
    assert normalize_account("@Alice ") == normalize_account("alice")


@pytest.mark.parametrize(
    "text",
    [
        "0:12 The logo stutters",
        "0:12 — The logo stutters",
        "[0:12] - The logo stutters",
        "(0:12): The logo stutters",
    ],
)
def test_a_timecode_the_recorder_already_wrote_is_not_doubled(text):
    assert format_comment(12.5, text) == "0:12 — The logo stutters"


def test_a_different_leading_timecode_is_kept():
    assert format_comment(12, "1:40 looks like 0:12") == "0:12 — 1:40 looks like 0:12"
