"""The three platforms: their hosts, comment limits and home URLs (or the sandbox's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lossy_desktop.core.errors import ValidationError

if TYPE_CHECKING:
    from lossy_desktop.core.settings import Settings, StrKey


@dataclass(frozen=True)
class Platform:
    key: str
    label: str
    hosts: tuple[str, ...]
    comment_limit: int
    home_setting: StrKey


PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform(
            "youtube",
            "YouTube",
            ("youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"),
            10_000,
            "youtube_home",
        ),
        Platform(
            "vimeo",
            "Vimeo",
            ("vimeo.com", "www.vimeo.com", "player.vimeo.com"),
            5_000,
            "vimeo_home",
        ),
        Platform("air", "Air", ("air.inc", "app.air.inc", "www.air.inc"), 5_000, "air_home"),
    )
}


def get_platform(key: str) -> Platform:
    try:
        return PLATFORMS[key]
    except KeyError:
        raise ValidationError(
            "platform", f"unknown platform {key!r} (use {', '.join(PLATFORMS)})"
        ) from None


def home_url(platform: str, settings: Settings) -> str:
    """The platform's home: `<platform_base>/<platform>` when a base is set, else its setting."""
    base = settings.platform_base()
    if base:
        return f"{base}/{platform}"
    return settings.get(get_platform(platform).home_setting).rstrip("/")


def platform_of_url(url: object) -> str | None:
    """The platform whose public host the address is on ("youtube" for youtu.be/…), else None."""
    if not isinstance(url, str):
        return None
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return None
    return next((key for key, info in PLATFORMS.items() if host in info.hosts), None)


def check_video_url(platform: str, url: str, settings: Settings) -> str:
    """Refuse anything but an http(s) URL on the platform's hosts (or under its sandbox base)."""
    info = get_platform(platform)
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("video_url", "is empty")
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError("video_url", "contains spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("video_url", "must be an http(s) URL")
    home = home_url(platform, settings)
    custom_home = settings.platform_base() or home != str(settings.spec(info.home_setting).default)
    if custom_home and url.startswith(home + "/"):
        rest = urlsplit("http://h" + url[len(home) :])
        _check_form(info, rest.path, rest.query, url, sandbox=True)
        return url
    if parts.scheme == "https" and parts.hostname.lower() in info.hosts:
        _check_form(info, parts.path, parts.query, url, sandbox=False)
        return url
    other = platform_of_url(url)
    if other is not None and other != info.key:
        label = PLATFORMS[other].label
        raise ValidationError("video_url", f"is a {label} address, not a {info.label} one")
    raise ValidationError("video_url", f"is not a {info.label} address ({', '.join(info.hosts)})")


# The shapes of a video's address on each platform (the path after the host, or after the
# sandbox's `<base>/<platform>`), and an example for the message when an address has none.
_ID = r"[\w-]+"
VIDEO_FORMS: dict[str, tuple[tuple[re.Pattern[str], ...], str]] = {
    "youtube": (
        (
            re.compile(rf"^/(?:shorts|live|embed)/{_ID}/?$"),
            re.compile(rf"^/{_ID}/?$"),  # youtu.be/ID (checked against the host below)
        ),
        "https://www.youtube.com/watch?v=VIDEO_ID",
    ),
    "vimeo": (
        (
            re.compile(
                r"^/(?:video/|channels/[\w-]+/|groups/[\w-]+/videos/|showcase/\d+/video/)?"
                r"\d+(?:/[0-9a-f]+)?/?$"
            ),
        ),
        "https://vimeo.com/123456789",
    ),
    "air": (
        (
            re.compile(rf"^/(?:{_ID}/)?c/{_ID}/?$"),
            re.compile(rf"^/a/{_ID}/assets/{_ID}/?$"),
        ),
        "https://app.air.inc/WORKSPACE/c/ASSET_ID",
    ),
}
_SANDBOX_VIMEO = re.compile(rf"^/{_ID}/?$")


def _check_form(info: Platform, path: str, query: str, url: str, *, sandbox: bool) -> None:
    """Refuse an address on the right host that is not a video's address (a typo, two
    addresses pasted into one)."""
    if "://" in url.split("://", 1)[1]:
        raise ValidationError("video_url", "holds two addresses; paste only the video's address")
    forms, example = VIDEO_FORMS[info.key]
    ok = False
    if info.key == "youtube":
        video = dict(parse_qsl(query)).get("v", "")
        if path.rstrip("/") == "/watch":
            ok = bool(re.fullmatch(_ID, video))
        elif not sandbox:
            host = (urlsplit(url).hostname or "").lower()
            short = forms[1].match(path) is not None and host == "youtu.be"
            ok = short or forms[0].match(path) is not None
    elif info.key == "vimeo" and sandbox:
        ok = _SANDBOX_VIMEO.match(path) is not None
    else:
        ok = any(form.match(path) for form in forms)
    if not ok:
        raise ValidationError(
            "video_url", f"is not the address of a {info.label} video (like {example})"
        )


def video_url_at(platform: str, url: str, seconds: float) -> str:
    """The video's address opening at `seconds`, with the platform's own time parameter:
    YouTube `t=83s` in the query, Vimeo and Air `#t=83s` (the sandbox honours both)."""
    get_platform(platform)
    whole = max(0, int(seconds))
    parts = urlsplit(url)
    if platform == "youtube":
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "t"]
        query.append(("t", f"{whole}s"))
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(fragment=f"t={whole}s"))
