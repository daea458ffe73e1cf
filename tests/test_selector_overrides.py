"""Selector override files (<data folder>/selectors/<platform>.json), the challenge-page address
patterns, and the sandbox's challenge pages (served over HTTP; no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from lossy_desktop.automation.agents import agent_for
from lossy_desktop.automation.agents.base import challenge_group_for_url
from lossy_desktop.automation.agents.selectors import SELECTORS, Find
from lossy_desktop.automation.agents.table_file import (
    GROUPS,
    from_json,
    load_table,
    override_path,
    to_json,
)
from lossy_desktop.cli import main


@pytest.mark.parametrize("platform", ["youtube", "vimeo", "air"])
def test_the_shipped_tables_have_a_json_form_that_reads_back_the_same(platform: str) -> None:
    shipped = SELECTORS[platform]
    data = json.loads(json.dumps(to_json(shipped)))
    assert set(data) == {"platform", "confirmed", *GROUPS}
    table, groups = from_json(data, shipped)
    assert table == shipped
    assert groups == GROUPS


def test_an_override_file_sets_its_groups_and_keeps_the_rest(tmp_path: Path) -> None:
    override_path("youtube", tmp_path).write_text(
        json.dumps(
            {
                "platform": "youtube",
                "editor": [{"css": "#new-editor"}, {"role": "textbox", "name_re": "comment"}],
                "comment_text": ["#new-text"],
            }
        )
    )
    table = load_table("youtube", tmp_path)
    assert table.source == "override" and table.error is None
    assert table.groups == ("editor", "comment_text")
    assert table.selectors.editor[0] == Find(css="#new-editor")
    assert table.selectors.editor[1].name is not None
    assert table.selectors.comment_text == ("#new-text",)
    assert table.selectors.submit == SELECTORS["youtube"].submit
    # What the posting worker's agent uses.
    agent = agent_for("youtube", selectors_dir=tmp_path)
    assert agent.selectors.editor[0] == Find(css="#new-editor")
    assert agent_for("vimeo", selectors_dir=tmp_path).selectors == SELECTORS["vimeo"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"editor": [{"css": "#a"}', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"editr": []}', "unknown group 'editr'"),
        ('{"platform": "vimeo"}', "this file is for 'youtube', not 'vimeo'"),
        ('{"editor": [{"csss": "#a"}]}', "editor[0]: unknown key 'csss'"),
        ('{"editor": []}', "editor: needs at least one alternative"),
        ('{"submit": [{"role": "knob"}]}', "submit[0].role: 'knob' is not one of"),
        ('{"logged_out": [{"text_re": "(unclosed"}]}', "logged_out[0].text_re: not a valid"),
        ('{"comment_text": "#x"}', "comment_text: must be a list"),
        ('{"editor": [{"css": "#a", "role": "textbox"}]}', "give exactly one of css, role"),
        ('{"controls": {"menuu": []}}', "controls: unknown key 'menuu'"),
        ('{"controls": {"delete": [{"csss": "#d"}]}}', "controls.delete[0]: unknown key 'csss'"),
        ('{"controls": {"newest_first": "yes"}}', "controls.newest_first: must be true or false"),
    ],
)
def test_a_bad_override_is_refused_naming_the_file_and_the_shipped_table_stays(
    tmp_path: Path, content: str, says: str
) -> None:
    path = override_path("youtube", tmp_path)
    path.write_text(content)
    table = load_table("youtube", tmp_path)
    assert table.source == "shipped"
    assert table.selectors == SELECTORS["youtube"]
    assert table.error is not None and str(path) in table.error and says in table.error
    assert agent_for("youtube", selectors_dir=tmp_path).selectors == SELECTORS["youtube"]


def test_print_table_is_the_table_in_force_and_a_bad_override_is_exit_2(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(data_dir), "probe", "air", "--print-table"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == to_json(SELECTORS["air"]) and printed["confirmed"] is False

    path = data_dir / "selectors" / "air.json"
    path.write_text('{"editor": [{"css": "#mine"}]}')
    assert main(["--data-dir", str(data_dir), "probe", "air", "--print-table"]) == 0
    assert json.loads(capsys.readouterr().out)["editor"] == [{"css": "#mine"}]

    path.write_text('{"editor": [{"css": 5}]}')
    assert main(["--data-dir", str(data_dir), "probe", "air", "--print-table"]) == 2
    out = capsys.readouterr()
    assert "editor[0].css: must be a non-empty string" in out.err and str(path) in out.err
    assert json.loads(out.out) == to_json(SELECTORS["air"])


def test_probe_needs_a_video_address_of_the_platform(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(data_dir), "probe", "youtube"]) == 2
    assert "VIDEO_URL" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "probe", "youtube", "https://vimeo.com/1"]) == 2
    assert "is a Vimeo address, not a YouTube one" in capsys.readouterr().err
    url = "https://www.youtube.com/watch?v=abc"
    assert main(["--data-dir", str(data_dir), "probe", "youtube", url]) == 3  # not connected
    assert "YouTube is not connected" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "group"),
    [
        (
            "https://consent.youtube.com/m?continue=https%3A%2F%2Fwww.youtube.com%2F",
            "consent_screen",
        ),
        ("https://consent.google.com/ml?continue=https://www.google.com/", "consent_screen"),
        ("https://www.google.com/sorry/index?continue=https://www.youtube.com/", "traffic_check"),
        ("https://vimeo.com/123?__cf_chl_tk=abc", "traffic_check"),
        ("https://accounts.google.com/v3/signin/challenge/pk?TL=x", "signin_challenge"),
        ("https://accounts.google.com/signin/v2/challenge/selection", "signin_challenge"),
        ("https://www.youtube.com/watch?v=abc", None),
        ("https://vimeo.com/123456", None),
        ("https://app.air.inc/lossy/c/abc", None),
        ("https://www.youtube.com/watch?v=sorry", None),
    ],
)
def test_challenge_pages_are_known_by_their_address(url: str, group: str | None) -> None:
    for table in SELECTORS.values():
        assert challenge_group_for_url(table, url) == group


@pytest.mark.parametrize(
    ("variant", "status", "where", "says"),
    [
        ("consent", 200, "/consent.youtube.com/m", "Before you continue to YouTube"),
        ("unusual_traffic", 429, "/www.google.com/sorry/index", "detected unusual traffic"),
        ("verify_its_you", 200, "/accounts.google.com/v3/signin/challenge/pk", "Verify it’s you"),
        ("verify_to_continue", 403, "/youtube/watch", "Verify to continue"),
        ("cloudflare", 403, "/youtube/watch", "Verify you are human by completing"),
        ("bot_check", 200, "/youtube/watch", "Sign in to confirm you’re not a bot"),
    ],
)
def test_the_sandbox_serves_each_challenge_page_until_it_is_passed(
    sandbox, variant: str, status: int, where: str, says: str
) -> None:
    sandbox.set_fault("youtube", "site_challenge", variant=variant)
    with httpx.Client(base_url=sandbox.base_url, follow_redirects=True) as client:
        page = client.get("/youtube/watch?v=abc")
        assert page.status_code == status
        assert page.url.path == where and says in page.text
        if variant == "cloudflare":
            assert page.headers["cf-mitigated"] == "challenge"
        if variant == "bot_check":  # in the watch page's player; signing in gets past it
            assert "yt-playability-error-supported-renderers" in page.text
            return
        # The page's own form gets past it (the cookie the real site sets), back to the video.
        action = {
            "consent": "/consent.youtube.com/save",
            "unusual_traffic": "/www.google.com/sorry/index",
            "verify_its_you": "/accounts.google.com/v3/signin/challenge/pk",
            "verify_to_continue": "/youtube/_unblock_ratelimit",
            "cloudflare": "/cdn-cgi/challenge-platform/h/g/flow/pass",
        }[variant]
        assert f'action="{action}"' in page.text or 'action="index"' in page.text
        passed = client.post(action, data={"continue": "/youtube/watch?v=abc"})
        assert passed.status_code == 200 and passed.url.path == "/youtube/watch"
        assert "ytd-watch-flexy" in passed.text
    # A fresh browser (no cookie) still meets it; a bad variant is refused.
    assert httpx.get(sandbox.video_url("youtube", "abc")).status_code in (302, 403)
    with pytest.raises(ValueError, match="variant must be one of"):
        sandbox.set_fault("vimeo", "site_challenge", variant="nope")


def test_an_override_of_the_delete_controls_keeps_the_shipped_rest(tmp_path: Path) -> None:
    override_path("youtube", tmp_path).write_text('{"controls": {"menu": [{"css": "#more"}]}}')
    table = load_table("youtube", tmp_path)
    assert table.source == "override" and table.groups == ("controls",)
    shipped = SELECTORS["youtube"].controls
    assert [f.css for f in table.selectors.controls.menu] == ["#more"]
    assert table.selectors.controls.delete == shipped.delete
    assert table.selectors.controls.item_by_id == shipped.item_by_id
