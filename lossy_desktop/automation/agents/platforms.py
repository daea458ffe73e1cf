"""The three agents: YouTube, Vimeo and Air. They differ in their selector tables and in where
a posted comment's id lives."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit, urlunsplit

from lossy_desktop.automation.agents.base import PlatformAgent, SeenComment
from lossy_desktop.automation.agents.selectors import AIR, VIMEO, YOUTUBE


def _query_param(href: str | None, *names: str) -> str | None:
    if not href:
        return None
    parts = urlsplit(href)
    query = parse_qs(parts.query)
    for name in names:
        if query.get(name):
            return query[name][0]
    fragment = parse_qs(parts.fragment)
    for name in names:
        if fragment.get(name):
            return fragment[name][0]
    return None


class YouTubeAgent(PlatformAgent):
    """A comment's real id is the `lc` parameter of its "published time" link
    (`#published-time-text a` → `watch?v=VIDEO&lc=COMMENT`), which is also its permalink."""

    platform = "youtube"
    selectors = YOUTUBE

    def comment_id(self, seen: SeenComment) -> str | None:
        return _query_param(seen.href, "lc")

    def permalink(self, seen: SeenComment, video_url: str, comment_id: str) -> str:
        if seen.href and _query_param(seen.href, "lc") == comment_id:
            return seen.href
        sep = "&" if "?" in video_url else "?"
        return f"{video_url}{sep}lc={comment_id}"


class VimeoAgent(PlatformAgent):
    """Each comment carries `id="comment_<id>"`; its permalink is the video URL +
    `#comment_<id>`."""

    platform = "vimeo"
    selectors = VIMEO

    def comment_id(self, seen: SeenComment) -> str | None:
        for value in (seen.element_id, seen.data_id):
            if value and value.startswith("comment_") and value != "comment_form":
                return value.removeprefix("comment_")
        if seen.data_id:
            return seen.data_id
        if seen.href and "#comment_" in seen.href:
            return seen.href.rsplit("#comment_", 1)[1] or None
        return None

    def permalink(self, seen: SeenComment, video_url: str, comment_id: str) -> str:
        parts = urlsplit(video_url)
        return urlunsplit((*parts[:4], f"comment_{comment_id}"))


class AirAgent(PlatformAgent):
    """Air's comment link carries the id (`?commentId=`); else `data-comment-id`. UNCONFIRMED
    against the live site (see selectors.AIR)."""

    platform = "air"
    selectors = AIR

    def comment_id(self, seen: SeenComment) -> str | None:
        return _query_param(seen.href, "commentId", "comment") or seen.data_id

    def permalink(self, seen: SeenComment, video_url: str, comment_id: str) -> str:
        if seen.href and _query_param(seen.href, "commentId", "comment") == comment_id:
            return seen.href
        parts = urlsplit(video_url)
        return urlunsplit((*parts[:3], f"commentId={comment_id}", ""))
