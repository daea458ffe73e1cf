"""`lossy-desktop connections add PLATFORM [--provider local|browserbase] | verify PLATFORM |
list [--json] | remove PLATFORM`.

A command-line process can't keep a browser open while the user logs in, so `add` starts a
login browser that outlives it and returns at once (the connection is awaiting_auth):

- local: an ordinary browser window on the connection's profile folder, started detached (no
  debugging port, no automation switch). Without a display no window can open: `add` says how
  to log in and returns with the connection awaiting_auth. `verify` checks the login headless,
  driving the browser through a pipe: on a copy of what the window has saved while it is still
  open (then closes it), else on the profile.
- browserbase: a login session with keepAlive (so it survives this process disconnecting),
  its id kept on the connection; `verify` releases it (its cookies persist into the context)
  and checks the login in a fresh session. On a plan without keepAlive (Free) a disconnect
  would end the session, so `add` stays connected instead, notices the login by itself (within
  the plan's session limit), saves it and makes the connection active.

Browserbase's live-view URL controls the logged-in browser: it is printed only when asked
(`--show-live-view-url`), with a warning; never logged or stored.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from lossy_desktop.cli import print_json
from lossy_desktop.core.clock import to_datetime
from lossy_desktop.core.platforms import PLATFORMS, get_platform, home_url

if TYPE_CHECKING:
    from playwright.async_api import Playwright

    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.automation.providers import BrowserSession, Provider
    from lossy_desktop.core.connections import ConnectionView
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.cli")

STEP_TIMEOUT_S = 180.0
LOGIN_POLL_S = 2.0  # how often an attached (Free plan) login is checked


def register(sub: Any, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser("connections", help="connect YouTube, Vimeo and Air (log in once)")
    s = p.add_subparsers(dest="connections_command", metavar="ACTION", required=True)

    add = s.add_parser(
        "add",
        help="start a login browser for a platform and print its live view",
        description="Start a browser on the platform's site for you to log in, print its live "
        "view URL and return; then run `connections verify PLATFORM`.",
    )
    add.add_argument("platform", choices=list(PLATFORMS))
    add.add_argument(
        "--provider",
        choices=("local", "browserbase"),
        help="where the browser runs (default: the provider setting)",
    )
    add.add_argument(
        "--show-live-view-url",
        action="store_true",
        help="print Browserbase's live-view URL (it controls the logged-in browser: anyone "
        "who has it can use your account; keep it private)",
    )
    add.set_defaults(handler=_explained(_add))

    verify = s.add_parser("verify", help="check the login and make the connection active")
    verify.add_argument("platform", choices=list(PLATFORMS))
    verify.set_defaults(handler=_explained(_verify))

    lst = s.add_parser("list", help="every connection with its status")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_list)

    remove = s.add_parser("remove", help="forget a connection and its stored login")
    remove.add_argument("platform", choices=list(PLATFORMS))
    remove.set_defaults(handler=_explained(_remove))


def _explained(handler: Any) -> Any:
    """Browser failures are told like other user-fixable errors: one line, exit code 1."""

    def run(args: argparse.Namespace, services: Services) -> int:
        from lossy_desktop.automation.errors import AutomationError

        try:
            return int(handler(args, services))
        except AutomationError as error:
            label = get_platform(args.platform).label
            print(f"lossy-desktop: {label}: {error.message}", file=sys.stderr)
            return 1

    return run


def _engine() -> AutomationEngine:
    from lossy_desktop.automation.engine import AutomationEngine

    return AutomationEngine()


def _provider(services: Services, connection: ConnectionView) -> Provider:
    from lossy_desktop.automation.providers import provider_for

    return provider_for(connection, services.settings, services.data, clock=services.clock)


def _record(services: Services, usage: Any) -> None:
    from lossy_desktop.workers.connect import record_usage

    record_usage(services, usage)


# ------------------------------------------------------------------------------------- add


def _add(args: argparse.Namespace, services: Services) -> int:
    from lossy_desktop.automation.chromium import has_display
    from lossy_desktop.automation.errors import AutomationError

    platform = args.platform
    label = get_platform(platform).label
    provider_name = args.provider or services.settings.get("provider")
    connections = services.connections
    connection = connections.ensure(platform, provider_name)
    provider = _provider(services, connection)
    headless = not has_display()
    if provider_name == "local":
        return _add_local(services, provider, connection)
    with _engine() as engine:
        # A login browser from an earlier `add` is replaced, not doubled.
        _record(services, engine.run(lambda _pw: provider.release_login(connection), 60))
        if connection.browserbase_session_id:
            connection = connections.update(platform, browserbase_session_id=None)
        fields = engine.run(lambda _pw: provider.prepare(connection), STEP_TIMEOUT_S)
        if fields:
            connection = connections.update(platform, **fields)
        if connection.status == "active":
            connection = connections.set_status(platform, "awaiting_auth")
        start_at = home_url(platform, services.settings)
        ready = connection

        async def start(playwright: Playwright) -> tuple[str | None, BrowserSession]:
            session = await provider.open(
                playwright, ready, purpose="login", headless=headless, detached=True
            )
            try:
                await session.page.goto(start_at)
                url = await provider.refresh_live_view(session)
            except BaseException:
                _record(services, await provider.close(session))
                raise
            if session.detached:
                await provider.detach(session)
            return url, session

        try:
            live_view, session = engine.run(start, STEP_TIMEOUT_S)
        except AutomationError as error:
            _record(services, error.usage)  # a session created, then failed: billed all the same
            raise
        is_bb = provider_name == "browserbase"
        if is_bb and session.detached and session.session_id:
            connections.update(platform, browserbase_session_id=session.session_id)
        where = "a browser window" if not headless and provider_name == "local" else "the live view"
        print(f"{label}: a login browser is open on {start_at} ({provider_name}).")
        if live_view and not is_bb:
            print(f"Live view (keep it private; it controls the browser):\n  {live_view}")
        elif live_view and args.show_live_view_url:
            print(
                "Live view — WARNING: this URL controls the logged-in browser; anyone who has "
                f"it can use your {label} account. Keep it private:\n  {live_view}"
            )
        elif live_view:
            print(
                "Open the live view with --show-live-view-url (it controls the logged-in "
                "browser, so it is not printed unless asked), or log in from the app."
            )
        if session.detached or not is_bb:
            print(
                f"Log in to {label} in {where}, then run:\n  "
                f"lossy-desktop connections verify {platform}"
            )
            return 0
        return _wait_for_login(services, engine, provider, session, label, platform)


def _wait_for_login(
    services: Services,
    engine: AutomationEngine,
    provider: Provider,
    session: BrowserSession,
    label: str,
    platform: str,
) -> int:
    """A Browserbase plan without keepAlive (Free): stay connected while the user logs in in the
    live view, check the login every few seconds, then release (the context saves it)."""
    from lossy_desktop.automation.agents import agent_for
    from lossy_desktop.automation.providers.browserbase import BrowserbaseProvider

    limit = (
        provider.plan_limit_text()
        if isinstance(provider, BrowserbaseProvider)
        else "the plan's session limit"
    )
    budget = provider.session_timeout("login") if isinstance(provider, BrowserbaseProvider) else 900
    print(
        f"Your Browserbase plan has no keepAlive, so this command keeps the login browser "
        f"open: log in to {label} in the live view within {budget // 60} minutes ({limit}). "
        "It notices the login by itself (Ctrl+C gives up)."
    )
    agent = agent_for(platform)

    async def wait(_pw: Playwright) -> Any:
        deadline = asyncio.get_running_loop().time() + budget - 15
        state = None
        try:
            while asyncio.get_running_loop().time() < deadline and not session.disconnected:
                try:
                    state = await agent.check_login(session.page)
                except Exception as error:  # mid-navigation: look again
                    log.debug("login check: %s", type(error).__name__)
                    state = None
                if state is not None and state.logged_in:
                    break
                await asyncio.sleep(LOGIN_POLL_S)
        finally:
            _record(services, await provider.close(session))
        return state

    state = engine.run(wait, budget + 120)
    if state is not None and state.logged_in:
        services.connections.mark_active(platform, account_name=state.account)
        account = f" as {state.account}" if state.account else ""
        print(f"{label}: active — logged in{account}.")
        return 0
    print(
        f"{label}: not logged in before the login browser closed ({limit}). Run "
        f"`lossy-desktop connections add {platform}` again."
    )
    return 1


def _add_local(services: Services, provider: Provider, connection: ConnectionView) -> int:
    """An ordinary browser window on the profile, left open for the user; or, without a display,
    how to log in."""
    from lossy_desktop.automation.chromium import has_display
    from lossy_desktop.automation.providers.local import LocalProvider

    assert isinstance(provider, LocalProvider)
    platform = connection.platform
    label = get_platform(platform).label
    connections = services.connections
    with _engine() as engine:
        # A login window from an earlier `add` is replaced, not doubled.
        engine.run(lambda _pw: provider.release_login(connection), 60)
        fields = engine.run(lambda _pw: provider.prepare(connection), STEP_TIMEOUT_S)
    if fields:
        connection = connections.update(platform, **fields)
    if connection.status != "awaiting_auth":
        connection = connections.set_status(platform, "awaiting_auth")
    start_at = home_url(platform, services.settings)
    if not has_display():
        print(
            f"{label}: waiting for a login (local browser). There is no display here, so no "
            "browser window can open.\n"
            "To log in: run this same command in a desktop session (where DISPLAY or "
            "WAYLAND_DISPLAY is set), log in in the window it opens and close it, then run:\n"
            f"  lossy-desktop connections verify {platform}\n"
            f"(Or use a cloud browser: lossy-desktop connections add {platform} "
            "--provider browserbase)"
        )
        return 0
    provider.open_login_window(connection, start_at, detached=True)
    print(f"{label}: a browser window is open on {start_at} (local browser).")
    print(
        f"Log in to {label} there and close the window, then run:\n"
        f"  lossy-desktop connections verify {platform}"
    )
    return 0


# ---------------------------------------------------------------------------------- verify


def _verify(args: argparse.Namespace, services: Services) -> int:
    from lossy_desktop.workers.connect import check_saved_login, verify_connection

    platform = args.platform
    label = get_platform(platform).label
    connections = services.connections
    connection = connections.require(platform)
    provider = _provider(services, connection)
    with _engine() as engine:
        if provider.name == "browserbase" and connection.browserbase_session_id:
            # End the login session first: its cookies persist into the context.
            usage = engine.run(lambda _pw: provider.release_login(connection), 60)
            _record(services, usage)
            connections.update(platform, browserbase_session_id=None)
        window = _login_window(provider, connection)
        if window is not None:
            # The login window is still open: check what it has saved so far; close it only
            # once the login is there (closing it from here would lose unsaved cookies).
            state = check_saved_login(services, engine, platform)
            if not state.logged_in:
                print(
                    f"{label}: not logged in yet. Finish logging in in the browser window and "
                    f"close it, then run `lossy-desktop connections verify {platform}` again."
                )
                return 1
            engine.run(lambda _pw: provider.release_login(connection), 60)
        state = verify_connection(services, engine, platform)
    if state.logged_in:
        account = f" as {state.account}" if state.account else ""
        print(f"{label}: active — logged in{account}.")
        return 0
    print(
        f"{label}: not logged in. Run `lossy-desktop connections add {platform}` and log in "
        "in the browser it opens."
    )
    return 1


def _login_window(provider: Provider, connection: ConnectionView) -> Any:
    """The local login window still open on the connection's profile, else None."""
    from lossy_desktop.automation.providers.local import LocalProvider

    if not isinstance(provider, LocalProvider):
        return None
    window = provider.login_window(connection)
    return window if window is not None and window.alive else None


# ------------------------------------------------------------------------------------ list


def _when(ts: float | None) -> str:
    moment = to_datetime(ts)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


def _list(args: argparse.Namespace, services: Services) -> int:
    rows = services.connections.list()
    if args.json:
        print_json(
            [
                {
                    "platform": c.platform,
                    "provider": c.provider,
                    "status": c.status,
                    "account": c.account_name,
                    "last_used_at": c.last_used_at,
                    "verified_at": c.verified_at,
                    "error": c.error,
                    "browserbase_context_id": c.browserbase_context_id,
                    "local_profile_path": c.local_profile_path,
                }
                for c in rows
            ]
        )
        return 0
    if not rows:
        print("No connections. Add one: lossy-desktop connections add youtube")
        return 0
    print(f"{'platform':<9} {'provider':<12} {'status':<14} {'account':<24} {'verified':<17} used")
    for c in rows:
        print(
            f"{c.platform:<9} {c.provider:<12} {c.status:<14} {(c.account_name or '-'):<24} "
            f"{_when(c.verified_at):<17} {_when(c.last_used_at)}"
        )
        if c.error and c.status != "active":
            print(f"          {c.error}")
    return 0


# ---------------------------------------------------------------------------------- remove


def _remove(args: argparse.Namespace, services: Services) -> int:
    from lossy_desktop.workers.connect import remove_connection

    platform = args.platform
    label = get_platform(platform).label
    services.connections.require(platform)
    with _engine() as engine:
        problem = remove_connection(services, engine, platform)
    if problem is not None:
        # The local record is gone anyway; say what could not be cleaned up.
        print(f"warning: {label}'s stored login could not be deleted: {problem}")
    print(f"{label}: connection removed.")
    return 0
