"""Platform agents: post review notes as timestamped comments on YouTube, Vimeo and Air.

    agent = agent_for("youtube")
    state = await agent.check_login(page)                  # LoginState(logged_in, account)
    outcomes = await agent.post(page, video_url, [NoteToPost(id, text, 83.0), ...],
                                artifacts_dir=data_dir / "artifacts", on_step=callback)

`post()` loads the video page once for all its notes; each PostOutcome says posted (seen on
the page, with its real comment id and permalink), already_present (found before typing: not
posted twice), or the AutomationError (see automation/errors.py) with a screenshot path when
the page looked wrong.
"""

from __future__ import annotations

from pathlib import Path

from lossy_desktop.automation.agents.base import (
    STEP_CONFIRMING,
    STEP_OPENING,
    STEP_SEEKING,
    STEP_SUBMITTING,
    STEP_TYPING,
    LoginState,
    NoteToPost,
    PaceHook,
    PlatformAgent,
    PostOutcome,
    StepCallback,
    StopBatch,
    Timeouts,
    format_comment,
)
from lossy_desktop.automation.agents.platforms import AirAgent, VimeoAgent, YouTubeAgent
from lossy_desktop.automation.agents.selectors import PlatformSelectors
from lossy_desktop.automation.agents.table_file import load_table
from lossy_desktop.core.platforms import get_platform

_AGENTS: dict[str, type[PlatformAgent]] = {
    "youtube": YouTubeAgent,
    "vimeo": VimeoAgent,
    "air": AirAgent,
}


def agent_for(
    platform: str,
    timeouts: Timeouts | None = None,
    *,
    selectors_dir: Path | None = None,
    selectors: PlatformSelectors | None = None,
) -> PlatformAgent:
    """The agent for a platform key ("youtube", "vimeo", "air"); ValidationError otherwise.

    Its selector table: `selectors` when given, else the one in force in `selectors_dir` (the
    user's `<platform>.json` override when it is good, else the shipped table)."""
    get_platform(platform)
    if selectors is None and selectors_dir is not None:
        selectors = load_table(platform, selectors_dir).selectors
    return _AGENTS[platform](timeouts, selectors=selectors)


__all__ = [
    "STEP_CONFIRMING",
    "STEP_OPENING",
    "STEP_SEEKING",
    "STEP_SUBMITTING",
    "STEP_TYPING",
    "AirAgent",
    "LoginState",
    "NoteToPost",
    "PaceHook",
    "PlatformAgent",
    "PostOutcome",
    "StepCallback",
    "StopBatch",
    "Timeouts",
    "VimeoAgent",
    "YouTubeAgent",
    "agent_for",
    "format_comment",
]
