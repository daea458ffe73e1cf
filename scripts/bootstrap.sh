#!/usr/bin/env bash
# Installs what Lossy Desktop needs on Debian/Ubuntu: system packages, then a virtualenv in
# .venv with the pinned, hash-checked Python packages (requirements.lock; with --test also
# requirements-dev.lock: test and build tools) and the app itself.
#   scripts/bootstrap.sh          what the app needs
#   scripts/bootstrap.sh --test   plus what the test suite needs (Xvfb, tray host, keyring, ...)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APP_PKGS=(
  python3 python3-venv python3-pip
  chromium libnss3
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxi6 libasound2 fonts-dejavu-core
)
TEST_PKGS=(xvfb xauth xdotool imagemagick trayer gnome-keyring dbus-x11 binutils desktop-file-utils appstream)

missing=()
for pkg in "${APP_PKGS[@]}" $([ $want_test = 1 ] && echo "${TEST_PKGS[@]}"); do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Hash-checking mode: every package (dependencies too) must be in the lock with a matching
# sha256, so a tampered or substituted file on the index is refused.
LOCKS=(-r requirements.lock)
[ $want_test = 1 ] && LOCKS+=(-r requirements-dev.lock)
.venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes "${LOCKS[@]}" 2>&1 | { grep -v "^WARNING: Location" || true; }
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | { grep -v "^WARNING: Location" || true; }
echo "Ready: .venv/bin/lossy-desktop"
