#!/usr/bin/env bash
# Smoke-tests the packaged Linux app the way a user gets it: builds it (scripts/build.sh) unless
# an archive is given, unpacks the .tar.gz in a clean temporary folder, runs install.sh and then
# `lossy-desktop --self-test` with a minimal environment (env -i: PATH=/usr/bin:/bin, HOME = a
# temporary folder, QT_QPA_PLATFORM=offscreen; no project virtualenv), checks the menu entry and
# icons, opens the app's window under Xvfb and takes a screenshot, then uninstalls.
#   scripts/package-smoke.sh [--no-build] [--screenshot FILE] [ARCHIVE.tar.gz]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=1
shot=""
archive=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --screenshot) shot="$2"; shift ;;
    *) archive="$1"; build=0 ;;
  esac
  shift
done

if [ $build = 1 ]; then scripts/build.sh; fi
if [ -z "$archive" ]; then archive=$(cat dist/latest-archive.txt 2>/dev/null || true); fi
[ -f "$archive" ] || { echo "package-smoke: no archive (build with scripts/build.sh)" >&2; exit 1; }
archive=$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")

tmp=$(mktemp -d /tmp/lossy-package-smoke.XXXXXX)
xvfb_pid=""
app_pid=""
cleanup() {
  set +e  # a killed child's exit status must not stop the cleanup half-way
  if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null; fi
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null; wait "$xvfb_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/home" "$tmp/unpack"
cd "$tmp"
fail() { echo "package-smoke: FAIL: $*" >&2; exit 1; }
# The user's environment: nothing of ours, no virtualenv, a fresh HOME.
run_min() { env -i PATH=/usr/bin:/bin HOME="$tmp/home" QT_QPA_PLATFORM=offscreen "$@"; }

echo "== unpack $(basename "$archive") ($(du -m "$archive" | cut -f1) MB)"
tar -C "$tmp/unpack" -xzf "$archive"
release=$(find "$tmp/unpack" -mindepth 1 -maxdepth 1 -type d | head -1)
echo "unpacked bundle: $(du -sm "$release/lossy-desktop" | cut -f1) MB"

echo "== install.sh"
(cd "$release" && run_min sh ./install.sh)
launcher="$tmp/home/.local/bin/lossy-desktop"
desktop="$tmp/home/.local/share/applications/lossy-desktop.desktop"
[ -x "$launcher" ] || fail "launcher $launcher missing"
[ -f "$desktop" ] || fail "menu entry $desktop missing"
grep -q "^Exec=$launcher" "$desktop" || fail "menu entry does not run $launcher"
[ -f "$tmp/home/.local/share/icons/hicolor/256x256/apps/io.lossy.Desktop.png" ] || fail "icon missing"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$desktop" || fail "invalid .desktop"; fi

echo "== lossy-desktop --version / --self-test (env -i, from $tmp)"
run_min "$launcher" --version
SECONDS=0
if ! run_min "$launcher" --self-test > "$tmp/selftest.out" 2> "$tmp/selftest.err"; then
  cat "$tmp/selftest.out"; tail -20 "$tmp/selftest.err"
  fail "--self-test failed"
fi
cat "$tmp/selftest.out"
echo "self-test took ${SECONDS} s"
grep -q "frozen bundle at $tmp/home/.local/opt/lossy-desktop" "$tmp/selftest.out" \
  || fail "--self-test did not run the installed frozen bundle"
[ -d "$tmp/home/.local/share/lossy-desktop" ] && fail "--self-test created a data folder"

if [ -n "$shot" ]; then
  echo "== open the window under Xvfb, screenshot to $shot"
  command -v Xvfb >/dev/null && command -v xdotool >/dev/null && command -v import >/dev/null \
    || fail "Xvfb, xdotool and imagemagick are needed for --screenshot (scripts/bootstrap.sh --test)"
  Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp > "$tmp/display" 2> "$tmp/xvfb.err" &
  xvfb_pid=$!
  for _ in $(seq 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
  display=":$(head -1 "$tmp/display")"
  [ "$display" != ":" ] || fail "Xvfb did not start"
  env -i PATH=/usr/bin:/bin HOME="$tmp/home" DISPLAY="$display" QT_QPA_PLATFORM=xcb \
    QTWEBENGINE_DISABLE_SANDBOX=1 LOSSY_DATA_DIR="$tmp/home/data" \
    "$launcher" > "$tmp/app.out" 2> "$tmp/app.err" &
  app_pid=$!
  if ! DISPLAY="$display" timeout 90 xdotool search --sync --onlyvisible --pid "$app_pid" > "$tmp/windows" 2>/dev/null \
     || [ ! -s "$tmp/windows" ]; then
    tail -20 "$tmp/app.err"; fail "the app opened no window in 90 s"
  fi
  # Give the window its first paint: wait until its name is set (Qt sets it when shown).
  for _ in $(seq 50); do
    title=$(DISPLAY="$display" xdotool getwindowname "$(head -1 "$tmp/windows")" 2>/dev/null || true)
    [ -n "$title" ] && break; sleep 0.1
  done
  echo "window: ${title:-?}"
  # Wait for the first paint: an unpainted screen is one flat colour.
  for _ in $(seq 120); do
    DISPLAY="$display" import -window root "$tmp/shot.png"
    spread=$(convert "$tmp/shot.png" -format '%[fx:standard_deviation>0.02]' info:)
    [ "$spread" = 1 ] && break
    sleep 0.25
  done
  [ "$spread" = 1 ] || fail "the window stayed blank for 30 s"
  case "$shot" in /*) dest="$shot" ;; *) dest="$root/$shot" ;; esac
  mkdir -p "$(dirname "$dest")"
  cp "$tmp/shot.png" "$dest"
  kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=""
  echo "screenshot: $shot"
fi

echo "== uninstall.sh"
run_min sh "$tmp/home/.local/opt/lossy-desktop/uninstall.sh"
[ -e "$launcher" ] && fail "launcher left behind"
[ -e "$desktop" ] && fail "menu entry left behind"
[ -e "$tmp/home/.local/opt/lossy-desktop" ] && fail "app folder left behind"
echo "package-smoke: ok"
