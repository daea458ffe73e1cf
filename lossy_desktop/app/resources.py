"""Icons. The packaging engineer's files win when present (lossy_desktop/app/resources/ inside
the package, or resources/icons/ in a source checkout); otherwise icons are drawn with QPainter
so the app never shows a blank tray slot."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

TRAY_STATES = ("idle", "posting", "attention", "paused")

# Status chip colours (background, text) shared by the notes table, side panel and tray menu.
STATUS_COLORS: dict[str, tuple[str, str]] = {
    "ghost": ("#e6e8eb", "#3d4450"),
    "queued": ("#dbe9ff", "#1f4f99"),
    "held": ("#fff1d6", "#8a5a00"),
    "posting": ("#d9f2ff", "#005b85"),
    "posted": ("#dcf5e3", "#1d6b35"),
    "failed": ("#fde1e1", "#a61b1b"),
}

_BRAND = QColor("#3b5bdb")
_STATE_DOT = {
    "idle": None,
    "posting": QColor("#1c7ed6"),
    "attention": QColor("#e8590c"),
    "paused": QColor("#868e96"),
}


def _search_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    dirs = [here / "resources" / "icons", here.parents[1] / "resources" / "icons"]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        dirs.insert(0, Path(frozen) / "lossy_desktop" / "app" / "resources" / "icons")
    return dirs


def tray_theme() -> str:
    """ "any" (a blue bubble with a white rim: legible on light and dark panels) unless
    LOSSY_TRAY_THEME=light (a dark glyph) or LOSSY_TRAY_THEME=dark (a light glyph)."""
    chosen = os.environ.get("LOSSY_TRAY_THEME", "").lower()
    return chosen if chosen in ("light", "dark") else "any"


def find_icon_file(name: str) -> Path | None:
    """The first `name` (e.g. "tray-idle.png") found in the icon folders, or None."""
    for folder in _search_dirs():
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _draw_logo(size: int, state: str) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = size * 0.06
    rect = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    path = QPainterPath()
    path.addRoundedRect(rect, size * 0.22, size * 0.22)
    base = QColor("#5c6370") if state == "paused" else _BRAND
    painter.fillPath(path, QBrush(base))
    # A speech-bubble "L": the app posts comments.
    painter.setPen(QPen(QColor("white")))
    font = QFont("DejaVu Sans")
    font.setBold(True)
    font.setPixelSize(int(size * 0.58))
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "L")
    dot = _STATE_DOT.get(state)
    if dot is not None:
        radius = size * 0.2
        center_x, center_y = size - radius - margin * 0.5, size - radius - margin * 0.5
        painter.setPen(QPen(QColor("white"), max(1.0, size * 0.05)))
        painter.setBrush(QBrush(dot))
        painter.drawEllipse(QRectF(center_x - radius, center_y - radius, 2 * radius, 2 * radius))
        if state == "attention":
            painter.setPen(QPen(QColor("white")))
            mark = QFont(font)
            mark.setPixelSize(int(radius * 1.6))
            painter.setFont(mark)
            painter.drawText(
                QRectF(center_x - radius, center_y - radius, 2 * radius, 2 * radius),
                Qt.AlignmentFlag.AlignCenter,
                "!",
            )
    painter.end()
    return pixmap


@cache
def tray_icon(state: str) -> QIcon:
    """The tray icon for idle / posting / attention / paused."""
    if state not in TRAY_STATES:
        raise ValueError(f"unknown tray state {state!r}")
    file_state = "idle" if state == "paused" else state
    found = find_icon_file(f"tray-{file_state}-{tray_theme()}.png") or find_icon_file(
        f"tray-{file_state}.png"
    )
    if found is not None:
        if state != "paused":
            return QIcon(str(found))
        faded = QPixmap(str(found))
        out = QPixmap(faded.size())
        out.fill(Qt.GlobalColor.transparent)
        painter = QPainter(out)
        painter.setOpacity(0.45)
        painter.drawPixmap(0, 0, faded)
        painter.end()
        return QIcon(out)
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        icon.addPixmap(_draw_logo(size, state))
    return icon


@cache
def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        found = find_icon_file(f"app-{size}.png")
        if found is not None:
            icon.addFile(str(found))
    if not icon.isNull():
        return icon
    for size in (16, 32, 48, 64, 128, 256):
        icon.addPixmap(_draw_logo(size, "idle"))
    return icon
