"""The sandbox describes each of the app's platforms once: one module in sandbox/platforms/
holding one `SandboxPlatform`, one row in its table, and the app's own limits (core/platforms.py).
(That the sandbox enforces those limits: test_sandbox.py, test_comment_limit_is_the_apps.)"""

from __future__ import annotations

import importlib
import pkgutil

from lossy_desktop.core.platforms import PLATFORMS as CORE_PLATFORMS
from lossy_desktop.sandbox import platforms
from lossy_desktop.sandbox.platforms.base import SandboxPlatform


def _descriptions() -> dict[str, list[SandboxPlatform]]:
    """Every SandboxPlatform defined in the package's modules, by the module defining it."""
    found: dict[str, list[SandboxPlatform]] = {}
    for info in pkgutil.iter_modules(platforms.__path__):
        module = importlib.import_module(f"{platforms.__name__}.{info.name}")
        defined = {id(v): v for v in vars(module).values() if isinstance(v, SandboxPlatform)}
        if defined:
            found[info.name] = list(defined.values())
    return found


def test_every_core_platform_has_exactly_one_sandbox_description() -> None:
    described = _descriptions()
    keys = [p.key for ps in described.values() for p in ps]
    assert sorted(keys) == sorted(CORE_PLATFORMS), "one description per platform of core's list"
    for module, found in described.items():
        assert [p.key for p in found] == [module], f"{module}.py describes its own platform only"
    assert list(platforms.PLATFORMS) == list(CORE_PLATFORMS)
    for key, platform in platforms.PLATFORMS.items():
        assert platform.key == key
        assert described[key] == [platform], "the table's row is the module's description"


def test_each_description_has_core_limits() -> None:
    for key, core in CORE_PLATFORMS.items():
        assert platforms.PLATFORMS[key].comment_limit == core.comment_limit
        assert platforms.PLATFORMS[key].core is core


def test_each_platform_has_its_own_paths_and_cookie() -> None:
    described = list(platforms.PLATFORMS.values())
    for field in ("cookie_name", "login_path", "logout_path"):
        values = [getattr(p, field) for p in described]
        assert len(set(values)) == len(values), field
    for p in described:
        assert p.login_path.startswith(p.home_path + "/")
        assert p.logout_path.startswith(p.home_path + "/")
        assert set(p.messages) >= {
            "rate_limited",
            "not_logged_in",
            "session_expired",
            "comments_disabled",
            "server_error",
            "text_too_long",
            "empty",
            "invalid_video",
        }
