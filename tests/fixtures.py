"""Test doubles and set-ups more than one test module needs, in one place. The fixtures here
are registered by tests/conftest.py (imported there); the plain helpers are imported by the
test modules (`from fixtures import ...`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import pytest

SANDBOX_ACCOUNT = "Reviewer One"
"""The account a test logs in with on a sandbox platform unless it names another."""


# -- the OS keyring ------------------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend that keeps passwords in memory: stands in for the OS keyring
    (SecretService) inside one test."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The keyring is an in-memory one for this test (the session's is the failing backend)."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


# -- the automation engine and the sandbox's platforms ---------------------------------------


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """One AutomationEngine (one Playwright driver, started on first use) shared by the tests
    of a module: starting Playwright costs seconds, and each test's browsers are its own
    (opened and closed by what the test drives, on its own data folder)."""
    from lossy_desktop.automation.engine import AutomationEngine

    with AutomationEngine() as eng:
        yield eng


@pytest.fixture
def on_sandbox(services: Any, sandbox: Any) -> Any:
    """The services pointed at the sandbox's platforms, with no rate limit in the way."""
    services.settings.set("platform_base", sandbox.base_url)
    services.settings.set("automation_rate_allowed", 1000)
    return services


@pytest.fixture
def bb_env(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Browserbase SDK pointed at the sandbox's fake API (BROWSERBASE_BASE_URL), its key in
    the environment. The sandbox itself."""
    monkeypatch.setenv("BROWSERBASE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("BROWSERBASE_API_KEY", sandbox.browserbase_api_key)
    return sandbox


def connect_on_sandbox(
    services: Any,
    engine: Any,
    sandbox: Any,
    platform: str,
    account: str = SANDBOX_ACCOUNT,
    provider: str = "local",
) -> None:
    """A connection of `platform` logged in as `account` the way the app does it (LoginFlow,
    headless, the sandbox's sign-in form), and active."""
    from lossy_desktop.workers.connect import connect_with_login_form

    state = connect_with_login_form(
        services,
        engine,
        platform,
        login_url=sandbox.login_url(platform),
        account=account,
        provider=provider,
    )
    assert state.logged_in
    assert services.connections.get(platform).status == "active"
