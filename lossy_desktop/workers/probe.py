"""The probe, run on a platform's own connection: one browser session on its stored login
(Browserbase context or local profile), the video page loaded and read, nothing posted.

    report = probe_video(services, engine, "youtube", url)      # a ProbeReport
    report.ok, report.public()

The connection's status is left as it is (the probe only looks); its browser time is recorded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lossy_desktop.core.platforms import check_video_url
from lossy_desktop.workers.locks import connection_lock

if TYPE_CHECKING:
    from playwright.async_api import Playwright

    from lossy_desktop.automation.agents import Timeouts
    from lossy_desktop.automation.agents.probe import ProbeReport
    from lossy_desktop.automation.agents.table_file import SelectorTable
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.core.billing import UsageRecord
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.workers")

PROBE_TIMEOUT_S = 300.0


def selector_table(services: Services, platform: str) -> SelectorTable:
    """The selector table in force for a platform (the user's override, or the shipped one)."""
    from lossy_desktop.automation.agents.table_file import load_table

    return load_table(platform, services.data.selectors)


def probe_video(
    services: Services,
    engine: AutomationEngine,
    platform: str,
    video_url: str,
    *,
    timeouts: Timeouts | None = None,
) -> ProbeReport:
    """Probe `video_url` with the platform's connection (NotFoundError when there is none,
    ValidationError for an address that is not the platform's)."""
    url = check_video_url(platform, video_url, services.settings)
    connection = services.connections.require(platform)
    table = selector_table(services, platform)
    with connection_lock(platform):
        return engine.run(
            lambda pw: _probe(services, pw, connection, url, table, timeouts),
            timeout=PROBE_TIMEOUT_S,
        )


async def _probe(
    services: Services,
    playwright: Playwright,
    connection: ConnectionView,
    video_url: str,
    table: SelectorTable,
    timeouts: Timeouts | None,
) -> ProbeReport:
    from lossy_desktop.automation.agents import agent_for
    from lossy_desktop.automation.agents.probe import probe_page
    from lossy_desktop.automation.providers import provider_for, session_scope

    def record(usage: UsageRecord) -> None:
        services.usage.record(usage)

    provider = provider_for(connection, services.settings, services.data)
    agent = agent_for(connection.platform, timeouts, selectors=table.selectors)
    async with session_scope(
        provider, playwright, connection, purpose="verify", on_usage=record
    ) as session:
        return await probe_page(
            agent, session.page, video_url, table=table, artifacts_dir=services.data.artifacts
        )
