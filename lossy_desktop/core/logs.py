"""Logging: one named logger per subsystem, a rotating file in the data folder, secrets redacted.

Subsystem loggers: lossy.core, lossy.queue, lossy.automation, lossy.workers, lossy.app,
lossy.sandbox, lossy.cli. Get one with `logging.getLogger("lossy.<subsystem>")`.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import threading
from pathlib import Path

LOG_FILE_NAME = "lossy.log"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()

# Values that are secret by shape wherever they appear: signed connect URLs, live-view tokens,
# bearer tokens and API keys in headers or query strings.
_SECRET_PATTERNS = [
    re.compile(r"(?i)(signingKey|token|apiKey|api_key|key|secret|password)=([^&\s\"']+)"),
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/=-]{8,})"),
    re.compile(r"(?i)(x-bb-api-key[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"),
    re.compile(r"(wss?://)([^\s\"']+)"),
]


def register_secret(value: str | None) -> None:
    """Never let this exact value reach a log line (it becomes «redacted»)."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Remove registered secrets and secret-shaped values from text."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, "«redacted»")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "«redacted»", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The log file (and each one rotation starts) is created 0600: never readable by other
    local users, not even for an instant."""

    def _open(self) -> io.TextIOWrapper:
        from lossy_desktop.core.paths import open_private

        fd = open_private(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


_configured_file: Path | None = None


def setup_logging(log_dir: Path, level: int = logging.INFO, stderr: bool = False) -> Path:
    """Attach the rotating file handler (idempotent per folder). Returns the log file's path."""
    global _configured_file
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger("lossy")
    root.setLevel(level)
    if _configured_file == path:
        return path
    for handler in list(root.handlers):
        if getattr(handler, "_lossy", False):
            root.removeHandler(handler)
            handler.close()
    handler = PrivateRotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8", delay=True
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    handler.addFilter(RedactingFilter())
    handler._lossy = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if stderr:
        err = logging.StreamHandler()
        err.setLevel(logging.WARNING)
        err.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        err.addFilter(RedactingFilter())
        err._lossy = True  # type: ignore[attr-defined]
        root.addHandler(err)
    _configured_file = path
    return path
