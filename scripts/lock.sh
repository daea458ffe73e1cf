#!/usr/bin/env bash
# Regenerates requirements.lock (the app) and requirements-dev.lock (test and build tools) from
# pyproject.toml, with the sha256 of every file of every pinned version (all platforms, markers
# for Windows/macOS-only packages), keeping the versions already locked unless pyproject's
# ranges exclude them (--upgrade: take the newest allowed). Uses uv from PATH, else installs it
# into a throwaway virtualenv (never .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
UV=$(command -v uv || true)
if [ -z "$UV" ]; then
  python3 -m venv "$work/uv" && "$work/uv/bin/python" -m pip install -q uv
  UV="$work/uv/bin/uv"
fi
keep=(-c requirements.lock -c requirements-dev.lock)
[ "${1:-}" = "--upgrade" ] && keep=()
python3 - "$work" <<'PY'
import sys, tomllib
work = sys.argv[1]
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
open(f"{work}/app.in", "w").write("\n".join([*project["dependencies"], "setuptools", "wheel"]) + "\n")
open(f"{work}/dev.in", "w").write(
    f"-r {work}/app.in\n" + "\n".join(project["optional-dependencies"]["dev"]) + "\n"
)
PY
compile=("$UV" pip compile -q --universal --python-version 3.11 --generate-hashes --no-annotate --no-header)
"${compile[@]}" "${keep[@]}" "$work/app.in" -o "$work/app.lock"
"${compile[@]}" "${keep[@]}" -c "$work/app.lock" "$work/dev.in" -o "$work/devfull.lock"
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]

def blocks(path):
    out, current = [], None
    for line in open(path).read().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            current = [line]
            out.append(current)
        elif current is not None:
            current.append(line)
    return out

def name(block):
    return block[0].split("==")[0].strip()

def header(path):
    return "".join(line for line in open(path) if line.startswith("#"))

app = blocks(f"{work}/app.lock")
in_app = {name(b) for b in app}
dev = [b for b in blocks(f"{work}/devfull.lock") if name(b) not in in_app]
for path, found in (("requirements.lock", app), ("requirements-dev.lock", dev)):
    text = header(path) + "\n".join("\n".join(b) for b in found) + "\n"
    open(path, "w").write(text)
    print(f"{path}: {len(found)} packages")
PY
