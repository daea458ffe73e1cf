"""Bad input: property tests (hypothesis) over the note validator, the three import formats and
the recorder intake endpoint. Random and huge text, unicode, control characters, NaN / negative
/ huge timestamps, odd URLs (javascript:, file:, data:, other hosts). Never a crash, never a
half-written row, always an error naming the field.

Examples per property: 60 in CI, 1,000 with LOSSY_RELIABILITY_FULL=1."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from reliability_helpers import EXAMPLES, report

from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.importer import ImportRefused, import_file
from lossy_desktop.core.notes import MAX_DURATION, NOTE_FIELDS, validate_note
from lossy_desktop.services import Services

PROFILE: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}
VALID = {
    "external_id": "rec-1",
    "platform": "youtube",
    "video_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "video_title": "A video",
    "video_duration": 3600,
    "timestamp_seconds": 83,
    "text": "The cut at 1:23 is too abrupt",
    "category": "edit",
    "confidence": 0.9,
    "transcript": "and then the cut",
}
GOOD_URLS = {
    "youtube": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "vimeo": "https://vimeo.com/76979871",
    "air": "https://app.air.inc/lossy/c/abc123",
}
ODD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "file:///etc/passwd",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.example.com/watch?v=dQw4w9WgXcQ",
    "https://www.youtube.com.evil.example/watch?v=x",
    "https://user:pass@www.youtube.com/watch?v=x",
    "http://127.0.0.1:8080/admin",
    "ftp://vimeo.com/1",
    "//vimeo.com/1",
    "https://",
    "vimeo.com/1",
    "https://www.youtube.com/watch?v=" + "x" * 3000,
    "https://www.you\u200btube.com/watch?v=x",
    "https://xn--youtube-9za.com/watch?v=x",
    "\x00https://vimeo.com/1",
]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, -(10**400), 2**63, -1, -0.0, 1e308, 5e-324, MAX_DURATION + 1]),
    st.sampled_from(["NaN", "nan", "inf", "-inf", "1e999", "-5", "0x10", "1_000", "١٢", " 7 "]),
    st.sampled_from(["99999999999999999999:00:00", "1:60", "1:59:59.5", "-1:00", "::", "1::1"]),
)
TEXTS = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(
        ["", " ", "\x00", "a\x07b", "line\nbreak", "tab\there", "\u202eevil", "🎬" * 5]
    ),
    st.builds(lambda n, ch: ch * n, st.integers(0, 120_000), st.sampled_from(["a", "é", "🎬"])),
)
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    TEXTS,
    st.sampled_from(ODD_URLS),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
# Fields whose value can make a related field's check fail instead.
RELATED = {
    "platform": {"platform", "video_url", "text"},
    "video_url": {"video_url", "platform"},
    "video_duration": {"video_duration", "timestamp_seconds"},
    "timestamp_seconds": {"timestamp_seconds"},
}


def _check_accepted(note: Any) -> None:
    """What the validator lets through is sane."""
    assert note.platform in GOOD_URLS
    assert note.video_url.startswith("https://")
    assert math.isfinite(note.timestamp_seconds) and 0 <= note.timestamp_seconds <= MAX_DURATION
    assert math.isfinite(note.confidence) and 0 <= note.confidence <= 1
    assert note.text.strip() and "\x00" not in note.text


@pytest.fixture(scope="module")
def module_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with Services.open(tmp_path_factory.mktemp("bad-input") / "data") as services:
        yield services


# -- the validator -----------------------------------------------------------------------------
@settings(max_examples=EXAMPLES * 3, **PROFILE)
@given(field=st.sampled_from(NOTE_FIELDS), value=ODD_VALUES)
@example(field="timestamp_seconds", value=10**400)  # float(int) overflowed: a crash, fixed
@example(field="confidence", value="9" * 100_000)
@example(field="video_url", value="javascript:alert(1)")
def test_validator_names_the_bad_field(module_services: Services, field: str, value: Any) -> None:
    fields = {**VALID, field: value}
    try:
        note = validate_note(fields, module_services.settings)
    except ValidationError as error:
        assert error.field in RELATED.get(field, {field}), (field, value, error)
        assert error.field in str(error)
        return
    _check_accepted(note)


@settings(max_examples=EXAMPLES * 3, **PROFILE)
@given(fields=st.dictionaries(st.sampled_from([*NOTE_FIELDS, "junk", ""]), ODD_VALUES))
def test_validator_never_crashes_on_any_mapping(module_services: Services, fields: dict) -> None:
    try:
        note = validate_note(fields, module_services.settings)
    except ValidationError as error:
        assert error.field in (*NOTE_FIELDS, "note")
        return
    _check_accepted(note)


@settings(max_examples=EXAMPLES, **PROFILE)
@given(value=st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.none())))
def test_validator_refuses_what_is_not_a_mapping(module_services: Services, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        validate_note(value, module_services.settings)  # type: ignore[arg-type]
    assert info.value.field == "note"


# -- the import formats ------------------------------------------------------------------------
def _row(draw_value: Any, field: str | None) -> dict[str, Any]:
    row = dict(VALID)
    row["external_id"] = f"imp-{time.monotonic_ns()}"
    if field is not None:
        row[field] = draw_value
    return row


def _write(path: Path, fmt: str, rows: list[dict[str, Any]]) -> None:
    if fmt == "json":
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
        )
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(NOTE_FIELDS), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        path.write_text(out.getvalue(), encoding="utf-8", newline="")


IMPORT_STATS: dict[str, int] = {
    "files": 0,
    "refused": 0,
    "unreadable": 0,
    "imported": 0,
    "rows": 0,
}


@settings(max_examples=EXAMPLES * 2, **PROFILE)
@given(
    fmt=st.sampled_from(["json", "jsonl", "csv"]),
    rows=st.lists(
        st.tuples(st.one_of(st.none(), st.sampled_from(NOTE_FIELDS)), ODD_VALUES),
        min_size=1,
        max_size=6,
    ),
)
def test_import_is_all_or_nothing_and_names_line_and_field(
    module_services: Services, tmp_path_factory: pytest.TempPathFactory, fmt: str, rows: list
) -> None:
    services = module_services
    records = [_row(value, field) for field, value in rows]
    if fmt == "csv":  # a CSV cell is text: values that have no text form stay out
        records = [
            {k: v for k, v in r.items() if isinstance(v, str | int | float | type(None))}
            for r in records
        ]
    path = tmp_path_factory.mktemp("imp") / f"notes.{fmt}"
    try:
        _write(path, fmt, records)
        representable = True
    except (UnicodeEncodeError, ValueError):
        representable = False  # lone surrogates: no file can hold them
    assume(representable)  # hypothesis draws another example instead of passing this one
    before = services.notes.count()
    IMPORT_STATS["files"] += 1
    try:
        result = import_file(services.notes, path)
    except ImportRefused as refused:
        IMPORT_STATS["refused"] += 1
        assert services.notes.count() == before  # nothing half-written
        assert refused.errors
        for error in refused.errors:
            assert error.field in (*NOTE_FIELDS, "note", "file", "header", "json", "csv"), error
            assert error.line is not None and error.line >= 1
        return
    except ValidationError as error:  # the file as a whole can't be read
        IMPORT_STATS["unreadable"] += 1
        assert services.notes.count() == before
        assert error.field
        return
    IMPORT_STATS["imported"] += 1
    IMPORT_STATS["rows"] += len(result.created)
    assert services.notes.count() == before + len(result.created)
    for view in result.created:
        _check_accepted(view)


@settings(max_examples=EXAMPLES, **PROFILE)
@given(blob=st.one_of(st.binary(max_size=2000), st.text(max_size=2000)))
def test_import_of_garbage_files_is_refused_cleanly(
    module_services: Services, tmp_path_factory: pytest.TempPathFactory, blob: Any
) -> None:
    services = module_services
    if isinstance(blob, str):
        try:
            data = blob.encode("utf-8")
        except UnicodeEncodeError:
            data = None  # lone surrogates: no file can hold them
        assume(data is not None)
    else:
        data = blob
    assert data is not None
    for suffix in (".json", ".jsonl", ".csv", ".txt"):
        path = tmp_path_factory.mktemp("junk") / f"junk{suffix}"
        path.write_bytes(data)
        before = services.notes.count()
        try:
            result = import_file(services.notes, path)
        except (ImportRefused, ValidationError) as error:
            assert str(error)
            assert services.notes.count() == before
        else:  # garbage that happens to be a valid notes file: every row it added is sound
            assert services.notes.count() == before + len(result.created)
            for view in result.created:
                _check_accepted(view)


# -- the intake endpoint -----------------------------------------------------------------------
TOKEN = "reliability-intake-token-0123456789"


class IntakeThread:
    """The real IntakeServer on its own loop thread, for sync hypothesis examples."""

    def __init__(self, services: Services) -> None:
        from lossy_desktop.app.intake import IntakeServer

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = IntakeServer(services, token=lambda: TOKEN, rate_limit=10**6)
        self.port = self._call(self.server.start(0))
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def close(self) -> None:
        self.client.close()
        self._call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def intake(module_services: Services) -> Iterator[IntakeThread]:
    server = IntakeThread(module_services)
    yield server
    server.close()


INTAKE_STATUS: dict[int, int] = {}


def _post(intake: IntakeThread, content: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    response = intake.client.post("/v1/notes", content=content, headers=headers)
    INTAKE_STATUS[response.status_code] = INTAKE_STATUS.get(response.status_code, 0) + 1
    return response


def _check_intake(services: Services, response: httpx.Response, before: int) -> None:
    assert response.status_code in (200, 201, 400, 413, 415, 422), response.text
    body = response.json()
    assert TOKEN not in response.text
    if response.status_code in (200, 201):
        assert services.notes.count() == before + len(body["created"])
    else:
        assert services.notes.count() == before  # nothing half-written
        assert body["error"]
    if response.status_code == 422:
        assert body["field"] in (*NOTE_FIELDS, "note", "notes"), body
        assert body["field"] in body["error"]


@settings(max_examples=EXAMPLES * 2, **PROFILE)
@given(
    notes=st.lists(
        st.tuples(st.one_of(st.none(), st.sampled_from(NOTE_FIELDS)), ODD_VALUES),
        min_size=1,
        max_size=5,
    )
)
def test_intake_answers_every_batch_with_a_clear_status(
    module_services: Services, intake: IntakeThread, notes: list
) -> None:
    records = [_row(value, field) for field, value in notes]
    try:
        content = json.dumps(records, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        content = json.dumps(records, ensure_ascii=True).encode("ascii")
    before = module_services.notes.count()
    response = _post(intake, content)
    _check_intake(module_services, response, before)
    bad = [i for i, (field, _v) in enumerate(notes) if field is not None]
    if response.status_code == 422 and response.json().get("index") is not None:
        assert response.json()["index"] in bad


@settings(max_examples=EXAMPLES * 2, **PROFILE)
@given(
    content=st.one_of(
        st.binary(max_size=3000),
        st.text(max_size=3000).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=30)),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
        st.sampled_from(
            [
                b"1" * 5000,  # an integer beyond Python's 4300-digit conversion limit
                b'{"timestamp_seconds": ' + b"9" * 400 + b"}",
                b"[" * 100_000,  # deep nesting
                b'{"a": NaN}',
                b"\xef\xbb\xbf[]",
                b"x" * 1_100_000,  # over the body limit
            ]
        ),
    )
)
@example(content=b"1" * 5000)  # json.loads raised ValueError (4300-digit limit): a 500, fixed
@example(content=b"[" * 100_000)  # RecursionError: a 500, fixed
@example(content=b'{"timestamp_seconds": ' + b"9" * 400 + b"}")
def test_intake_survives_any_body(
    module_services: Services, intake: IntakeThread, content: bytes
) -> None:
    before = module_services.notes.count()
    response = _post(intake, content)
    _check_intake(module_services, response, before)


def test_report_bad_input_figures(tmp_path: Path) -> None:
    """Writes the figures the properties above gathered (runs after them in file order)."""
    if not INTAKE_STATUS and not IMPORT_STATS["files"]:
        pytest.skip("the property tests did not run in this session")
    report(
        "bad_input",
        {"examples_per_property_base": EXAMPLES, "import": IMPORT_STATS,
         "intake_statuses": {str(k): v for k, v in sorted(INTAKE_STATUS.items())}},
        tmp_path,
    )  # fmt: skip
    stats = IMPORT_STATS
    # Every file ended one way; the properties reached both outcomes (else they prove little).
    assert stats["files"] == stats["refused"] + stats["unreadable"] + stats["imported"], stats
    assert stats["refused"] > 0 and stats["imported"] > 0, stats
    assert stats["rows"] >= stats["imported"], stats
    # The intake answered only the documented statuses, never a 5xx; good and bad bodies both
    # came through.
    assert set(INTAKE_STATUS) <= {200, 201, 400, 413, 415, 422}, INTAKE_STATUS
    assert INTAKE_STATUS.get(201, 0) > 0 and INTAKE_STATUS.get(422, 0) > 0, INTAKE_STATUS
    written = json.loads((tmp_path / "reliability-bad_input.json").read_text(encoding="utf-8"))
    assert written["import"] == stats
