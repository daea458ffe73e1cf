"""Item models: the notes table model and its filter proxy."""

from lossy_desktop.app.models.notes_model import (
    COLUMNS,
    NoteRole,
    NotesFilterProxy,
    NotesModel,
    StatusRole,
    status_key,
    status_label,
)

__all__ = [
    "COLUMNS",
    "NoteRole",
    "NotesFilterProxy",
    "NotesModel",
    "StatusRole",
    "status_key",
    "status_label",
]
