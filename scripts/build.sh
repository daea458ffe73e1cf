#!/usr/bin/env bash
# One build command for the OS it runs on. Output goes to dist/.
#   Linux:   dist/lossy-desktop/ (PyInstaller one-folder bundle) and
#            dist/lossy-desktop-VERSION-linux-ARCH.tar.gz (bundle + .desktop + icons + install.sh)
#   macOS:   packaging/macos/build-dmg.sh  -> dist/Lossy Desktop.app, dist/LossyDesktop-VERSION.dmg
#   Windows: packaging/windows/build.ps1   -> dist\lossy-desktop\, dist\LossyDesktop-VERSION-setup.exe
# Prints the build time, the unpacked bundle size and the archive size (also in dist/build-report.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

case "$(uname -s)" in
  Darwin) exec packaging/macos/build-dmg.sh "$@" ;;
  MINGW*|MSYS*|CYGWIN*)
    exec powershell -NoProfile -ExecutionPolicy Bypass -File packaging/windows/build.ps1 "$@" ;;
  Linux) ;;
  *) echo "build.sh: unsupported OS $(uname -s)" >&2; exit 1 ;;
esac

py=.venv/bin/python
[ -x "$py" ] || { echo "build.sh: no .venv: run scripts/bootstrap.sh --test first" >&2; exit 1; }
$py -c "import PyInstaller" 2>/dev/null || { echo "build.sh: PyInstaller is not installed in .venv (scripts/bootstrap.sh --test)" >&2; exit 1; }
command -v strip >/dev/null || { echo "build.sh: 'strip' (binutils) is needed" >&2; exit 1; }

version=$($py -c "import lossy_desktop; print(lossy_desktop.__version__)")
arch=$(uname -m)
name="lossy-desktop-$version-linux-$arch"
start=$(date +%s)

echo "== PyInstaller (build.spec) for Linux $arch, version $version"
rm -rf dist/lossy-desktop "dist/$name" "dist/$name.tar.gz"
$py -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller build.spec
bundle=dist/lossy-desktop
# PyInstaller leaves links to the Qt libraries build.spec dropped: remove the dangling ones.
find "$bundle" -xtype l -delete

echo "== release folder and archive"
stage="dist/$name"
mkdir -p "$stage/icons"
cp -a "$bundle" "$stage/lossy-desktop"
cp packaging/linux/install.sh packaging/linux/uninstall.sh "$stage/"
cp resources/lossy-desktop.desktop resources/io.lossy.Desktop.metainfo.xml "$stage/"
for size in 16 24 32 48 64 128 256 512; do cp "resources/icons/app-$size.png" "$stage/icons/"; done
cp resources/icons/app.svg "$stage/icons/"
echo "$version" > "$stage/VERSION"
cat > "$stage/README.txt" <<TXT
Lossy Desktop $version for Linux ($arch)

Install for your user (no root needed):   ./install.sh
Then start "Lossy Desktop" from the applications menu, or run ~/.local/bin/lossy-desktop.
Check the installation:                   ~/.local/bin/lossy-desktop --self-test
Remove:                                   ~/.local/opt/lossy-desktop/uninstall.sh

Posting with a local browser needs Chromium, Google Chrome or Microsoft Edge
(Debian/Ubuntu: sudo apt install chromium); or set a Browserbase key in Settings.
TXT
tar -C dist -czf "dist/$name.tar.gz" "$name"
rm -rf "$stage"
end=$(date +%s)

bundle_mb=$(du -sm "$bundle" | cut -f1)
archive_mb=$(du -m "dist/$name.tar.gz" | cut -f1)
report="build time: $((end - start)) s
unpacked bundle: ${bundle_mb} MB ($bundle)
archive: ${archive_mb} MB (dist/$name.tar.gz)"
echo "$report" | tee dist/build-report.txt
echo "dist/$name.tar.gz" > dist/latest-archive.txt
