"""Workers: what the queue runs. `build_runner` wires them, with the keep-alive cron entry.

engine = AutomationEngine()
runner = build_runner(services, engine)        # the app passes submit= (a QThreadPool)
runner.start()  ...  runner.stop(); engine.close()
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lossy_desktop.automation.agents import Timeouts
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.queue.runner import Runner, Submit, Worker
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.workers")

KEEPALIVE_CRON = "keep_alive"


def build_workers(
    services: Services, engine: AutomationEngine, *, timeouts: Timeouts | None = None
) -> list[Worker]:
    """The workers; `timeouts`: how long posting waits on a page (None: the agents' defaults;
    tests whose point is a page that never shows an element set it short)."""
    # Imported here: they pull in Playwright, which commands that only read notes don't need.
    from lossy_desktop.workers.keep_alive import KeepAliveWorker
    from lossy_desktop.workers.post_note import PostNoteWorker
    from lossy_desktop.workers.retract import RetractCommentWorker

    return [
        PostNoteWorker(services, engine, timeouts=timeouts),
        RetractCommentWorker(services, engine),
        KeepAliveWorker(services, engine),
    ]


def build_runner(
    services: Services,
    engine: AutomationEngine,
    *,
    submit: Submit | None = None,
    timeouts: Timeouts | None = None,
) -> Runner:
    """The runner with every worker and the keep-alive cron, after start-up recovery."""
    from lossy_desktop.queue.cron import CronEntry, CronSchedule
    from lossy_desktop.queue.runner import Runner
    from lossy_desktop.workers.keep_alive import KeepAliveWorker

    recover_interrupted(services)
    cron = CronSchedule(
        services.queue,
        services.settings,
        [CronEntry(KEEPALIVE_CRON, "keepalive_cron", KeepAliveWorker.name, queue="maintenance")],
        clock=services.clock,
    )
    return Runner(
        services.queue,
        build_workers(services, engine, timeouts=timeouts),
        services.settings,
        submit=submit,
        clock=services.clock,
        cron=cron,
        rescue_orphans=False,
    )


def recover_interrupted(services: Services) -> int:
    """Start-up after a crash: orphaned jobs go back to the queue, and notes left `posting`
    follow their job — queued again when it will run again, failed when it gave up.

    Only call while no runner works on this database (the app is its only process)."""
    # A killed app is not the job's failure: the cut-off attempt is given back.
    rescued = services.queue.rescue_orphans(refund_attempts=True)
    stopped = stop_orphaned_browsers(services)
    stopped += release_orphaned_browserbase_sessions(services)
    from lossy_desktop.queue.states import WAITING_STATES
    from lossy_desktop.workers.scheduling import note_key

    fixed = 0
    for view in services.notes.list(status="posting"):
        jobs = services.queue.jobs_for(note_key(view.id))
        waiting = [j for j in jobs if j.state in WAITING_STATES]
        if waiting:
            services.notes.mark_retrying(
                view.id,
                kind="script_failed",
                message="Interrupted (the app closed while posting) — will try again",
                next_attempt_at=min(j.scheduled_at for j in waiting),
            )
        else:
            services.notes.mark_failed(
                view.id,
                kind="script_failed",
                message="Interrupted (the app closed while posting) and out of attempts — retry it",
            )
        fixed += 1
    from lossy_desktop.workers.retract import recover_retracts

    fixed += recover_retracts(services)
    if rescued or fixed or stopped:
        log.info(
            "start-up recovery: %d orphaned job(s), %d interrupted note(s), %d orphaned browser(s)",
            rescued,
            fixed,
            stopped,
        )
    return fixed


def release_orphaned_browserbase_sessions(services: Services, timeout_s: float = 60.0) -> int:
    """Browserbase sessions this install created and never released (a crash; a create that
    timed out after the server made it) bill until their timeout: find them by their
    userMetadata and release them. A detached login still in use stays. Only when a connection
    uses Browserbase. Blocks (network): call off the GUI thread."""
    import asyncio

    connections = [c for c in services.connections.list() if c.provider == "browserbase"]
    if not connections:
        return 0
    from lossy_desktop.automation.errors import AutomationError
    from lossy_desktop.automation.providers import provider_for
    from lossy_desktop.automation.providers.browserbase import BrowserbaseProvider

    provider = provider_for("browserbase", services.settings, services.data, clock=services.clock)
    assert isinstance(provider, BrowserbaseProvider)
    keep = {c.browserbase_session_id for c in connections if c.browserbase_session_id}
    try:
        released = asyncio.run(asyncio.wait_for(provider.release_orphans(keep), timeout_s))
    except (AutomationError, TimeoutError, RuntimeError) as error:
        log.warning("could not look for orphaned Browserbase sessions: %s", error)
        return 0
    return len(released)


def stop_orphaned_browsers(services: Services) -> int:
    """Browsers a killed app process left running on the local profiles are stopped, so they
    do not hold the profile (or run on) after it; a detached login browser stays."""
    from pathlib import Path

    from lossy_desktop.automation.providers.local import stop_orphaned_browsers as stop

    profiles: set[Path] = set()
    if services.data.profiles.is_dir():
        profiles.update(p for p in services.data.profiles.iterdir() if p.is_dir())
    for connection in services.connections.list():
        if connection.local_profile_path:
            profiles.add(Path(connection.local_profile_path))
    try:
        return stop(sorted(profiles))
    except Exception:  # never let a cleanup stop the app from starting
        log.exception("stopping orphaned browsers failed")
        return 0
