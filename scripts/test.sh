#!/usr/bin/env bash
# Runs every check: ruff (lint + format), mypy (strict on every layer but the sandbox), the pytest suite.
# Qt runs offscreen; tests needing a real screen, tray or keyring start Xvfb/dbus themselves.
# Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
export QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox"
export PYTHONDONTWRITEBYTECODE=1
# A skipped test fails the run unless tests/strict_skips.py allow-lists it (set
# LOSSY_STRICT_SKIPS=0 to run locally on a machine without the test tools).
export LOSSY_STRICT_SKIPS="${LOSSY_STRICT_SKIPS:-1}"
unset DISPLAY

status=0
echo "== ruff check"; .venv/bin/ruff check . || status=1
echo "== ruff format --check"; .venv/bin/ruff format --check . || status=1
echo "== mypy"; .venv/bin/mypy || status=1
echo "== pytest"
# Two workers (pytest-xdist): most tests wait on browsers, pages and subprocesses rather than
# compute, so two side by side fit two cores. --dist loadfile keeps each module's tests together
# and in order on one worker (its module-scoped browsers and servers start once); the modules go
# out in collection order (--no-loadscope-reorder: not largest first), where tests/conftest.py
# puts the longest ones first. `-n 0` (after the other arguments) runs in one process.
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests: that is a failure"
  rc=1
fi
[ $rc -ne 0 ] && status=1
exit $status
