#!/bin/sh
# Installs Lossy Desktop for the current user, from the unpacked release folder this script is in:
#   the app          -> ~/.local/opt/lossy-desktop/
#   the launcher     -> ~/.local/bin/lossy-desktop
#   menu entry       -> ~/.local/share/applications/lossy-desktop.desktop
#   icons, metainfo  -> ~/.local/share/icons/hicolor/*/apps/io.lossy.Desktop.*, ~/.local/share/metainfo/
# No root needed. Reinstalling replaces the previous version; your notes (in
# ~/.local/share/lossy-desktop) are never touched. Remove with ~/.local/opt/lossy-desktop/uninstall.sh.
# Needs a Chromium, Chrome or Edge to post with a local browser (Debian/Ubuntu: apt install chromium).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
home=${HOME:?HOME is not set}
opt="$home/.local/opt/lossy-desktop"
bin="$home/.local/bin"
share=${XDG_DATA_HOME:-$home/.local/share}
icon_id=io.lossy.Desktop

if [ ! -x "$here/lossy-desktop/lossy-desktop" ]; then
  echo "install.sh: $here/lossy-desktop/lossy-desktop is missing: run this script from the unpacked release folder" >&2
  exit 1
fi

echo "Installing Lossy Desktop $(cat "$here/VERSION" 2>/dev/null || echo '') into $opt"
mkdir -p "$home/.local/opt" "$bin" "$share/applications" "$share/metainfo"
# Copy next to the old version, then swap, so a failed copy never leaves half an app.
rm -rf "$opt.new" "$opt.old"
mkdir -p "$opt.new"
cp -a "$here/lossy-desktop/." "$opt.new/"
cp "$here/uninstall.sh" "$opt.new/uninstall.sh"
chmod 755 "$opt.new/uninstall.sh"
if [ -e "$opt" ]; then mv "$opt" "$opt.old"; fi
mv "$opt.new" "$opt"
rm -rf "$opt.old"

# The launcher: a symlink, so `lossy-desktop --self-test` and the CLI work from a terminal.
ln -sfn "$opt/lossy-desktop" "$bin/lossy-desktop"

for png in "$here"/icons/app-*.png; do
  size=$(basename "$png" .png | sed 's/^app-//')
  mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$share/icons/hicolor/${size}x${size}/apps/$icon_id.png"
done
mkdir -p "$share/icons/hicolor/scalable/apps"
cp "$here/icons/app.svg" "$share/icons/hicolor/scalable/apps/$icon_id.svg"

# The menu entry points at the launcher by full path: ~/.local/bin may not be on PATH.
sed -e "s|^Exec=lossy-desktop|Exec=$bin/lossy-desktop|" -e "s|^TryExec=lossy-desktop|TryExec=$bin/lossy-desktop|" \
  "$here/lossy-desktop.desktop" > "$share/applications/lossy-desktop.desktop"
chmod 644 "$share/applications/lossy-desktop.desktop"
cp "$here/io.lossy.Desktop.metainfo.xml" "$share/metainfo/io.lossy.Desktop.metainfo.xml"

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$share/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$share/icons/hicolor" 2>/dev/null || true

echo "Installed. Start it from your applications menu or with: $bin/lossy-desktop"
case ":${PATH:-}:" in *":$bin:"*) ;; *) echo "(Add $bin to your PATH to run plain 'lossy-desktop'.)";; esac
echo "Check the installation with: $bin/lossy-desktop --self-test"
