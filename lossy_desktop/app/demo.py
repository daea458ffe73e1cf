"""The demo: the app wired to the offline sandbox, with sample notes and logged-in connections.

`prepare_demo(services, sandbox, engine)` points the platforms at the sandbox, logs a
local-Chromium connection in to each sandbox platform (a real Chromium on the connection's own
profile gets the sandbox's login cookie, exactly as if the user had logged in), and adds sample
notes: the confident ones are queued and post themselves as soon as the app runs; the others
stay ghosts until "Post now"; one video has its comments turned off, so a failure shows too.
No account, no internet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lossy_desktop.core.platforms import PLATFORMS

if TYPE_CHECKING:
    from lossy_desktop.automation.agents.base import LoginState
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.sandbox.server import SandboxServer
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.app")

DEMO_ACCOUNT = "Demo Reviewer"
# Each page load of the sandbox waits this long, so posting is slow enough to watch.
DEMO_PAGE_DELAY_S = 1.5

# (platform, video id, title, second, text, category, confidence)
SAMPLE_NOTES: tuple[tuple[str, str, str, float, str, str, float], ...] = (
    (
        "youtube",
        "demoTrailer1",
        "Launch trailer v3",
        4,
        "Logo sting is 2 frames late",
        "edit",
        0.93,
    ),
    (
        "youtube",
        "demoTrailer1",
        "Launch trailer v3",
        27,
        "Music dips too early here",
        "audio",
        0.88,
    ),
    ("youtube", "demoTrailer1", "Launch trailer v3", 61, "Typo in the lower third", "text", 0.97),
    (
        "youtube",
        "demoTrailer1",
        "Launch trailer v3",
        95,
        "Maybe hold this shot longer?",
        "edit",
        0.42,
    ),
    ("vimeo", "20240611", "Interview cut — Dana", 12, "Jump cut feels abrupt", "edit", 0.81),
    (
        "vimeo",
        "20240611",
        "Interview cut — Dana",
        143,
        "Room tone missing under B-roll",
        "audio",
        0.9,
    ),
    (
        "vimeo",
        "20240611",
        "Interview cut — Dana",
        305,
        "Could we try a warmer grade?",
        "color",
        0.35,
    ),
    (
        "air",
        "brand-film",
        "Brand film — final",
        8,
        "Client asked for the new tagline",
        "text",
        0.95,
    ),
    (
        "air",
        "brand-film",
        "Brand film — final",
        52,
        "Color shift between these shots",
        "color",
        0.76,
    ),
    ("air", "locked-cut", "Locked cut (comments off)", 30, "Fix the flash frame", "edit", 0.99),
)
COMMENTS_OFF = ("air", "locked-cut")


@dataclass
class DemoInfo:
    base_url: str
    notes: int
    queued: int
    accounts: dict[str, str] = field(default_factory=dict)


def demo_environment(sandbox: SandboxServer) -> dict[str, str]:
    """The environment that points the demo's Browserbase connections at the sandbox's fake
    API, with the key of this run of the sandbox (random, different every run)."""
    return {
        "BROWSERBASE_BASE_URL": sandbox.base_url,
        "BROWSERBASE_API_KEY": sandbox.browserbase_api_key,
    }


# What prepare_demo reports as it goes: (what it is doing, steps done, steps in all).
Progress = Callable[[str, int, int], None]
PREPARE_STEPS = 4  # a login per platform, then the sample notes


def prepare_demo(
    services: Services,
    sandbox: SandboxServer,
    engine: AutomationEngine,
    progress: Progress | None = None,
) -> DemoInfo:
    """Blocking (starts a Chromium per platform for a moment): call from a worker thread (the
    window shows "Preparing the sandbox…" meanwhile, fed by `progress`) or before it shows."""
    report = progress or (lambda _text, _done, _total: None)
    settings = services.settings
    settings.set("platform_base", sandbox.base_url)
    settings.set("provider", "local")
    settings.set("intake_port", 0)  # never clash with a real Lossy Desktop's intake
    for platform in ("youtube", "vimeo", "air"):
        sandbox.set_fault(platform, "slow_page", delay=DEMO_PAGE_DELAY_S, on="page")
    for platform, video, title, *_rest in SAMPLE_NOTES:
        sandbox.set_video(platform, video, title=title, duration=600)
    sandbox.set_video(*COMMENTS_OFF, comments_enabled=False)

    info = DemoInfo(base_url=sandbox.base_url, notes=0, queued=0)
    for done, platform in enumerate(("youtube", "vimeo", "air")):
        label = PLATFORMS[platform].label
        report(f"Logging the demo account in to {label}…", done, PREPARE_STEPS)
        _log_in(services, sandbox, engine, platform)
        info.accounts[platform] = DEMO_ACCOUNT
    report("Adding the sample notes…", PREPARE_STEPS - 1, PREPARE_STEPS)

    from lossy_desktop.core.notes import validate_note

    inputs = [
        validate_note(
            {
                "platform": platform,
                "video_url": sandbox.video_url(platform, video),
                "video_title": title,
                "video_duration": 600,
                "timestamp_seconds": second,
                "text": text,
                "category": category,
                "confidence": confidence,
            },
            settings,
        )
        for platform, video, title, second, text, category, confidence in SAMPLE_NOTES
    ]
    views = services.notes.create_many(inputs)
    info.notes = len(views)
    info.queued = sum(1 for view in views if view.queued)
    report("Ready", PREPARE_STEPS, PREPARE_STEPS)
    log.info("demo ready: %d notes (%d queued) on %s", info.notes, info.queued, info.base_url)
    return info


def _log_in(
    services: Services, sandbox: SandboxServer, engine: AutomationEngine, platform: str
) -> None:
    """Give the connection's own Chromium profile the sandbox's login cookie, then check the
    login the way the app always does (the platform agent reads the page)."""
    from lossy_desktop.automation.agents import agent_for
    from lossy_desktop.automation.providers import provider_for
    from lossy_desktop.core.platforms import home_url

    connection = services.connections.ensure(platform, "local")
    provider = provider_for(connection, services.settings, services.data, clock=services.clock)
    # Playwright's cookie fields, as the sandbox's plain dict (add_cookies wants its TypedDict)
    cookie: Any = sandbox.login_cookie(platform, DEMO_ACCOUNT)

    # (Any: the app never imports Playwright, not even for its types)
    async def login(playwright: Any) -> tuple[dict[str, Any], LoginState]:
        fields = await provider.prepare(connection)
        session = await provider.open(playwright, connection, purpose="login", headless=True)
        try:
            await session.context.add_cookies([cookie])
            await session.page.goto(home_url(platform, services.settings))
            return fields, await agent_for(platform).check_login(session.page)
        finally:
            usage = await provider.close(session)
            services.usage.record(usage)

    fields, state = engine.run(login, timeout=120)
    if fields:
        services.connections.update(platform, **fields)
    if not state.logged_in:
        raise RuntimeError(f"the demo could not log in to the {platform} sandbox")
    services.connections.mark_active(platform, account_name=state.account)
