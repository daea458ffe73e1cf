#!/bin/sh
# Removes what install.sh put in place. Your notes and settings (~/.local/share/lossy-desktop)
# and the secrets in your keyring are kept; pass --purge to delete the data folder too.
set -eu

home=${HOME:?HOME is not set}
opt="$home/.local/opt/lossy-desktop"
bin="$home/.local/bin"
share=${XDG_DATA_HOME:-$home/.local/share}
icon_id=io.lossy.Desktop

# Only remove the launcher if it is ours (a link into the installed app).
if [ -L "$bin/lossy-desktop" ] && [ "$(readlink "$bin/lossy-desktop")" = "$opt/lossy-desktop" ]; then
  rm -f "$bin/lossy-desktop"
fi
rm -f "$share/applications/lossy-desktop.desktop" "$share/metainfo/io.lossy.Desktop.metainfo.xml"
for icon in "$share"/icons/hicolor/*/apps/"$icon_id".png "$share"/icons/hicolor/scalable/apps/"$icon_id".svg; do
  [ -e "$icon" ] && rm -f "$icon"
done
rm -rf "$opt" "$opt.new" "$opt.old"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$share/applications" 2>/dev/null || true

if [ "${1:-}" = "--purge" ]; then
  rm -rf "$share/lossy-desktop"
  echo "Lossy Desktop and its data folder removed."
else
  echo "Lossy Desktop removed. Your notes are still in $share/lossy-desktop (uninstall.sh --purge deletes them)."
fi
