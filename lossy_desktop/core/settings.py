"""Every setting declared once: key, type, default, bounds. Stored in the database, never secrets.

`Settings.set(key, raw)` parses and validates; a bad value raises ValidationError naming the key
and the old value stays. A stored value that no longer validates (an older version wrote it, or
someone edited the file) is ignored with a warning, and the default is used: a bad setting never
crashes the app.

Each key is also listed in one of four typed tables (`BoolKey`, `IntKey`, `FloatKey`, `StrKey`), so
`settings.get("automation_concurrency")` is an `int` to the type checker, with no cast at the call
site; a key whose table and spec disagree fails at import.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args, overload

from sqlalchemy import select

from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.db import Database
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.models import Setting

log = logging.getLogger("lossy.core")

ENV_PLATFORM_BASE = "LOSSY_PLATFORM_BASE"

SettingValue = bool | int | float | str

# The typed tables: every key of SPECS in exactly the table of its type (checked at import).
BoolKey = Literal["browserbase_record_sessions", "notifications", "start_minimized", "autostart"]
IntKey = Literal[
    "automation_concurrency",
    "automation_rate_allowed",
    "automation_rate_period_s",
    "maintenance_concurrency",
    "max_attempts",
    "keepalive_idle_days",
    "prune_after_days",
    "browserbase_session_timeout_s",
    "artifact_retention_days",
    "intake_port",
]
FloatKey = Literal[
    "auto_post_threshold",
    "comment_interval_s",
    "retry_backoff_base_s",
    "rate_limit_snooze_base_s",
    "browserbase_price_per_hour",
]
StrKey = Literal[
    "keepalive_cron",
    "provider",
    "platform_base",
    "youtube_home",
    "vimeo_home",
    "air_home",
    "browser_path",
    "browserbase_region",
    "browserbase_plan",
    "recorder_origin",
]


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type[SettingValue]
    default: SettingValue
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    check: Callable[[Any], str | None] | None = None  # returns an error message or None

    def parse(self, raw: object) -> SettingValue:
        """Turn a raw value (a CLI string, or a typed value from the GUI) into a valid value."""
        value = self._coerce(raw)
        if self.choices is not None and value not in self.choices:
            raise ValidationError(self.key, f"must be one of {', '.join(self.choices)}")
        if not isinstance(value, str):  # bounds are for numbers
            if self.minimum is not None and value < self.minimum:
                raise ValidationError(self.key, f"must be at least {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise ValidationError(self.key, f"must be at most {self.maximum:g}")
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise ValidationError(self.key, problem)
        return value

    def _coerce(self, raw: Any) -> SettingValue:
        kind = self.type
        try:
            if kind is bool:
                if isinstance(raw, bool):
                    return raw
                text = str(raw).strip().lower()
                if text in ("1", "true", "yes", "on"):
                    return True
                if text in ("0", "false", "no", "off"):
                    return False
                raise ValueError(raw)
            if kind is int:
                if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                    raise ValueError(raw)
                return int(str(raw).strip()) if isinstance(raw, str) else int(raw)
            if kind is float:
                if isinstance(raw, bool):
                    raise ValueError(raw)
                value = float(raw)
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError(raw)
                return value
            if kind is str:
                if not isinstance(raw, str):
                    raise ValueError(raw)
                return raw.strip()
        except (TypeError, ValueError):
            pass
        raise ValidationError(self.key, f"must be a {kind.__name__} (got {raw!r})")


def _check_cron(value: str) -> str | None:
    from croniter import croniter

    return None if croniter.is_valid(value) else "is not a valid cron expression (5 fields)"


def _check_url(value: str) -> str | None:
    if value == "":
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an http(s) URL, or empty"
    return None


def _check_path(value: str) -> str | None:
    if value == "" or os.path.isfile(value):
        return None
    return f"no file at {value}"


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            "auto_post_threshold",
            float,
            0.7,
            "Notes at least this confident are posted automatically.",
            0.0,
            1.0,
        ),
        SettingSpec("automation_concurrency", int, 3, "Posting jobs running at once.", 1, 10),
        SettingSpec(
            "automation_rate_allowed",
            int,
            10,
            "Comments one platform account may post per rate period.",
            1,
            1000,
        ),
        SettingSpec(
            "automation_rate_period_s",
            int,
            60,
            "Length of the posting rate window, seconds.",
            1,
            86400,
        ),
        SettingSpec(
            "comment_interval_s",
            float,
            6.0,
            "Least time between two comments of one platform account, seconds "
            "(plus up to 50 % random jitter); 0 for none.",
            0.0,
            3600,
        ),
        SettingSpec(
            "maintenance_concurrency",
            int,
            1,
            "Maintenance jobs (keep-alive) running at once.",
            1,
            4,
        ),
        SettingSpec("max_attempts", int, 3, "Attempts before a posting job gives up.", 1, 20),
        SettingSpec(
            "retry_backoff_base_s",
            float,
            30.0,
            "First retry delay after a failed job, seconds (then ×3 per attempt).",
            0.01,
            3600,
        ),
        SettingSpec(
            "rate_limit_snooze_base_s",
            float,
            30.0,
            "First wait after a platform's rate limit, seconds (then ×3 per limit in a row).",
            0.01,
            3600,
        ),
        SettingSpec(
            "keepalive_cron",
            str,
            "0 3 * * *",
            "When the keep-alive runs (cron, local time).",
            check=_check_cron,
        ),
        SettingSpec(
            "keepalive_idle_days",
            int,
            20,
            "Keep-alive visits connections unused for this many days.",
            1,
            365,
        ),
        SettingSpec(
            "prune_after_days", int, 7, "Finished jobs older than this are deleted.", 1, 365
        ),
        SettingSpec(
            "provider",
            str,
            "local",
            "Browser provider for new connections.",
            choices=("local", "browserbase"),
        ),
        SettingSpec(
            "platform_base",
            str,
            "",
            "If set, YouTube, Vimeo and Air are served under this URL (sandbox).",
            check=_check_url,
        ),
        SettingSpec(
            "youtube_home", str, "https://www.youtube.com", "YouTube's home URL.", check=_check_url
        ),
        SettingSpec("vimeo_home", str, "https://vimeo.com", "Vimeo's home URL.", check=_check_url),
        SettingSpec("air_home", str, "https://app.air.inc", "Air's home URL.", check=_check_url),
        SettingSpec(
            "browser_path",
            str,
            "",
            "Chromium/Chrome/Edge to use (empty: find one).",
            check=_check_path,
        ),
        SettingSpec(
            "browserbase_region",
            str,
            "",
            "Browserbase region (empty: the project's default).",
            choices=("", "us-west-2", "us-east-1", "eu-central-1", "ap-southeast-1"),
        ),
        SettingSpec(
            "browserbase_session_timeout_s",
            int,
            900,
            "Longest a posting session may live, seconds.",
            60,
            21600,
        ),
        SettingSpec(
            "browserbase_price_per_hour",
            float,
            0.12,
            "Estimated Browserbase price per browser hour, USD (for the usage view).",
            0.0,
            100.0,
        ),
        SettingSpec(
            "browserbase_plan",
            str,
            "",
            "Your Browserbase plan (free, developer, startup, scale); empty: learn it "
            "from the API's answers.",
            choices=("", "free", "developer", "startup", "scale"),
        ),
        SettingSpec(
            "browserbase_record_sessions",
            bool,
            False,
            "Record Browserbase sessions so a failed note links to its replay.",
        ),
        SettingSpec(
            "artifact_retention_days",
            int,
            30,
            "Failure screenshots older than this many days are deleted.",
            1,
            3650,
        ),
        SettingSpec("notifications", bool, True, "Show desktop notifications."),
        SettingSpec("start_minimized", bool, False, "Start in the tray, without the window."),
        SettingSpec("autostart", bool, False, "Start Lossy Desktop when you log in."),
        SettingSpec(
            "intake_port",
            int,
            8765,
            "Port of the note recorder intake (127.0.0.1 only); 0 turns it off.",
            0,
            65535,
        ),
        SettingSpec(
            "recorder_origin",
            str,
            "",
            "Web origin allowed to send notes from a browser (CORS); empty: none.",
            check=_check_url,
        ),
    )
}


_KEYS_BY_TYPE: dict[type, tuple[str, ...]] = {
    bool: get_args(BoolKey),
    int: get_args(IntKey),
    float: get_args(FloatKey),
    str: get_args(StrKey),
}


def _check_key_tables() -> None:
    """Every spec is in the typed table of its type, with a default of that type, and no table
    names a key SPECS lacks."""
    for spec in SPECS.values():
        if spec.key not in _KEYS_BY_TYPE[spec.type] or type(spec.default) is not spec.type:
            raise TypeError(f"setting {spec.key}: its typed key table or default is wrong")
    tabled = [key for keys in _KEYS_BY_TYPE.values() for key in keys]
    if sorted(tabled) != sorted(SPECS):
        raise TypeError(f"typed key tables and SPECS differ: {set(tabled) ^ set(SPECS)}")


_check_key_tables()


class Settings:
    """Typed access to the settings table. Reads are cached; writes validate first."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock
        self._cache: dict[str, SettingValue] | None = None

    def spec(self, key: str) -> SettingSpec:
        try:
            return SPECS[key]
        except KeyError:
            raise ValidationError(key, "no such setting") from None

    def _load(self) -> dict[str, SettingValue]:
        if self._cache is None:
            with self._db.read() as session:
                rows = session.execute(select(Setting.key, Setting.value)).all()
            values: dict[str, SettingValue] = {}
            for key, value in rows:
                spec = SPECS.get(key)
                if spec is None:
                    continue
                try:
                    values[key] = spec.parse(value)
                except ValidationError as error:
                    log.warning("ignoring stored setting %s (%s); using default", key, error)
            self._cache = values
        return self._cache

    @overload
    def get(self, key: BoolKey) -> bool: ...
    @overload
    def get(self, key: IntKey) -> int: ...
    @overload
    def get(self, key: FloatKey) -> float: ...
    @overload
    def get(self, key: StrKey) -> str: ...
    @overload
    def get(self, key: str) -> SettingValue: ...
    def get(self, key: str) -> SettingValue:
        """The value of `key`, typed by its table (a key only known at run time: the union)."""
        spec = self.spec(key)
        return self._load().get(key, spec.default)

    def set(self, key: str, raw: object) -> SettingValue:
        spec = self.spec(key)
        value = spec.parse(raw)
        with self._db.write() as session:
            row = session.get(Setting, key)
            if row is None:
                session.add(Setting(key=key, value=value, updated_at=self._clock()))
            else:
                row.value = value
                row.updated_at = self._clock()
        self._load()[key] = value
        log.info("setting %s changed", key)
        return value

    def reset(self, key: str) -> SettingValue:
        spec = self.spec(key)
        with self._db.write() as session:
            row = session.get(Setting, key)
            if row is not None:
                session.delete(row)
        self._load().pop(key, None)
        return spec.default

    def all(self) -> dict[str, SettingValue]:
        return {key: self.get(key) for key in SPECS}

    def invalidate(self) -> None:
        self._cache = None

    def platform_base(self) -> str:
        """LOSSY_PLATFORM_BASE (or --platform-base, which sets it) beats the setting."""
        return (os.environ.get(ENV_PLATFORM_BASE) or self.get("platform_base")).rstrip("/")
