"""Failure artifacts: files named per note, a .txt with the URL, never raising, deleted per note."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lossy_desktop.automation.artifacts import (
    artifacts_for_note,
    copy_failure,
    delete_for_note,
    save_failure,
)


class _ClosedPage:
    """A page whose browser went away: screenshots fail."""

    url = "http://127.0.0.1:9/youtube/watch?v=abc"

    async def screenshot(self, **kwargs: object) -> bytes:
        raise RuntimeError("Target page, context or browser has been closed")


def test_without_a_screenshot_the_txt_keeps_the_url_and_reason(tmp_path: Path) -> None:
    path = asyncio.run(
        save_failure(_ClosedPage(), tmp_path / "a", 7, reason="selector_failed: no box")  # type: ignore[arg-type]
    )
    assert path is not None and path.endswith(".txt")
    text = Path(path).read_text()
    assert "url: http://127.0.0.1:9/youtube/watch?v=abc" in text
    assert "reason: selector_failed: no box" in text
    assert Path(path).name.startswith("note-7-")


def test_secrets_in_reasons_are_redacted(tmp_path: Path) -> None:
    path = asyncio.run(
        save_failure(None, tmp_path, 1, reason="ws://x/devtools?signingKey=supersecret123")
    )
    assert path is not None
    assert "supersecret123" not in Path(path).read_text()


def test_copy_and_delete_per_note(tmp_path: Path) -> None:
    first = asyncio.run(save_failure(None, tmp_path, 1, reason="a"))
    second = asyncio.run(save_failure(None, tmp_path, 1, reason="b"))
    assert first != second  # never overwritten
    copied = copy_failure(first, tmp_path, 12)
    assert copied is not None and Path(copied).name.startswith("note-12-")
    assert len(artifacts_for_note(tmp_path, 1)) == 2
    assert len(artifacts_for_note(tmp_path, 12)) == 1  # note-1-* does not catch note-12-*
    assert delete_for_note(tmp_path, 1) == 2
    assert artifacts_for_note(tmp_path, 1) == []
    assert len(artifacts_for_note(tmp_path, 12)) == 1


def test_unwritable_folder_gives_none(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert asyncio.run(save_failure(None, blocker / "sub", 3)) is None
    assert copy_failure(None, tmp_path, 3) is None
