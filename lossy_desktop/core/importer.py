"""Import notes from a file: a JSON array, JSON Lines, or CSV with a header row.

    preview = parse_file(path, settings)      # every row validated; nothing written
    report = import_file(service, path)       # all or nothing, unless skip_invalid=True

Every bad row is reported with the line it starts on (a JSON array: the line of the object's
opening brace; CSV: the record's first line, so quoted multi-line cells count right). The format
is told by the content (`[` JSON array, `{` JSON Lines), else by the extension, else CSV.
Importing the same file twice adds nothing the second time (see NoteService.import_many).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossy_desktop.core.errors import LossyError, ValidationError
from lossy_desktop.core.notes import NOTE_FIELDS, NoteInput, NoteView, validate_note

if TYPE_CHECKING:
    from lossy_desktop.core.notes import NoteService
    from lossy_desktop.core.settings import Settings

log = logging.getLogger("lossy.core")

MAX_FILE_BYTES = 200 * 1024 * 1024
FORMATS = ("json", "jsonl", "csv")


class ImportRefused(LossyError):
    """The file has bad rows and nothing was imported. `errors` lists every one."""

    exit_code = 2

    def __init__(self, path: Path, errors: list[ValidationError]) -> None:
        self.path = path
        self.errors = errors
        lines = "\n".join(f"  {e}" for e in errors)
        super().__init__(
            f"{path.name}: {len(errors)} bad row(s); nothing was imported "
            f"(use --skip-invalid to import the good ones):\n{lines}"
        )


@dataclass(frozen=True)
class ImportPreview:
    path: Path
    format: str
    rows: list[tuple[int, NoteInput]]
    errors: list[ValidationError]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportReport:
    path: Path
    format: str
    created: list[NoteView] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)  # line numbers
    invalid: list[ValidationError] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return sum(1 for v in self.created if v.queued)

    def summary(self) -> str:
        parts = [
            f"{len(self.created)} note(s) imported ({self.queued} queued for posting)",
            f"{len(self.duplicates)} duplicate(s) skipped",
            f"{len(self.invalid)} invalid row(s) skipped",
        ]
        return f"{self.path.name}: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "format": self.format,
            "created": [v.id for v in self.created],
            "queued": self.queued,
            "duplicate_lines": self.duplicates,
            "invalid": [
                {"line": e.line, "field": e.field, "message": e.message} for e in self.invalid
            ],
        }


# ----------------------------------------------------------------------------------------------
# Reading the formats: each yields (line, record) or (line, ValidationError)
# ----------------------------------------------------------------------------------------------
Record = tuple[int, dict[str, Any] | ValidationError]


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _skip_ws(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _read_json_array(text: str) -> Iterator[Record]:
    decoder = json.JSONDecoder()
    index = _skip_ws(text, 0)
    if index >= len(text) or text[index] != "[":
        raise ValidationError("file", "a JSON file must hold an array of notes", 1)
    index = _skip_ws(text, index + 1)
    if index < len(text) and text[index] == "]":
        return
    while True:
        line = _line_of(text, index)
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as error:
            raise ValidationError("file", f"invalid JSON: {error.msg}", error.lineno) from None
        if isinstance(value, dict):
            yield line, value
        else:
            yield line, ValidationError("note", "must be a JSON object", line)
        index = _skip_ws(text, end)
        if index < len(text) and text[index] == ",":
            index = _skip_ws(text, index + 1)
            continue
        if index < len(text) and text[index] == "]":
            rest = _skip_ws(text, index + 1)
            if rest < len(text):
                raise ValidationError(
                    "file", "text after the end of the array", _line_of(text, rest)
                )
            return
        raise ValidationError(
            "file", "invalid JSON: expected ',' or ']'", _line_of(text, min(index, len(text)))
        )


def _read_json_lines(text: str) -> Iterator[Record]:
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as error:
            yield number, ValidationError("note", f"invalid JSON: {error.msg}", number)
            continue
        if isinstance(value, dict):
            yield number, value
        else:
            yield number, ValidationError("note", "must be a JSON object", number)


def _read_csv(text: str) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise ValidationError("file", f"invalid CSV: {error}", 1) from None
    names = [h.strip().lower() for h in header]
    if "text" not in names or "timestamp_seconds" not in names or "video_url" not in names:
        raise ValidationError(
            "file",
            "the first line must be a header naming the columns (at least video_url, "
            f"timestamp_seconds, text; all: {', '.join(NOTE_FIELDS)})",
            1,
        )
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise ValidationError("file", f"the header repeats {', '.join(dupes)}", 1)
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValidationError("file", f"invalid CSV: {error}", start) from None
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            yield (
                start,
                ValidationError(
                    "row", f"has {len(row)} cells but the header has {len(names)}", start
                ),
            )
            continue
        yield start, {name: cell for name, cell in zip(names, row, strict=False) if name}


def detect_format(path: Path, text: str) -> str:
    first = text.lstrip()[:1]
    if first == "[":
        return "json"
    if first == "{":
        return "jsonl"
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "csv"


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValidationError("file", f"no file at {path}") from None
    except OSError as error:
        raise ValidationError("file", f"can't read {path}: {error.strerror}") from None
    if not path.is_file():
        raise ValidationError("file", f"{path} is not a file")
    if size > MAX_FILE_BYTES:
        raise ValidationError("file", f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValidationError("file", f"can't read {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValidationError("file", "is not UTF-8 text", line) from None


def parse_file(path: str | Path, settings: Settings) -> ImportPreview:
    """Read and validate every row. A file that can't be read at all raises ValidationError."""
    path = Path(path)
    text = _read_text(path)
    fmt = detect_format(path, text)
    reader = {"json": _read_json_array, "jsonl": _read_json_lines, "csv": _read_csv}[fmt]
    rows: list[tuple[int, NoteInput]] = []
    errors: list[ValidationError] = []
    try:
        for line, record in reader(text):
            if isinstance(record, ValidationError):
                errors.append(record)
                continue
            try:
                rows.append((line, validate_note(record, settings, line=line)))
            except ValidationError as error:
                errors.append(error)
    except ValidationError as error:
        # The file's structure is broken from here on: report it with the rows so far.
        errors.append(error)
    if not rows and not errors:
        errors.append(ValidationError("file", "has no notes", 1))
    return ImportPreview(path=path, format=fmt, rows=rows, errors=errors)


def import_file(
    service: NoteService, path: str | Path, *, skip_invalid: bool = False
) -> ImportReport:
    """Validate the whole file, then store its notes in one transaction.

    Any bad row refuses the file (ImportRefused lists every bad line) unless `skip_invalid`.
    Rows already imported (same external id, or same platform+URL+timestamp+text) are skipped.
    """
    preview = parse_file(path, service.settings)
    if preview.errors and not skip_invalid:
        raise ImportRefused(preview.path, preview.errors)
    results = service.import_many([note for _line, note in preview.rows])
    created = [view for view in results if view is not None]
    duplicates = [
        line for (line, _n), view in zip(preview.rows, results, strict=True) if view is None
    ]
    report = ImportReport(
        path=preview.path,
        format=preview.format,
        created=created,
        duplicates=duplicates,
        invalid=preview.errors,
    )
    log.info("import %s: %s", preview.path.name, report.summary())
    return report
