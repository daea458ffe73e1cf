"""Notes as CSV: the file `lossy-desktop notes export` and the app's File ▸ Export write (one
code path), which `notes import` reads back."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from lossy_desktop.core.clock import format_timecode
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.notes import NoteView

# The export's columns: every NoteView field, then the derived ones (import reads it back).
EXPORT_COLUMNS: tuple[str, ...] = (
    *NoteView.__dataclass_fields__,
    "timecode",
    "queued",
    "held",
    "state",
)


def export_csv(views: list[NoteView], path: Path) -> None:
    """Write notes as CSV (UTF-8, header row, every field), atomically."""
    path = path.expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValidationError("file", f"no folder {folder}")
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(EXPORT_COLUMNS)
            for view in views:
                row = view.to_dict()
                row["timecode"] = format_timecode(view.timestamp_seconds)
                writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise ValidationError("file", f"can't write {path}: {error.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
