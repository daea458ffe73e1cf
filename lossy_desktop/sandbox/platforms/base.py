"""What the sandbox's common server knows of one fake platform, and what a platform's module may
call on the server.

Each platform is one module in this package holding one `SandboxPlatform` (its addresses, login
cookie, texts, pages, comment ids and its own routes) and one row in `PLATFORMS`
(`__init__.py`). The server does the rest the same way for every platform: sessions, faults,
the comment API's checks, the pages that stop automation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from lossy_desktop.core.platforms import PLATFORMS as CORE_PLATFORMS
from lossy_desktop.core.platforms import Platform as CorePlatform
from lossy_desktop.sandbox.model import Video
from lossy_desktop.sandbox.pages import PageView, SignInForm, sign_in_page


class Site(Protocol):
    """The common server, as a platform's routes see it."""

    def video(self, platform: str, video_id: str) -> Video | None: ...

    def not_found(self, platform: str) -> web.Response: ...

    async def video_page(
        self, request: web.Request, platform: str, video_id: str, highlight: str | None
    ) -> web.Response: ...

    async def list_comments(
        self, request: web.Request, platform: str, video_id: str
    ) -> web.StreamResponse: ...

    async def post_comment(
        self, request: web.Request, platform: str, video_id: str
    ) -> web.StreamResponse: ...

    async def delete_comment(
        self, request: web.Request, platform: str, video_id: str, comment_id: str
    ) -> web.StreamResponse: ...


@dataclass(frozen=True)
class SandboxPlatform:
    """One fake platform, described once."""

    key: str
    """The platform's key in `lossy_desktop.core.platforms.PLATFORMS` (its limits come from
    there) and the first part of every path it serves."""
    cookie_name: str
    login_path: str
    logout_path: str
    messages: Mapping[str, str]
    """What the platform says for each error code of its comment API (and "invalid_video",
    the text of its "unavailable" page)."""
    default_challenge: str
    """The site_challenge variant this platform shows when the fault names none."""
    video_page: Callable[[PageView], str]
    home_page: Callable[[str | None, list[Video]], str]
    """(viewer, the platform's videos) → the home page's HTML."""
    sign_in: SignInForm
    video_path: Callable[[Video], str]
    """A video's address, without the base ("/youtube/watch?v=ID")."""
    comment_anchor: Callable[[str], str]
    """What follows the video's address in a comment's permalink ("&lc=CID")."""
    new_comment_id: Callable[[int], str]
    """A new comment's id, given how many comments this platform stored before it plus one."""
    routes: Callable[[Site], list[web.RouteDef]]
    """The platform's own routes: its video pages and the API its pages' scripts call."""
    in_page_links: bool = False
    """The page's own link to a comment is only its anchor ("#comment_CID")."""
    takes_time_code: bool = True
    """Its comment box can send the player's time (`timeCode`); else the time is the first
    timecode in the text."""
    not_found_attrs: str = ""
    """Extra attributes on the "unavailable" heading when the video does not exist."""

    @property
    def core(self) -> CorePlatform:
        return CORE_PLATFORMS[self.key]

    @property
    def comment_limit(self) -> int:
        return self.core.comment_limit

    @property
    def home_path(self) -> str:
        return f"/{self.key}"

    def login_page(self, continue_url: str, error: str | None = None) -> str:
        """The sign-in page (`continue_url`: where to go once signed in)."""
        return sign_in_page(self.key, self.login_path, self.sign_in, continue_url, error)

    def permalink(self, base_url: str, video: Video, comment_id: str) -> str:
        return base_url + self.video_path(video) + self.comment_anchor(comment_id)

    def comment_link(self, video: Video, comment_id: str) -> str:
        """The link to a comment that the page's script renders."""
        if self.in_page_links:
            return self.comment_anchor(comment_id)
        return self.video_path(video) + self.comment_anchor(comment_id)


def comment_limit(key: str) -> int:
    """core's comment length limit for the platform (what its texts quote)."""
    return CORE_PLATFORMS[key].comment_limit


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or {} when the body is not one."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def comments_api(site: Site, key: str, prefix: str) -> list[web.RouteDef]:
    """A REST comment API: `GET|POST {prefix}/{video}/comments`,
    `DELETE {prefix}/{video}/comments/{comment}` (Vimeo's and Air's shape)."""

    async def comments(request: web.Request) -> web.StreamResponse:
        video_id = request.match_info["video"]
        if request.method == "POST":
            return await site.post_comment(request, key, video_id)
        return await site.list_comments(request, key, video_id)

    async def delete(request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return await site.delete_comment(request, key, info["video"], info["comment"])

    return [
        web.route("*", f"{prefix}/{{video}}/comments", comments),
        web.delete(f"{prefix}/{{video}}/comments/{{comment}}", delete),
    ]
