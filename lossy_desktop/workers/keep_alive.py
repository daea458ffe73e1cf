"""keep_alive (cron, 03:00 by default), the daily maintenance job: first delete failure
artefacts (full-page screenshots of logged-in pages) older than `artifact_retention_days`, then
visit each connection nobody has used for a while.

For each active connection unused for `keepalive_idle_days` or more: open a browser session on
its login (Browserbase context or local profile), visit the platform's home, check the login
(the visit refreshes the cookies saved into the context/profile), release. Still logged in →
`last_used_at` and `verified_at` move on; logged out → the connection is marked logged_out and
the app tells the user (it listens to connection changes).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lossy_desktop.automation.errors import AutomationError, classify
from lossy_desktop.core.platforms import home_url
from lossy_desktop.queue.results import Error, Ok, Result
from lossy_desktop.workers.locks import connection_lock

if TYPE_CHECKING:
    from playwright.async_api import Playwright

    from lossy_desktop.automation.agents import LoginState
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.core.usage import UsageRecord
    from lossy_desktop.queue.jobs import JobRecord
    from lossy_desktop.queue.runner import JobContext
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.workers")

WORKER_NAME = "keep_alive"
VISIT_TIMEOUT_S = 180.0


class KeepAliveWorker:
    name = WORKER_NAME
    queue = "maintenance"
    group_limit = 1

    def __init__(self, services: Services, engine: AutomationEngine) -> None:
        self.services = services
        self.engine = engine

    def perform(self, jobs: list[JobRecord], ctx: JobContext) -> dict[int, Result]:
        for job in jobs:
            ctx.step(job.id, "pruning old failure screenshots")
        try:
            self.services.notes.prune_artifacts(self.services.data.artifacts)
        except Exception as exc:  # never let housekeeping stop the keep-alive visits
            log.warning("pruning failure artefacts failed: %s", exc)
        days = self.services.settings.get("keepalive_idle_days")
        idle = self.services.connections.idle_since(days)
        failures: list[str] = []
        for connection in idle:
            for job in jobs:
                ctx.step(job.id, f"visiting {connection.platform}")
            try:
                state = self.visit(connection)
            except Exception as exc:
                error = exc if isinstance(exc, AutomationError) else classify(exc)
                log.warning("keep-alive of %s failed: %s", connection.platform, error)
                if error.holds and error.connection_status == "expired":
                    self.services.connections.mark_expired(connection.platform, error.message)
                else:
                    failures.append(f"{connection.platform}: {error.message}")
                continue
            if state.logged_in:
                self.services.connections.mark_active(
                    connection.platform, account_name=state.account
                )
                self.services.connections.mark_used(connection.platform)
                log.info("keep-alive: %s still logged in", connection.platform)
            else:
                self.services.connections.mark_logged_out(
                    connection.platform, "logged out (found by the daily keep-alive)"
                )
                log.warning("keep-alive: %s is logged out", connection.platform)
        log.info("keep-alive visited %d connection(s), %d failed", len(idle), len(failures))
        result: Result = Error("; ".join(failures), kind="network_error") if failures else Ok()
        return {job.id: result for job in jobs}

    def visit(self, connection: ConnectionView) -> LoginState:
        with connection_lock(connection.platform):
            return self.engine.run(lambda pw: self._visit(pw, connection), timeout=VISIT_TIMEOUT_S)

    async def _visit(self, playwright: Playwright, connection: ConnectionView) -> LoginState:
        from lossy_desktop.automation.agents import agent_for
        from lossy_desktop.automation.providers import provider_for, session_scope

        provider = provider_for(connection, self.services.settings, self.services.data)
        async with session_scope(
            provider,
            playwright,
            connection,
            purpose="keepalive",
            on_usage=self._record_usage,
        ) as session:
            await session.page.goto(home_url(connection.platform, self.services.settings))
            agent = agent_for(connection.platform, selectors_dir=self.services.data.selectors)
            return await agent.check_visit(session.page)

    def _record_usage(self, usage: UsageRecord) -> None:
        self.services.usage.record(usage)
