"""The sandbox's records (a video, a comment) and its one error: what the platforms' modules,
the in-memory state and the server all speak of, imported by each and importing none of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_DURATION = 600.0
DEFAULT_AIR_WORKSPACE = "lossy-review"


class SandboxError(ValueError):
    """A bad request to the sandbox's own API (unknown platform, fault, parameter)."""


@dataclass
class Comment:
    id: str
    platform: str
    video: str
    author: str
    text: str
    time: float | None
    player_time: float | None
    permalink: str
    held: bool
    created_at: float
    parent: str | None = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Video:
    platform: str
    id: str
    duration: float = DEFAULT_DURATION
    title: str = ""
    comments_enabled: bool = True
    exists: bool = True
    workspace: str = DEFAULT_AIR_WORKSPACE
    """Air's: the workspace in the asset's address (the first visit names it)."""
    comments: list[Comment] = field(default_factory=list)
