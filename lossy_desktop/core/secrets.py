"""Secrets (Browserbase key and project id, the intake token) live in the OS keyring only.

Never in the database, a settings file, a log or a command line. With no keyring backend the
user is told so and offered the BROWSERBASE_API_KEY environment variable: never a silent
plaintext fallback.
"""

from __future__ import annotations

import logging
import os
import secrets as _secrets

import keyring
import keyring.errors

from lossy_desktop.core.errors import SecretStoreUnavailable
from lossy_desktop.core.logs import register_secret

log = logging.getLogger("lossy.core")

SERVICE = "lossy-desktop"
BROWSERBASE_API_KEY = "browserbase_api_key"
BROWSERBASE_PROJECT_ID = "browserbase_project_id"
INTAKE_TOKEN = "intake_token"
ENV_FOR = {
    BROWSERBASE_API_KEY: "BROWSERBASE_API_KEY",
    BROWSERBASE_PROJECT_ID: "BROWSERBASE_PROJECT_ID",
}

NO_BACKEND = (
    "No system keyring is available (on Linux: GNOME Keyring or KWallet through Secret "
    "Service). Lossy Desktop will not store secrets in a plain file. Start a keyring, or set "
    "the BROWSERBASE_API_KEY environment variable before starting the app."
)
NO_BACKEND_FOR_TOKEN = (
    "No system keyring is available (on Linux: GNOME Keyring or KWallet through Secret "
    "Service), so the note recorder's token cannot be kept and every note it sends is refused. "
    "The token lives only in the keyring (no environment variable stands in for it): start a "
    "keyring, then restart Lossy Desktop."
)


def keyring_available() -> bool:
    try:
        backend = keyring.get_keyring()
    except Exception:
        return False
    priority = getattr(backend, "priority", 0)
    # Every backend class is called `Keyring` (SecretService.Keyring, kwallet.DBusKeyring's
    # siblings, fail.Keyring): tell them apart by module.
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return False
    return bool(priority and priority > 0)


def backend_name() -> str:
    try:
        return type(keyring.get_keyring()).__module__.split(".")[-1]
    except Exception:
        return "none"


def get_secret(name: str) -> str | None:
    """The environment variable (where one is defined for it) beats the keyring."""
    env = ENV_FOR.get(name)
    value = os.environ.get(env) if env else None
    if not value:
        try:
            value = keyring.get_password(SERVICE, name)
        except keyring.errors.NoKeyringError:
            value = None
        except keyring.errors.KeyringError as error:
            log.warning("keyring read failed: %s", type(error).__name__)
            value = None
    register_secret(value)
    return value or None


def set_secret(name: str, value: str) -> None:
    if not keyring_available():
        raise SecretStoreUnavailable(NO_BACKEND)
    register_secret(value)
    try:
        keyring.set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as error:
        raise SecretStoreUnavailable(f"The system keyring refused to store it: {error}") from None


def delete_secret(name: str) -> None:
    try:
        keyring.delete_password(SERVICE, name)
    except (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError):
        pass


def intake_token(create: bool = True) -> str | None:
    """The recorder intake's bearer token; made on first use when a keyring is there."""
    token = get_secret(INTAKE_TOKEN)
    if token is None and create and keyring_available():
        token = new_intake_token()
    return token


def new_intake_token() -> str:
    """Make a new intake token and keep it in the keyring (the old one stops working)."""
    token = _secrets.token_urlsafe(32)
    set_secret(INTAKE_TOKEN, token)
    return token
