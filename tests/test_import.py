"""Import: three formats, every bad line named, all-or-nothing, --skip-invalid, no duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.importer import ImportRefused, import_file, parse_file
from lossy_desktop.services import Services

DATA = Path(__file__).parent / "data"
YT = "https://www.youtube.com/watch?v=abcdefghijk"
HEADER = (
    "external_id,platform,video_url,video_title,video_duration,timestamp_seconds,text,"
    "category,confidence,transcript\n"
)


def lines_of(error: ImportRefused) -> list[int | None]:
    return [e.line for e in error.errors]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("sample_notes.csv", "csv"), ("sample_notes.json", "json"), ("sample_notes.jsonl", "jsonl")],
)
def test_samples_import_and_reimport_adds_nothing(fake_services: Services, name: str, fmt: str):
    preview = parse_file(DATA / name, fake_services.settings)
    assert preview.format == fmt and preview.errors == []
    assert [line for line, _ in preview.rows] == (
        [2, 3, 4, 5] if fmt == "csv" else [2, 14, 26, 38] if fmt == "json" else [1, 2, 3, 4]
    )
    report = import_file(fake_services.notes, DATA / name)
    assert len(report.created) == 4 and report.queued == 2  # confidence 0.92 and 0.81
    assert {v.platform for v in report.created} == {"youtube", "vimeo", "air"}
    air = next(v for v in report.created if v.platform == "air")
    assert air.text == "0:42 Consider a shorter cut\n(two lines: the second is fine)"
    again = import_file(fake_services.notes, DATA / name)
    assert again.created == [] and len(again.duplicates) == 4
    assert fake_services.notes.count() == 4


def test_csv_bad_rows_write_nothing_and_every_line_is_named(fake_services: Services, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        HEADER
        + f'a,youtube,{YT},,,10,"first line\nsecond line",,0.9,\n'  # lines 2-3: good
        + f"b,youtube,{YT},,,-4,negative time,,0.9,\n"  # line 4: timestamp
        + "\n"  # line 5: blank, skipped
        + "c,youtube,https://evil.example/v,,,1,wrong host,,0.9,\n"  # line 6: url
        + f'd,youtube,{YT},,,2,"",,0.5,\n'  # line 7: text
        + f"e,youtube,{YT},,,3,fine,,2,\n"  # line 8: confidence
        + f"f,youtube,{YT},,,4,fine too,,0.1,\n",  # line 9: good
        encoding="utf-8",
    )
    with pytest.raises(ImportRefused) as info:
        import_file(fake_services.notes, path)
    assert lines_of(info.value) == [4, 6, 7, 8]
    assert [e.field for e in info.value.errors] == [
        "timestamp_seconds",
        "video_url",
        "text",
        "confidence",
    ]
    message = str(info.value)
    for line in (4, 6, 7, 8):
        assert f"line {line}:" in message
    assert fake_services.notes.count() == 0
    assert fake_services.notes.videos() == []
    assert fake_services.queue.counts().get("available", 0) == 0

    report = import_file(fake_services.notes, path, skip_invalid=True)
    assert [v.external_id for v in report.created] == ["a", "f"]
    assert [e.line for e in report.invalid] == [4, 6, 7, 8]


def test_json_array_lines_are_where_each_object_starts(fake_services: Services, tmp_path):
    good = {"platform": "youtube", "video_url": YT, "timestamp_seconds": 1, "text": "ok"}
    path = tmp_path / "notes.json"
    path.write_text(
        "[\n"
        + json.dumps(good)
        + ",\n"  # line 2
        + json.dumps({**good, "text": "late", "timestamp_seconds": 99, "video_duration": 50})
        + ",\n"  # line 3
        + json.dumps({**good, "text": "x", "confidence": -1}, indent=2)  # lines 4-10
        + ",\n"
        + '  "just a string",\n'  # line 11
        + json.dumps({**good, "text": "fine"})  # line 12
        + "\n]\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRefused) as info:
        import_file(fake_services.notes, path)
    assert lines_of(info.value) == [3, 4, 11]
    assert [e.field for e in info.value.errors] == ["timestamp_seconds", "confidence", "note"]
    assert fake_services.notes.count() == 0
    report = import_file(fake_services.notes, path, skip_invalid=True)
    assert [v.text for v in report.created] == ["ok", "fine"]


def test_jsonl_bad_lines(fake_services: Services, tmp_path):
    good = {"platform": "vimeo", "video_url": "https://vimeo.com/42", "timestamp_seconds": "0:05"}
    path = tmp_path / "notes.jsonl"
    path.write_text(
        json.dumps({**good, "text": "one"})
        + "\n\n"  # line 2 blank
        + "{not json\n"  # line 3
        + json.dumps({**good, "text": "two", "platform": "tiktok"})  # line 4
        + "\n[1, 2]\n"  # line 5
        + json.dumps({**good, "text": "three"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRefused) as info:
        import_file(fake_services.notes, path)
    assert lines_of(info.value) == [3, 4, 5]
    assert [e.field for e in info.value.errors] == ["note", "platform", "note"]
    report = import_file(fake_services.notes, path, skip_invalid=True)
    assert [(v.text, v.timestamp_seconds) for v in report.created] == [("one", 5), ("three", 5)]


def test_rows_without_external_id_are_deduplicated_by_content(fake_services: Services, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        "platform,video_url,timestamp_seconds,text\n"
        f"youtube,{YT},10,same\n"
        f"youtube,{YT},10,same\n"  # the same note twice in one file
        f"youtube,{YT},11,same\n",  # another moment: a different note
        encoding="utf-8",
    )
    first = import_file(fake_services.notes, path)
    assert len(first.created) == 2 and first.duplicates == [3]
    second = import_file(fake_services.notes, path)
    assert second.created == [] and second.duplicates == [2, 3, 4]
    assert fake_services.notes.count() == 2


def test_same_external_id_twice_in_a_file_is_a_duplicate(fake_services: Services, tmp_path):
    path = tmp_path / "n.jsonl"
    row = {"external_id": "r1", "video_url": YT, "timestamp_seconds": 3, "text": "a"}
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "text": "b"}) + "\n")
    report = import_file(fake_services.notes, path)
    assert [v.text for v in report.created] == ["a"] and report.duplicates == [2]


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        (b"", 1, "has no notes"),
        (b"[]", 1, "has no notes"),
        (b'[\n{"text": 1},\n{oops}\n]', 3, "invalid JSON"),
        (b"[\n{}\n", 3, "invalid JSON"),
        (b"text,timestamp_seconds\nhello,1\n", 1, "header"),
        (b"video_url,timestamp_seconds,text,text\n", 1, "repeats text"),
        (b"video_url,timestamp_seconds,text\n" + "caf\xe9".encode("latin-1"), 2, "UTF-8"),
    ],
)
def test_broken_files_are_explained(fake_services: Services, tmp_path, content, line, needle):
    path = tmp_path / "broken.csv"
    if content.startswith(b"["):
        path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises((ImportRefused, ValidationError)) as info:
        import_file(fake_services.notes, path)
    assert needle in str(info.value)
    errors = info.value.errors if isinstance(info.value, ImportRefused) else [info.value]
    assert errors[-1].line == line
    assert fake_services.notes.count() == 0


def test_missing_file(fake_services: Services, tmp_path):
    with pytest.raises(ValidationError, match="no file at"):
        import_file(fake_services.notes, tmp_path / "nope.csv")


def test_csv_with_bom_and_extra_columns_from_an_export(fake_services: Services, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "\ufeffid,status,platform,video_url,timestamp_seconds,text\n"
        f"7,posted,youtube,{YT},1.5,from an export\n",
        encoding="utf-8",
    )
    report = import_file(fake_services.notes, path)
    assert [(v.text, v.status) for v in report.created] == [("from an export", "ghost")]


def test_concurrent_imports_of_one_file_add_each_note_once(fake_services: Services, tmp_path):
    import threading

    path = tmp_path / "n.csv"
    path.write_text(
        "platform,video_url,timestamp_seconds,text\n"
        + "".join(f"youtube,{YT},{i},note {i}\n" for i in range(50)),
        encoding="utf-8",
    )
    reports = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(import_file(fake_services.notes, path))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(len(r.created) for r in reports) == [0, 0, 50]
    assert fake_services.notes.count() == 50


def test_a_video_url_keeps_its_platform(fake_services: Services):
    from dataclasses import replace

    notes = fake_services.notes
    note = notes.validate({"video_url": YT, "timestamp_seconds": 1, "text": "a"})
    notes.create(note)
    # validate_note can't produce this (the hosts differ); the service refuses it anyway
    with pytest.raises(ValidationError) as info:
        notes.create(replace(note, platform="vimeo", text="b"))
    assert info.value.field == "platform"
