"""The sandbox's fake platforms, one module each, and the table of them.

Adding a platform: a module here with its `SandboxPlatform` (see base.py; the key must be one
of `lossy_desktop.core.platforms.PLATFORMS`, whose limits it uses) and a row below.
"""

from __future__ import annotations

from lossy_desktop.sandbox.model import SandboxError
from lossy_desktop.sandbox.platforms import air, vimeo, youtube
from lossy_desktop.sandbox.platforms.base import SandboxPlatform

PLATFORMS: dict[str, SandboxPlatform] = {
    p.key: p
    for p in (
        youtube.PLATFORM,
        vimeo.PLATFORM,
        air.PLATFORM,
    )
}


def get_platform(key: str) -> SandboxPlatform:
    """The platform's description; SandboxError for an unknown key."""
    found = PLATFORMS.get(key)
    if found is None:
        raise SandboxError(f"unknown platform {key!r} (use {', '.join(PLATFORMS)})")
    return found
