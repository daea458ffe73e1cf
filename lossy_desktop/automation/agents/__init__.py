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
from lossy_desktop.core.platforms import get_platform

_AGENTS: dict[str, type[PlatformAgent]] = {
    "youtube": YouTubeAgent,
    "vimeo": VimeoAgent,
    "air": AirAgent,
}


def agent_for(platform: str, timeouts: Timeouts | None = None) -> PlatformAgent:
    """The agent for a platform key ("youtube", "vimeo", "air"); ValidationError otherwise."""
    get_platform(platform)
    return _AGENTS[platform](timeouts)


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
