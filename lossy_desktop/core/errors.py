"""Errors the core raises. Each carries a message fit to show a user as it is."""

from __future__ import annotations


class LossyError(Exception):
    """Base of every error the app explains to the user itself."""

    exit_code = 1


class ValidationError(LossyError):
    """A value was refused. `field` names it; `line` is set for imports."""

    exit_code = 2

    def __init__(self, field: str, message: str, line: int | None = None) -> None:
        self.field = field
        self.message = message
        self.line = line
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{field}: {message}")


class NotFoundError(LossyError):
    exit_code = 3


class IllegalTransition(LossyError):
    """A note status change the state machine does not allow."""

    exit_code = 4


class DatabaseUnavailable(LossyError):
    """The database can't be used (locked, read-only, full, corrupt). The message says which."""

    exit_code = 10


class SecretStoreUnavailable(LossyError):
    """No OS keyring backend; the message says what to do instead."""

    exit_code = 11
