"""`lossy-desktop probe` and the pages that stop automation, against the sandbox in a real
headless Chromium (local provider, the connection's own profile), end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures import connect_on_sandbox

from lossy_desktop.automation.agents import Timeouts
from lossy_desktop.automation.agents.base import CHALLENGE_WHAT
from lossy_desktop.automation.errors import AutomationError
from lossy_desktop.cli import main
from lossy_desktop.core.notes import validate_note
from lossy_desktop.workers import build_runner
from lossy_desktop.workers.keep_alive import KeepAliveWorker
from lossy_desktop.workers.scheduling import note_key

pytestmark = pytest.mark.browser

ACCOUNT = "Reviewer One"


def probe(services, capsys, *args: str) -> tuple[int, str]:
    code = main(["--data-dir", str(services.data.root), "probe", *args])
    return code, capsys.readouterr().out


def probe_json(services, capsys, *args: str) -> tuple[int, dict[str, Any]]:
    code, out = probe(services, capsys, *args, "--json")
    return code, json.loads(out)


# A challenge page never shows the login signs or the comment box the agent waits for: those
# tests are about what the app makes of the page, not how long it waits before looking.
SHORT_WAITS = Timeouts(element_s=3.0)


def run_queue(services, engine, timeouts: Timeouts | None = None) -> None:
    runner = build_runner(services, engine, timeouts=timeouts)
    try:
        runner.run_until_idle(timeout=180)
    finally:
        runner.stop()


def groups(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["group"]: g for g in report["groups"]}


def test_probe_of_a_logged_in_video_finds_everything_and_posts_nothing(
    on_sandbox, sandbox, engine, capsys
) -> None:
    connect_on_sandbox(on_sandbox, engine, sandbox, "youtube")
    sandbox.add_comment("youtube", "vid1", "0:05 — someone else's note")
    code, out = probe(on_sandbox, capsys, "youtube", sandbox.video_url("youtube", "vid1"))
    assert code == 0, out
    assert f"logged in as {ACCOUNT}" in out
    assert "comments:   open" in out
    assert "the shipped table" in out
    assert "MISSING" not in out
    for line in (
        "ok       editor             [needed] #1 css=ytd-comment-simplebox-renderer "
        "#contenteditable-root",
        "ok       placeholder        [needed] #1 css=ytd-comment-simplebox-renderer "
        "#placeholder-area",
        "ok       comment_link       [comments] #1 css=#published-time-text a",
        "absent   consent_screen     [sign]",
    ):
        assert line in out
    shot = out.split("screenshot: ")[1].split("\n")[0]
    assert Path(shot).is_file() and Path(shot).parent == on_sandbox.data.artifacts
    assert Path(shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "everything needed to post was found (exit 0)" in out
    # Nothing was posted; the connection is as it was.
    assert [c["text"] for c in sandbox.comments("youtube")] == ["0:05 — someone else's note"]
    assert on_sandbox.connections.get("youtube").status == "active"


def test_probe_json_shape(on_sandbox, sandbox, engine, capsys) -> None:
    connect_on_sandbox(on_sandbox, engine, sandbox, "vimeo")
    sandbox.add_comment("vimeo", "42", "0:07 — earlier")
    code, report = probe_json(on_sandbox, capsys, "vimeo", sandbox.video_url("vimeo", "42"))
    assert code == 0 and report["exit_code"] == 0 and report["ok"] is True
    assert set(report) == {
        "platform",
        "video_url",
        "page_url",
        "http_status",
        "table",
        "login",
        "comments",
        "challenge",
        "groups",
        "missing",
        "screenshot",
        "error",
        "ok",
        "problems",
        "exit_code",
    }
    assert report["platform"] == "vimeo" and report["http_status"] == 200
    assert report["login"] == {"logged_in": True, "account": ACCOUNT}
    assert report["comments"] == "open" and report["challenge"] is None
    assert report["table"] == {
        "source": "shipped",
        "path": str(on_sandbox.data.selectors / "vimeo.json"),
        "groups": [],
        "error": None,
        "confirmed": True,
    }
    assert report["missing"] == [] and report["problems"] == []
    by = groups(report)
    for g in report["groups"]:
        assert set(g) == {"group", "kind", "status", "matched", "selector", "alternatives", "note"}
    for name in ("logged_in", "player", "editor", "submit", "comment_item", "comment_text"):
        assert by[name]["status"] == "found" and by[name]["matched"] >= 1, by[name]
        assert by[name]["selector"] == by[name]["alternatives"][by[name]["matched"] - 1]
    for name in ("logged_out", "comments_disabled", "consent_screen", "traffic_check"):
        assert by[name]["status"] == "absent" and by[name]["matched"] is None
    assert by["placeholder"]["status"] == "unchecked"  # Vimeo's box is always open
    assert Path(report["screenshot"]).is_file()
    # No secret in the output: not the login cookie the browser holds.
    tokens = list(sandbox.state._logins)
    assert tokens and not any(t in json.dumps(report) for t in tokens)


@pytest.mark.parametrize("case", ["logged_out", "comments_off", "changed_markup"])
def test_probe_reports_what_is_missing_and_exits_1(
    on_sandbox, sandbox, engine, capsys, case
) -> None:
    connect_on_sandbox(on_sandbox, engine, sandbox, "youtube")
    sandbox.add_comment("youtube", "vid2", "0:03 — there")
    if case == "logged_out":
        sandbox.logout("youtube")
    elif case == "comments_off":
        sandbox.set_video("youtube", "vid2", comments_enabled=False)
    else:
        sandbox.set_fault("youtube", "changed_selectors", variant="ids_and_roles")
    code, report = probe_json(
        on_sandbox, capsys, "youtube", sandbox.video_url("youtube", "vid2"), "--wait", "1.5"
    )
    assert code == 1 and report["ok"] is False and report["exit_code"] == 1
    by = groups(report)
    if case == "logged_out":
        assert report["login"]["logged_in"] is False
        assert by["logged_out"]["status"] == "present"
        assert "not logged in" in report["problems"]
    elif case == "comments_off":
        assert report["login"]["logged_in"] is True
        assert report["comments"] == "disabled"
        assert by["comments_disabled"]["status"] == "present"
        assert "comments are turned off for this video" in report["problems"]
    else:
        assert report["login"]["logged_in"] is True  # the role fallback still finds it
        assert {"editor", "submit", "comment_text"} <= set(report["missing"])
        assert by["editor"]["matched"] is None and len(by["editor"]["alternatives"]) == 4
    assert Path(report["screenshot"]).is_file()


CHANGED_YOUTUBE_OVERRIDE = {
    "platform": "youtube",
    "comments_section": [{"css": "yt-comments-panel-v2"}],
    "placeholder": [{"css": "#yc7-placeholder-area-id"}],
    "editor": [{"css": "#yc7-editor-id"}],
    "submit": [{"css": "#yc7-submit-id"}],
    "comment_text": ["#yc7-content-id"],
    "comment_author": ["#yc7-author-id"],
    "comment_link": ["#yc7-published-id a"],
}


def test_an_override_file_mends_a_changed_page_for_the_probe_and_for_posting(
    on_sandbox, sandbox, engine, capsys
) -> None:
    connect_on_sandbox(on_sandbox, engine, sandbox, "youtube")
    sandbox.set_fault("youtube", "changed_selectors", variant="ids_and_roles")
    sandbox.add_comment("youtube", "vid3", "0:01 — first")
    url = sandbox.video_url("youtube", "vid3")
    path = on_sandbox.data.selectors / "youtube.json"
    path.write_text(json.dumps(CHANGED_YOUTUBE_OVERRIDE))

    code, report = probe_json(on_sandbox, capsys, "youtube", url, "--wait", "3")
    assert code == 0, report["problems"]
    assert report["table"]["source"] == "override" and report["table"]["path"] == str(path)
    assert report["table"]["groups"] == [
        "comments_section",
        "placeholder",
        "editor",
        "submit",
        "comment_text",
        "comment_author",
        "comment_link",
    ]
    assert groups(report)["editor"]["selector"] == "css=#yc7-editor-id"

    # The posting worker uses the same table: the note is posted once, with its timecode.
    note = on_sandbox.notes.create(
        validate_note(
            {"platform": "youtube", "video_url": url, "timestamp_seconds": 9, "text": "Mended"},
            on_sandbox.settings,
        )
    )
    run_queue(on_sandbox, engine)
    view = on_sandbox.notes.get(note.id)
    assert view.status == "posted", (view.error_kind, view.error)
    mine = [c for c in sandbox.comments("youtube", "vid3") if c["author"] == ACCOUNT]
    assert [c["text"] for c in mine] == ["0:09 — Mended"]
    assert view.external_comment_id == mine[0]["id"]

    # A broken override: said clearly (the file, what is wrong), the shipped table is used.
    path.write_text('{"editor": [{"css": "#yc7-editor-id"}], "submitt": []}')
    code, out = probe(on_sandbox, capsys, "youtube", url, "--wait", "1")
    assert code == 2
    assert f"REFUSED:    {path}: unknown group 'submitt'" in out
    assert "selectors:  the shipped table" in out
    assert "MISSING  editor" in out  # the shipped table does not fit the changed page


CHALLENGES = [
    ("youtube", "consent", "consent_screen"),
    ("youtube", "unusual_traffic", "traffic_check"),
    ("youtube", "verify_its_you", "signin_challenge"),
    ("vimeo", "verify_to_continue", "traffic_check"),
    ("air", "cloudflare", "traffic_check"),
    ("youtube", "bot_check", "signin_challenge"),
]


@pytest.mark.parametrize(("platform", "variant", "group"), CHALLENGES)
def test_a_challenge_page_holds_the_note_without_retries_and_expires_the_connection(
    on_sandbox, sandbox, engine, platform, variant, group
) -> None:
    connect_on_sandbox(on_sandbox, engine, sandbox, platform)
    sandbox.set_fault(platform, "site_challenge", variant=variant)
    note = on_sandbox.notes.create(
        validate_note(
            {
                "platform": platform,
                "video_url": sandbox.video_url(platform, "vid4"),
                "timestamp_seconds": 4,
                "text": "Blocked",
            },
            on_sandbox.settings,
        )
    )
    run_queue(on_sandbox, engine, SHORT_WAITS)
    view = on_sandbox.notes.get(note.id)
    assert view.status == "ghost" and view.held, (view.status, view.error_kind, view.error)
    assert view.error_kind == "site_challenge"
    assert "confirm it's you" in view.error and "reconnect" in view.error
    jobs = on_sandbox.queue.jobs_for(note_key(note.id))
    assert [(j.state, j.attempt) for j in jobs] == [("discarded", 1)]  # never retried
    connection = on_sandbox.connections.get(platform)
    assert connection.status == "expired"
    assert connection.error and f"{CHALLENGE_WHAT[group]} instead of its page" in connection.error
    assert sandbox.comments(platform) == []
    fault = next(f for f in sandbox.faults() if f["fault"] == "site_challenge")
    assert fault["hits"] >= 1


def test_probe_names_the_challenge_page(on_sandbox, sandbox, engine, capsys) -> None:
    connect_on_sandbox(on_sandbox, engine, sandbox, "youtube")
    sandbox.set_fault("youtube", "site_challenge", variant="unusual_traffic")
    code, report = probe_json(on_sandbox, capsys, "youtube", sandbox.video_url("youtube", "v5"))
    assert code == 1
    assert report["http_status"] == 429
    assert report["challenge"]["kind"] == "traffic_check"
    assert "unusual traffic" in report["challenge"]["message"]
    assert groups(report)["traffic_check"]["status"] == "present"
    assert report["challenge"]["message"] in report["problems"]
    assert on_sandbox.connections.get("youtube").status == "active"  # the probe only looks


def test_a_challenge_on_the_home_page_is_site_challenge_for_verify_and_keep_alive(
    on_sandbox, sandbox, engine, capsys
) -> None:
    connect_on_sandbox(on_sandbox, engine, sandbox, "youtube")
    sandbox.set_fault("youtube", "site_challenge", variant="consent")
    code = main(["--data-dir", str(on_sandbox.data.root), "connections", "verify", "youtube"])
    assert code == 1
    err = capsys.readouterr().err
    assert "YouTube shows a cookie consent page instead of its page" in err
    assert "consent.youtube.com/m" in err  # where it was, without the query

    visited = KeepAliveWorker(on_sandbox, engine)
    with pytest.raises(AutomationError) as caught:
        visited.visit(on_sandbox.connections.get("youtube"))
    assert caught.value.kind == "site_challenge" and caught.value.holds
    assert caught.value.connection_status == "expired"
