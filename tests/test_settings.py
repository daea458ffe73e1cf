from __future__ import annotations

import subprocess
import sys

import pytest

from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.settings import SPECS


def test_defaults(services):
    s = services.settings
    assert s.get("auto_post_threshold") == 0.7
    assert s.get("automation_concurrency") == 3
    assert s.get("automation_rate_allowed") == 10
    assert s.get("automation_rate_period_s") == 60
    assert s.get("maintenance_concurrency") == 1
    assert s.get("max_attempts") == 3
    assert s.get("keepalive_cron") == "0 3 * * *"
    assert s.get("keepalive_idle_days") == 20
    assert s.get("prune_after_days") == 7
    assert s.get("provider") == "local"
    assert s.get("platform_base") == ""


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("auto_post_threshold", "1.5"),
        ("auto_post_threshold", "nan"),
        ("automation_concurrency", "0"),
        ("automation_concurrency", "2.5"),
        ("provider", "chrome"),
        ("keepalive_cron", "every day"),
        ("platform_base", "ftp://x"),
        ("notifications", "maybe"),
    ],
)
def test_bad_value_refused_and_old_value_kept(services, key, bad):
    before = services.settings.get(key)
    with pytest.raises(ValidationError) as info:
        services.settings.set(key, bad)
    assert info.value.field == key
    services.settings.invalidate()
    assert services.settings.get(key) == before


def test_set_persists(services, data_dir):
    services.settings.set("automation_concurrency", "5")
    services.settings.invalidate()
    assert services.settings.get("automation_concurrency") == 5


def test_corrupt_stored_value_falls_back_to_default(services):
    from lossy_desktop.core.models import Setting

    with services.db.write() as session:
        session.add(Setting(key="max_attempts", value="lots", updated_at=0))
    services.settings.invalidate()
    assert services.settings.get("max_attempts") == 3


def test_unknown_key(services):
    with pytest.raises(ValidationError, match="no such setting"):
        services.settings.get("nope")


def test_cli_settings_roundtrip(data_dir):
    def run(*argv):
        return subprocess.run(
            [sys.executable, "-m", "lossy_desktop", "--data-dir", str(data_dir), *argv],
            capture_output=True,
            text=True,
        )

    assert run("settings", "set", "auto_post_threshold", "0.8").returncode == 0
    got = run("settings", "get", "auto_post_threshold")
    assert got.stdout.strip() == "0.8"
    bad = run("settings", "set", "auto_post_threshold", "2")
    assert bad.returncode == 2 and "auto_post_threshold" in bad.stderr
    listed = run("settings", "list")
    assert all(key in listed.stdout for key in SPECS)


def test_every_setting_reads_as_its_declared_type(services):
    """What the typed key tables promise the type checker holds at run time: the default, and a
    value set from text (the CLI's way), read back as the spec's type."""
    from typing import get_args

    from lossy_desktop.core.settings import BoolKey, FloatKey, IntKey, StrKey

    tables = {bool: BoolKey, int: IntKey, float: FloatKey, str: StrKey}
    assert sorted(k for t in tables.values() for k in get_args(t)) == sorted(SPECS)
    for key, spec in SPECS.items():
        assert key in get_args(tables[spec.type]), key
        assert type(services.settings.get(key)) is spec.type, key
    services.settings.set("comment_interval_s", "5")
    services.settings.set("intake_port", "0")
    services.settings.set("notifications", "off")
    services.settings.invalidate()
    assert type(services.settings.get("comment_interval_s")) is float
    assert type(services.settings.get("intake_port")) is int
    assert services.settings.get("notifications") is False
