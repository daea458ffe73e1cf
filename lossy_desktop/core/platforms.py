"""The three platforms: their hosts, comment limits and home URLs (or the sandbox's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lossy_desktop.core.errors import ValidationError

if TYPE_CHECKING:
    from lossy_desktop.core.settings import Settings


@dataclass(frozen=True)
class Platform:
    key: str
    label: str
    hosts: tuple[str, ...]
    comment_limit: int
    home_setting: str


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
    return str(settings.get(get_platform(platform).home_setting)).rstrip("/")


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
        return url
    if parts.scheme == "https" and parts.hostname.lower() in info.hosts:
        return url
    raise ValidationError("video_url", f"is not a {info.label} address ({', '.join(info.hosts)})")
