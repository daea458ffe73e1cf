"""The sandbox's in-memory world: videos, comments, logins and fault switches.

Thread-safe: the aiohttp handlers run on the server's own loop thread while tests and benchmarks
call `SandboxServer` methods from theirs. Every method takes the lock and never awaits.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from lossy_desktop.sandbox.model import Comment, SandboxError, Video
from lossy_desktop.sandbox.platforms import get_platform

# Which requests each fault applies to: "page" (HTML pages), "list" (loading comments),
# "post" (submitting a comment). `on=` overrides it for the generic ones.
FAULT_SCOPES: dict[str, tuple[str, ...]] = {
    "logged_out": ("page", "post"),
    "session_expired": ("page", "post"),
    "rate_limited": ("post",),
    "comments_disabled": ("page", "post"),
    "held_for_review": ("post",),
    "changed_selectors": ("page",),
    "slow_page": ("page",),
    "server_error": ("page", "list", "post"),
    "dropped_connection": ("page", "list", "post"),
    "site_challenge": ("page",),
}
# Faults of the fake Browserbase API (platform "browserbase").
BROWSERBASE_FAULTS: dict[str, tuple[str, ...]] = {
    "refuse_sessions": ("create",),
    "rate_limited": ("create",),
    "server_error": ("create", "api"),
    "refuse_connect": ("connect",),  # the session's CDP endpoint refuses (it ended early)
}
CHANGED_VARIANTS = ("ids", "ids_and_roles")
# Pages that stop automation, served instead of the platform's page (site_challenge):
# Google's consent wall, Google's "unusual traffic" captcha, Google's "Verify it's you",
# Vimeo's "Verify to continue" block page, Cloudflare's "Just a moment..." check, and YouTube's
# "Sign in to confirm you're not a bot" in the watch page's player (bot_check).
CHALLENGE_VARIANTS = (
    "consent",
    "unusual_traffic",
    "verify_its_you",
    "verify_to_continue",
    "cloudflare",
    "bot_check",
)

VIDEO_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TIMECODE_RE = re.compile(r"(?<![\d:])(?:(\d{1,2}):)?(\d{1,2}):([0-5]\d)(?![\d:])")


def parse_timecodes(text: str) -> list[tuple[int, int, int]]:
    """(start, end, seconds) of every M:SS / H:MM:SS timecode in text."""
    found = []
    for m in TIMECODE_RE.finditer(text):
        hours = int(m.group(1)) if m.group(1) else 0
        minutes, seconds = int(m.group(2)), int(m.group(3))
        if m.group(1) and minutes > 59:
            continue
        found.append((m.start(), m.end(), hours * 3600 + minutes * 60 + seconds))
    return found


@dataclass
class Login:
    token: str
    platform: str
    account: str
    created_at: float


@dataclass
class Fault:
    platform: str
    kind: str
    video_id: str | None
    remaining: int | None
    params: dict[str, Any]
    scopes: tuple[str, ...]
    hits: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "fault": self.kind,
            "video_id": self.video_id,
            "remaining": self.remaining,
            "params": dict(self.params),
            "on": list(self.scopes),
            "hits": self.hits,
        }


class SandboxState:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._videos: dict[tuple[str, str], Video] = {}
        self._logins: dict[str, Login] = {}
        # Every sign-in form posted: platform, account and what the page saw of
        # navigator.webdriver ("false", "true" or "no-script"); only "false" is let in.
        self.sign_ins: list[dict[str, str]] = []
        self._faults: list[Fault] = []
        self._stored: dict[str, int] = {}  # comments each platform stored (for their ids)
        self._views: dict[str, dict[str, Any]] = {}
        self._delete_requests: list[dict[str, Any]] = []
        self.base_url = ""

    # ---- videos and comments -------------------------------------------------------------

    def video(self, platform: str, video_id: str, *, create: bool = True) -> Video | None:
        get_platform(platform)
        with self._lock:
            key = (platform, video_id)
            found = self._videos.get(key)
            if found is None and create and VIDEO_ID_RE.match(video_id):
                found = Video(platform, video_id, title=f"Sandbox video {video_id}")
                self._videos[key] = found
            return found

    def set_video(
        self,
        platform: str,
        video_id: str,
        *,
        duration: float | None = None,
        title: str | None = None,
        comments_enabled: bool | None = None,
        exists: bool | None = None,
        workspace: str | None = None,
    ) -> dict[str, Any]:
        if not VIDEO_ID_RE.match(video_id):
            raise SandboxError(f"bad video id {video_id!r} (letters, digits, _ and -; 1-64)")
        if duration is not None and not (0 < float(duration) <= 86_400):
            raise SandboxError("duration must be between 0 and 86400 seconds")
        with self._lock:
            video = self.video(platform, video_id)
            assert video is not None
            if duration is not None:
                video.duration = float(duration)
            if title is not None:
                video.title = title
            if comments_enabled is not None:
                video.comments_enabled = bool(comments_enabled)
            if exists is not None:
                video.exists = bool(exists)
            if workspace is not None:
                video.workspace = workspace
            return self.video_info(video)

    def video_info(self, video: Video) -> dict[str, Any]:
        return {
            "platform": video.platform,
            "id": video.id,
            "duration": video.duration,
            "title": video.title,
            "comments_enabled": video.comments_enabled,
            "exists": video.exists,
            "comment_count": len(video.comments),
        }

    def add_comment(
        self,
        platform: str,
        video_id: str,
        text: str,
        author: str,
        *,
        player_time: float | None = None,
        time_code: float | None = None,
        held: bool = False,
        parent: str | None = None,
    ) -> Comment:
        with self._lock:
            video = self.video(platform, video_id)
            if video is None:
                raise SandboxError(f"bad video id {video_id!r}")
            site = get_platform(platform)
            self._stored[platform] = self._stored.get(platform, 0) + 1
            comment_id = site.new_comment_id(self._stored[platform])
            when: float | None
            if time_code is not None:
                when = float(time_code)
            else:
                codes = parse_timecodes(text)
                when = float(codes[0][2]) if codes else None
            comment = Comment(
                id=comment_id,
                platform=platform,
                video=video.id,
                author=author,
                text=text,
                time=when,
                player_time=player_time,
                permalink=site.permalink(self.base_url, video, comment_id),
                held=held,
                created_at=time.time(),
                parent=parent,
            )
            video.comments.append(comment)
            return comment

    def delete_comment(self, platform: str, video_id: str, comment_id: str, account: str) -> bool:
        """Delete `account`'s own comment; False when it is not there (already deleted).
        Another account's comment raises SandboxError (a platform lets you delete only yours)."""
        with self._lock:
            video = self.video(platform, video_id, create=False)
            if video is None:
                return False
            for comment in video.comments:
                if comment.id == comment_id:
                    if comment.author != account:
                        raise SandboxError("you can only delete your own comments")
                    video.comments.remove(comment)
                    return True
            return False

    def record_delete_request(
        self, platform: str, video_id: str, comment_id: str, deleted: bool
    ) -> None:
        """A delete request reached the platform (kept so tests can count them)."""
        with self._lock:
            self._delete_requests.append(
                {"platform": platform, "video_id": video_id, "id": comment_id, "deleted": deleted}
            )

    def delete_requests(self, platform: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._delete_requests if platform in (None, r["platform"])]

    def visible_comments(self, platform: str, video_id: str, viewer: str | None) -> list[Comment]:
        """What a page shows: public comments plus the viewer's own held ones."""
        with self._lock:
            video = self.video(platform, video_id, create=False)
            if video is None:
                return []
            return [c for c in video.comments if not c.held or c.author == viewer]

    def comments(self, platform: str | None = None, video_id: str | None = None) -> list[Comment]:
        if platform is not None:
            get_platform(platform)
        with self._lock:
            out: list[Comment] = []
            for (p, vid), video in self._videos.items():
                if platform is not None and p != platform:
                    continue
                if video_id is not None and vid != video_id:
                    continue
                out.extend(video.comments)
            return sorted(out, key=lambda c: c.created_at)

    def videos(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self.video_info(v) for v in self._videos.values()]

    # ---- logins --------------------------------------------------------------------------

    def login(self, platform: str, account: str) -> Login:
        get_platform(platform)
        with self._lock:
            token = secrets.token_urlsafe(24)
            entry = Login(token, platform, account, time.time())
            self._logins[token] = entry
            return entry

    def logout(self, platform: str, token: str | None = None) -> int:
        with self._lock:
            doomed = [
                t
                for t, entry in self._logins.items()
                if entry.platform == platform and (token is None or t == token)
            ]
            for t in doomed:
                del self._logins[t]
            return len(doomed)

    def lookup_login(self, platform: str, token: str | None) -> Login | None:
        if not token:
            return None
        with self._lock:
            entry = self._logins.get(token)
            return entry if entry is not None and entry.platform == platform else None

    def logins(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"platform": e.platform, "account": e.account, "created_at": e.created_at}
                for e in self._logins.values()
            ]

    # ---- faults --------------------------------------------------------------------------

    def set_fault(
        self,
        platform: str,
        fault: str,
        *,
        count: int | None = None,
        video_id: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        if platform == "browserbase":
            table = BROWSERBASE_FAULTS
        else:
            get_platform(platform)
            table = FAULT_SCOPES
        if fault not in table:
            raise SandboxError(
                f"unknown fault {fault!r} for {platform} (use {', '.join(sorted(table))})"
            )
        if count is not None and (not isinstance(count, int) or count < 1):
            raise SandboxError("count must be a positive whole number (or omitted: always)")
        scopes = table[fault]
        on = params.pop("on", None)
        if on is not None:
            wanted = (on,) if isinstance(on, str) else tuple(on)
            bad = [s for s in wanted if s not in ("page", "list", "post", "create", "api")]
            if bad or not wanted:
                raise SandboxError(f"on= must be some of page, list, post (got {on!r})")
            scopes = wanted
        if fault == "changed_selectors":
            variant = params.setdefault("variant", "ids")
            if variant not in CHANGED_VARIANTS:
                raise SandboxError(f"variant must be one of {', '.join(CHANGED_VARIANTS)}")
        if fault == "site_challenge":
            variant = params.setdefault("variant", get_platform(platform).default_challenge)
            if variant not in CHALLENGE_VARIANTS:
                raise SandboxError(f"variant must be one of {', '.join(CHALLENGE_VARIANTS)}")
        for key in ("delay", "retry_after"):
            if key in params:
                try:
                    params[key] = float(params[key])
                except (TypeError, ValueError):
                    raise SandboxError(f"{key} must be a number of seconds")
                if not 0 <= params[key] <= 600:
                    raise SandboxError(f"{key} must be between 0 and 600 seconds")
        entry = Fault(platform, fault, video_id, count, params, scopes)
        with self._lock:
            self._faults.append(entry)
        return entry.public()

    def clear_faults(self, platform: str | None = None) -> None:
        with self._lock:
            self._faults = [
                f for f in self._faults if platform is not None and f.platform != platform
            ]

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.public() for f in self._faults]

    def take_fault(
        self, platform: str, scope: str, video_id: str | None, kinds: tuple[str, ...]
    ) -> Fault | None:
        """The first active fault of these kinds for this request; uses up one of its count."""
        with self._lock:
            for entry in self._faults:
                if entry.platform != platform or entry.kind not in kinds:
                    continue
                if scope not in entry.scopes:
                    continue
                if entry.video_id is not None and entry.video_id != video_id:
                    continue
                entry.hits += 1
                if entry.remaining is not None:
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._faults.remove(entry)
                return entry
            return None

    # ---- page views: a page's faults hold for the requests its script makes ------------------

    def record_view(self, flags: dict[str, Any]) -> str:
        view_id = secrets.token_urlsafe(9)
        with self._lock:
            self._views[view_id] = flags
            while len(self._views) > 5000:
                del self._views[next(iter(self._views))]
        return view_id

    def view_flags(self, view_id: str | None) -> dict[str, Any]:
        if not view_id:
            return {}
        with self._lock:
            return dict(self._views.get(view_id, {}))

    # ---- everything ----------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._videos.clear()
            self._logins.clear()
            self.sign_ins.clear()
            self._faults.clear()
            self._views.clear()
            self._delete_requests.clear()
