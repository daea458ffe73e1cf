"""Evidence of a failed posting attempt: a screenshot of the page and a .txt with its URL.

    path = await save_failure(page, artifacts_dir, note_id, reason="selector_failed: ...")

Files are named `note-<id>-<stamp>.png` / `.txt`; the worker links each to its note and
attempt in the database (core/notes.py: deleted with the note, pruned after
`artifact_retention_days`). A screenshot is a full-page picture of a logged-in page: both files
are created 0600 (only this user can read them), never readable for an instant. Saving never
raises: a page that is already gone gives only the .txt (and `None` when even that cannot be
written).
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lossy_desktop.core.logs import redact
from lossy_desktop.core.paths import write_private

if TYPE_CHECKING:
    from playwright.async_api import Page

log = logging.getLogger("lossy.automation")

SCREENSHOT_TIMEOUT_MS = 5_000


def _stem(artifacts_dir: Path, note_id: int) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = artifacts_dir / f"note-{note_id}-{stamp}"
    candidate, n = base, 1
    while candidate.with_suffix(".png").exists() or candidate.with_suffix(".txt").exists():
        n += 1
        candidate = artifacts_dir / f"{base.name}-{n}"
    return candidate


async def save_failure(
    page: Page | None, artifacts_dir: Path, note_id: int, *, reason: str = ""
) -> str | None:
    """Save a full-page screenshot (PNG) and a .txt with the page URL and the reason.

    Returns the PNG's path, or the .txt's when no screenshot could be taken, or None.
    """
    try:
        artifacts_dir.mkdir(parents=True, exist_ok=True)
        stem = _stem(artifacts_dir, note_id)
    except OSError as exc:
        log.warning("cannot create the artifacts folder %s: %s", artifacts_dir, exc)
        return None
    url = ""
    if page is not None:
        with contextlib.suppress(Exception):
            url = page.url
    png = stem.with_suffix(".png")
    shot_ok = False
    if page is not None:
        try:
            picture = await page.screenshot(full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
            write_private(png, picture, exclusive=True)
            shot_ok = True
        except Exception as exc:  # a closed page, a hung renderer: keep the .txt at least
            log.info("no screenshot for note %s: %s", note_id, redact(str(exc).splitlines()[0]))
    txt = stem.with_suffix(".txt")
    lines = [f"url: {redact(url)}", f"note: {note_id}", f"time: {time.strftime('%c')}"]
    if reason:
        lines.append(f"reason: {redact(reason)}")
    if shot_ok:
        lines.append(f"screenshot: {png.name}")
    try:
        write_private(txt, ("\n".join(lines) + "\n").encode("utf-8"), exclusive=True)
    except OSError as exc:
        log.warning("cannot write %s: %s", txt, exc)
        return str(png) if shot_ok else None
    return str(png) if shot_ok else str(txt)


def copy_failure(path: str | None, artifacts_dir: Path, note_id: int) -> str | None:
    """Copy an artifact (and its .txt) for another note of the same batch; never raises."""
    if not path:
        return None
    src = Path(path)
    try:
        stem = _stem(artifacts_dir, note_id)
        for suffix in (".png", ".txt"):
            if src.with_suffix(suffix).exists():
                data = src.with_suffix(suffix).read_bytes()
                write_private(stem.with_suffix(suffix), data, exclusive=True)
        target = stem.with_suffix(src.suffix)
        return str(target) if target.exists() else None
    except OSError as exc:
        log.warning("cannot copy the failure artifact for note %s: %s", note_id, exc)
        return None


def artifacts_for_note(artifacts_dir: Path, note_id: int) -> list[Path]:
    if not artifacts_dir.is_dir():
        return []
    return sorted(artifacts_dir.glob(f"note-{note_id}-*"))


def delete_for_note(artifacts_dir: Path, note_id: int) -> int:
    """Delete every artifact saved for a note (when the note is deleted). Returns how many."""
    removed = 0
    for path in artifacts_for_note(artifacts_dir, note_id):
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed
