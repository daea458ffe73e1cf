#!/usr/bin/env bash
# The reliability tests at their FULL sizes (crash: 200 notes / 20 SIGKILLs; fault soak: 1,000
# notes; property tests: 1,000 examples per property), then a summary of the figures they wrote
# to bench/out/reliability-*-full.json. CI runs the same tests at reduced sizes.
#   scripts/reliability.sh                       # everything
#   scripts/reliability.sh -k crash              # extra arguments go to pytest
# LOSSY_RELIABILITY_SEED changes the random kill moments / fault mix (defaults are fixed).
set -uo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
export QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox"
export PYTHONDONTWRITEBYTECODE=1
export LOSSY_RELIABILITY_FULL=1
unset DISPLAY
.venv/bin/python -m pytest -q -p no:cacheprovider tests/reliability "$@"
rc=$?
.venv/bin/python - <<'PY'
import json, pathlib
for path in sorted(pathlib.Path("bench/out").glob("reliability-*-full.json")):
    data = json.loads(path.read_text())
    data.pop("at", None)
    print(f"== {path.name}")
    print(json.dumps(data, indent=1, sort_keys=True))
PY
exit $rc
