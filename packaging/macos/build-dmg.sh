#!/usr/bin/env bash
# macOS: builds "dist/Lossy Desktop.app" with PyInstaller (build.spec) and a compressed .dmg with
# hdiutil. Run on a Mac (Apple silicon builds an arm64 app, Intel an x86_64 one) from the repo:
#   python3.11 -m venv .venv && .venv/bin/pip install --require-hashes -r requirements.lock \
#     -r requirements-dev.lock && .venv/bin/pip install --no-deps -e .
#   packaging/macos/build-dmg.sh
# Optional signing and notarisation (otherwise Gatekeeper asks users to right-click → Open):
#   CODESIGN_IDENTITY="Developer ID Application: NAME (TEAMID)"   sign the app and the dmg
#   NOTARY_PROFILE=profile-name   notarise with `xcrun notarytool` (store it with
#                                 `xcrun notarytool store-credentials`), then staple
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -s)" = Darwin ] || { echo "build-dmg.sh runs on macOS only" >&2; exit 1; }

py=.venv/bin/python
version=$($py -c "import lossy_desktop; print(lossy_desktop.__version__)")
app="dist/Lossy Desktop.app"
dmg="dist/LossyDesktop-$version-$(uname -m).dmg"
start=$(date +%s)

rm -rf "$app" dist/lossy-desktop "$dmg"
$py -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller build.spec
[ -d "$app" ] || { echo "PyInstaller made no $app" >&2; exit 1; }
# The node binary Playwright ships must stay executable inside the bundle.
chmod +x "$app/Contents/Frameworks/playwright/driver/node" 2>/dev/null || true

# Smoke test the frozen app before packaging it.
QT_QPA_PLATFORM=offscreen "$app/Contents/MacOS/lossy-desktop" --self-test

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  ent=packaging/macos/entitlements.plist
  # Sign inner binaries first (node, QtWebEngineProcess, dylibs), then the app itself.
  find "$app/Contents" -type f \( -perm -u+x -o -name "*.dylib" -o -name "*.so" \) -print0 |
    xargs -0 codesign --force --timestamp --options runtime --entitlements "$ent" -s "$CODESIGN_IDENTITY"
  codesign --force --timestamp --options runtime --entitlements "$ent" -s "$CODESIGN_IDENTITY" "$app"
  codesign --verify --deep --strict "$app"
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "Lossy Desktop" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp -s "$CODESIGN_IDENTITY" "$dmg"
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$dmg"
  fi
fi

end=$(date +%s)
echo "build time: $((end - start)) s"
echo "unpacked app: $(du -sm "$app" | cut -f1) MB ($app)"
echo "disk image: $(du -m "$dmg" | cut -f1) MB ($dmg)"
