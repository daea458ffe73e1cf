"""The sandbox over plain HTTP: pages, logins, the pages' comment API, /_sandbox/ endpoints and
every fault switch. (Real-browser tests: test_sandbox_browser.py.)"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lossy_desktop.core.platforms import PLATFORMS as CORE_PLATFORMS
from lossy_desktop.sandbox.pages import CLIENT_FIELD
from lossy_desktop.sandbox.server import SandboxServer
from lossy_desktop.sandbox.state import SandboxError, parse_timecodes

API = {
    "youtube": "/youtube/youtubei/v1/comment/create_comment",
    "vimeo": "/vimeo/api/videos/{v}/comments",
    "air": "/air/api/assets/{v}/comments",
}
LIST = {
    "youtube": "/youtube/youtubei/v1/next?videoId={v}",
    "vimeo": "/vimeo/api/videos/{v}/comments",
    "air": "/air/api/assets/{v}/comments",
}
PLATFORMS = ("youtube", "vimeo", "air")


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=10) as c:
        yield c


# What the sign-in page's script adds to the form in a browser that is not automated.
NOT_AUTOMATED = {CLIENT_FIELD: "false"}


def login(client: httpx.Client, sb: SandboxServer, platform: str, account: str = "Rev One") -> None:
    data = {"account": account, "continue": f"/{platform}", **NOT_AUTOMATED}
    r = client.post(sb.login_url(platform), data=data)
    assert r.status_code == 303, r.text


def post(
    client: httpx.Client, platform: str, video: str, text: str, **extra: Any
) -> httpx.Response:
    body: dict[str, Any] = {"text": text, **extra}
    if platform == "youtube":
        body = {"videoId": video, "commentText": text, **extra}
    return client.post(API[platform].format(v=video), json=body)


def page_config(html: str) -> dict[str, Any]:
    m = re.search(r"window.__SANDBOX__ = (\{.*?\});</script>", html)
    assert m, "no page config"
    return dict(json.loads(m.group(1)))


# ---- pages and login ---------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_video_page_logged_out_then_in(
    platform: str, sandbox: SandboxServer, client: httpx.Client
) -> None:
    r = client.get(sandbox.video_url(platform, "vid1"))
    assert r.status_code == 200
    assert re.search(r">(Sign in|Log in)</a>", r.text)
    assert page_config(r.text)["viewer"] is None
    login(client, sandbox, platform, "Reviewer One")
    cookie = client.cookies.jar
    assert any(c.path == f"/{platform}" for c in cookie)
    r = client.get(sandbox.video_url(platform, "vid1"))
    assert page_config(r.text)["viewer"] == "Reviewer One"
    assert 'alt="Reviewer One"' in r.text
    assert not re.search(r">(Sign in|Log in)</a>", r.text)
    assert "<video" in r.text
    # the login is per platform
    other = next(p for p in PLATFORMS if p != platform)
    assert page_config(client.get(sandbox.video_url(other, "vid1")).text)["viewer"] is None


def test_youtube_markup_uses_the_real_ids(sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "youtube")
    html = client.get(sandbox.video_url("youtube", "abc")).text
    assert '<ytd-comments id="comments"' in html
    assert 'id="avatar-btn"' in html
    assert 'id="movie_player"' in html
    # comments are not in the HTML: the page loads them once scrolled to
    assert "<ytd-comment-thread-renderer" not in html
    cfg = page_config(html)
    assert cfg["names"]["editor_id"] == "contenteditable-root"
    assert cfg["names"]["simplebox_tag"] == "ytd-comment-simplebox-renderer"


def test_login_form_validation_and_safe_redirect(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    r = client.get(sandbox.login_url("youtube"), params={"continue": "/youtube/watch?v=x"})
    assert r.status_code == 200 and 'name="account"' in r.text
    assert client.post(sandbox.login_url("youtube"), data={"account": "  "}).status_code == 400
    r = client.post(
        sandbox.login_url("vimeo"),
        data={"account": "A", "continue": "https://evil.example/", **NOT_AUTOMATED},
    )
    assert r.status_code == 303 and r.headers["location"] == "/vimeo"
    r = client.post(
        sandbox.login_url("air"), data={"account": "A", "continue": "/air/w/c/1", **NOT_AUTOMATED}
    )
    assert r.headers["location"] == "/air/w/c/1"
    assert [x["account"] for x in client.get("/_sandbox/sessions").json()["logins"]] == ["A", "A"]


@pytest.mark.parametrize("platform", ["youtube", "vimeo", "air"])
@pytest.mark.parametrize("seen", ["true", "no-script", None])
def test_sign_in_refuses_an_automated_browser(
    sandbox: SandboxServer, client: httpx.Client, platform: str, seen: str | None
) -> None:
    """As Google's sign-in does when navigator.webdriver is true (or its script did not run)."""
    page = client.get(sandbox.login_url(platform)).text
    assert f'name="{CLIENT_FIELD}" value="no-script"' in page and "navigator.webdriver" in page
    data = {"account": "Bot", "continue": f"/{platform}"}
    if seen is not None:
        data[CLIENT_FIELD] = seen
    r = client.post(sandbox.login_url(platform), data=data)
    assert r.status_code == 400
    assert "This browser or app may not be secure" in r.text
    assert sandbox.logins() == []
    assert sandbox.sign_ins() == [{"platform": platform, "account": "Bot", "webdriver": seen or ""}]


def test_logout_and_forgotten_cookie(sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "air")
    client.get("/air/logout")
    assert page_config(client.get(sandbox.video_url("air", "a")).text)["viewer"] is None
    login(client, sandbox, "vimeo")
    assert sandbox.logout("vimeo") == 1
    assert post(client, "vimeo", "1", "hi").status_code == 401


def test_unknown_and_unavailable_videos(sandbox: SandboxServer, client: httpx.Client) -> None:
    assert client.get("/youtube/watch?v=bad%20id").status_code == 404
    assert client.get("/youtube/watch").status_code == 404
    sandbox.set_video("air", "gone", exists=False)
    r = client.get(sandbox.video_url("air", "gone"))
    assert 'data-testid="asset-not-found"' in r.text and "not found" in r.text
    with pytest.raises(SandboxError):
        sandbox.set_video("vimeo", "1", duration=-5)
    assert sandbox.set_video("vimeo", "1", duration=3600)["duration"] == 3600
    assert page_config(client.get(sandbox.video_url("vimeo", "1")).text)["duration"] == 3600


def test_home_pages_list_videos(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.set_video("youtube", "v9", title="Cut 3")
    for platform in PLATFORMS:
        assert client.get(f"/{platform}").status_code == 200
    assert "Cut 3" in client.get("/youtube").text
    assert client.get("/_sandbox/static/youtube.js").status_code == 200


# ---- comments ----------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_post_then_list(platform: str, sandbox: SandboxServer, client: httpx.Client) -> None:
    assert post(client, platform, "v1", "0:05 hi").status_code == 401
    login(client, sandbox, platform, "Rev One")
    r = post(client, platform, "v1", "1:02:03 — the cut is late", playerTime=3723.0)
    assert r.status_code == 200, r.text
    comment = r.json()["comment"]
    listed = sandbox.comments(platform, "v1")
    assert [c["id"] for c in listed] == [comment["id"]]
    got = listed[0]
    assert got["author"] == "Rev One"
    assert got["time"] == 3723.0 and got["player_time"] == 3723.0
    assert got["held"] is False
    assert got["permalink"].startswith(sandbox.base_url)
    assert comment["id"] in got["permalink"]
    # the same through the JSON endpoint and through the page's own API
    j = client.get("/_sandbox/comments", params={"platform": platform, "video": "v1"}).json()
    assert j["comments"] == listed
    page_list = client.get(LIST[platform].format(v="v1")).json()
    assert [c["id"] for c in page_list["comments"]] == [comment["id"]]


def test_permalink_shapes(sandbox: SandboxServer, client: httpx.Client) -> None:
    for platform in PLATFORMS:
        login(client, sandbox, platform)
    yt = post(client, "youtube", "abc", "x").json()["comment"]
    assert re.fullmatch(r"Ugz[\w-]{19}4AaABAg", yt["id"])
    assert yt["permalink"] == f"{sandbox.base_url}/youtube/watch?v=abc&lc={yt['id']}"
    assert yt["path"].endswith(f"&lc={yt['id']}")
    vm = post(client, "vimeo", "42", "x").json()["comment"]
    assert vm["id"].isdigit() and vm["permalink"].endswith(f"/vimeo/42#comment_{vm['id']}")
    client.get("/air/team-x/c/a1")
    air = post(client, "air", "a1", "x", timeCode=12.5).json()["comment"]
    assert air["permalink"] == f"{sandbox.base_url}/air/team-x/c/a1?commentId={air['id']}"
    assert air["time"] == 12.5
    assert sandbox.video_url("air", "a1").endswith("/air/team-x/c/a1")


def test_bad_comment_bodies(sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "vimeo")
    assert post(client, "vimeo", "1", "   ").json()["error"]["code"] == "empty"
    r = post(client, "vimeo", "1", "x" * 5001)
    assert r.status_code == 400 and r.json()["error"]["code"] == "text_too_long"
    r = client.post("/vimeo/api/videos/1/comments", content=b"not json")
    assert r.status_code == 400
    assert sandbox.comments() == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_comment_limit_is_the_apps(
    platform: str, sandbox: SandboxServer, client: httpx.Client
) -> None:
    """Each platform refuses a comment one character over the app's limit for it."""
    limit = CORE_PLATFORMS[platform].comment_limit
    login(client, sandbox, platform)
    r = post(client, platform, "v1", "x" * (limit + 1))
    assert r.status_code == 400 and r.json()["error"]["code"] == "text_too_long"
    assert sandbox.comments() == []
    assert post(client, platform, "v1", "x" * limit).status_code == 200
    assert [len(c["text"]) for c in sandbox.comments()] == [limit]


def test_held_comments_show_only_to_their_author(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    sandbox.set_fault("youtube", "held_for_review", count=1)
    login(client, sandbox, "youtube", "Author")
    held = post(client, "youtube", "v", "first").json()["comment"]
    assert held["held"] is True
    shown = post(client, "youtube", "v", "second").json()["comment"]
    assert shown["held"] is False
    assert [c["held"] for c in sandbox.comments("youtube", "v")] == [True, False]
    mine = client.get(LIST["youtube"].format(v="v")).json()["comments"]
    assert {c["id"] for c in mine} == {held["id"], shown["id"]}
    with httpx.Client(base_url=sandbox.base_url, trust_env=False) as other:
        login(other, sandbox, "youtube", "Someone")
        theirs = other.get(LIST["youtube"].format(v="v")).json()["comments"]
    assert [c["id"] for c in theirs] == [shown["id"]]


# ---- faults ------------------------------------------------------------------------------


def test_logged_out_fault(sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "youtube")
    sandbox.set_fault("youtube", "logged_out", count=1)
    r = client.get(sandbox.video_url("youtube", "v"))
    cfg = page_config(r.text)
    assert cfg["viewer"] is None and "ServiceLogin" in r.text and not cfg["expired"]
    # the page that was shown logged out refuses its posts: one page view, not one request
    r = client.post(
        API["youtube"],
        json={"videoId": "v", "commentText": "x"},
        headers={"X-Sandbox-View": cfg["view"]},
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_logged_in"
    # count used up: the next page is logged in again
    assert page_config(client.get(sandbox.video_url("youtube", "v")).text)["viewer"] == "Rev One"
    assert sandbox.faults() == []


def test_session_expired_fault(sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "vimeo")
    sandbox.set_fault("vimeo", "session_expired")
    r = client.get(sandbox.video_url("vimeo", "9"))
    assert "data-session-expired" in r.text and page_config(r.text)["viewer"] is None
    r = post(client, "vimeo", "9", "x")
    assert r.status_code == 401 and r.json()["error"]["code"] == "session_expired"
    sandbox.clear_faults()
    assert post(client, "vimeo", "9", "x").status_code == 200


def test_rate_limited_with_count(sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "youtube")
    sandbox.set_fault("youtube", "rate_limited", count=2, retry_after=45)
    for _ in range(2):
        r = post(client, "youtube", "v", "x")
        assert r.status_code == 429
        assert r.headers["retry-after"] == "45"
        assert "posting too quickly" in r.json()["error"]["message"]
    assert post(client, "youtube", "v", "x").status_code == 200
    assert len(sandbox.comments("youtube")) == 1


def test_comments_disabled(sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "air")
    sandbox.set_fault("air", "comments_disabled", video_id="a1")
    r = client.get(sandbox.video_url("air", "a1"))
    cfg = page_config(r.text)
    assert cfg["commentsDisabled"] is True
    listed = client.get(LIST["air"].format(v="a1"), headers={"X-Sandbox-View": cfg["view"]})
    assert listed.json()["disabled"] is True
    r = post(client, "air", "a1", "x")
    assert r.status_code == 403 and r.json()["error"]["code"] == "comments_disabled"
    # another video of the platform is not affected
    assert post(client, "air", "a2", "x").status_code == 200
    sandbox.set_video("vimeo", "off", comments_enabled=False)
    login(client, sandbox, "vimeo")
    assert post(client, "vimeo", "off", "x").status_code == 403


def test_video_scoped_fault_leaves_other_videos(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    login(client, sandbox, "vimeo")
    client.get(sandbox.video_url("vimeo", "1"))
    client.get(sandbox.video_url("vimeo", "2"))
    sandbox.set_fault("vimeo", "rate_limited", video_id="1")
    assert post(client, "vimeo", "1", "x").status_code == 429
    assert post(client, "vimeo", "2", "x").status_code == 200


@pytest.mark.parametrize("variant", ["ids", "ids_and_roles"])
def test_changed_selectors(variant: str, sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "youtube")
    sandbox.set_fault("youtube", "changed_selectors", variant=variant, count=1)
    html = client.get(sandbox.video_url("youtube", "v")).text
    cfg = page_config(html)
    assert "ytd-comments" not in html and 'id="avatar-btn"' not in html
    assert cfg["names"]["editor_id"] != "contenteditable-root"
    assert cfg["names"]["simplebox_tag"] != "ytd-comment-simplebox-renderer"
    assert cfg["roles"] is (variant == "ids")
    assert "ytd-comments" in client.get(sandbox.video_url("youtube", "v")).text
    with pytest.raises(SandboxError, match="variant"):
        sandbox.set_fault("youtube", "changed_selectors", variant="nope")


def test_slow_page(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.set_fault("vimeo", "slow_page", delay=0.4, count=1)
    started = time.monotonic()
    assert client.get(sandbox.video_url("vimeo", "1")).status_code == 200
    assert time.monotonic() - started >= 0.4  # the page was held back
    assert sandbox.faults() == []  # count=1: used up by that page, so the next is not slowed
    assert client.get(sandbox.video_url("vimeo", "1")).status_code == 200


def test_server_error(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.set_fault("air", "server_error", count=1, status=503)
    assert client.get(sandbox.video_url("air", "a")).status_code == 503
    assert client.get(sandbox.video_url("air", "a")).status_code == 200
    login(client, sandbox, "air")
    sandbox.set_fault("air", "server_error", on="post")
    client.get(sandbox.video_url("air", "a"))  # page not affected
    r = post(client, "air", "a", "x")
    assert r.status_code == 500 and r.json()["error"]["code"] == "server_error"
    assert sandbox.comments() == []


def test_dropped_connection(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.set_fault("youtube", "dropped_connection", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(sandbox.video_url("youtube", "v"))
    assert client.get(sandbox.video_url("youtube", "v")).status_code == 200
    login(client, sandbox, "youtube")
    sandbox.set_fault("youtube", "dropped_connection", count=1, on="post")
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, "youtube", "v", "lost")
    assert sandbox.comments() == []
    # after_commit: the comment is stored, then the answer is lost
    sandbox.set_fault("youtube", "dropped_connection", count=1, on="post", after_commit=True)
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, "youtube", "v", "stored")
    assert [c["text"] for c in sandbox.comments()] == ["stored"]


def test_resent_post_is_stored_twice_and_the_answer_lost(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    login(client, sandbox, "vimeo")
    sandbox.set_fault(
        "vimeo", "dropped_connection", count=1, on="post", after_commit=True, resent=True
    )
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, "vimeo", "v", "twice")
    copies = sandbox.comments("vimeo", "v")
    assert [c["text"] for c in copies] == ["twice", "twice"]
    assert copies[0]["id"] != copies[1]["id"]


@pytest.mark.parametrize("platform", ["youtube", "vimeo", "air"])
def test_deleting_a_comment(platform: str, sandbox: SandboxServer, client: httpx.Client) -> None:
    def delete(comment_id: str) -> httpx.Response:
        if platform == "youtube":
            return client.post(
                f"{sandbox.base_url}/youtube/youtubei/v1/comment/delete_comment",
                json={"videoId": "v", "commentId": comment_id},
            )
        return client.delete(API[platform].format(v="v") + f"/{comment_id}")

    other = sandbox.add_comment(platform, "v", "someone else's")
    assert delete(other["id"]).status_code == 401  # not logged in
    login(client, sandbox, platform)
    mine = post(client, platform, "v", "mine").json()["comment"]
    assert delete(other["id"]).status_code == 403  # only one's own
    r = delete(mine["id"])
    assert r.status_code == 200 and r.json() == {"deleted": mine["id"]}
    assert [c["id"] for c in sandbox.comments(platform, "v")] == [other["id"]]
    again = delete(mine["id"])
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


def test_fault_validation_and_json_endpoint(sandbox: SandboxServer, client: httpx.Client) -> None:
    with pytest.raises(SandboxError, match="unknown fault"):
        sandbox.set_fault("youtube", "meteor")
    with pytest.raises(SandboxError, match="unknown platform"):
        sandbox.set_fault("myspace", "logged_out")
    with pytest.raises(SandboxError, match="count"):
        sandbox.set_fault("vimeo", "logged_out", count=0)
    r = client.post("/_sandbox/faults", json={"platform": "vimeo", "fault": "meteor"})
    assert r.status_code == 400 and "unknown fault" in r.json()["error"]
    r = client.post(
        "/_sandbox/faults",
        json={"platform": "vimeo", "fault": "rate_limited", "count": 1, "video_id": "7"},
    )
    assert r.status_code == 201
    assert client.get("/_sandbox/faults").json()["faults"][0]["remaining"] == 1
    assert client.delete("/_sandbox/faults").json()["faults"] == []


def test_reset_forgets_everything(sandbox: SandboxServer, client: httpx.Client) -> None:
    login(client, sandbox, "vimeo")
    post(client, "vimeo", "1", "x")
    sandbox.set_fault("air", "logged_out")
    assert client.post("/_sandbox/reset").json() == {"ok": True}
    assert sandbox.comments() == [] and sandbox.faults() == [] and sandbox.logins() == []
    assert post(client, "vimeo", "1", "x").status_code == 401


def test_seeded_comments_and_login_cookie(sandbox: SandboxServer) -> None:
    seeded = sandbox.add_comment("vimeo", "5", "0:07 nice", author="Other")
    assert seeded["time"] == 7.0
    cookie = sandbox.login_cookie("vimeo", "Me")
    assert cookie["url"] == f"{sandbox.base_url}/vimeo" and cookie["name"] == "vimeo_session"
    with httpx.Client(base_url=sandbox.base_url, trust_env=False) as c:
        c.cookies.set(cookie["name"], cookie["value"])
        assert page_config(c.get(sandbox.video_url("vimeo", "5")).text)["viewer"] == "Me"
        assert [x["author"] for x in c.get(LIST["vimeo"].format(v="5")).json()["comments"]] == [
            "Other"
        ]


def test_parse_timecodes() -> None:
    assert [t for *_, t in parse_timecodes("at 1:23 and 1:02:03, not 12:345 or 1:2")] == [83, 3723]
    assert parse_timecodes("10:00:00") == [(0, 8, 36000)]
    assert parse_timecodes("no time here") == []


def test_only_loopback() -> None:
    with pytest.raises(SandboxError, match="loopback"):
        SandboxServer(host="0.0.0.0")


def test_cli_serves_until_terminated(tmp_path: Any) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lossy_desktop", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        m = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
        assert m, first + (proc.stderr.read() if proc.stderr else "")
        assert httpx.get(m.group(1) + "/_sandbox/health", trust_env=False).json()["ok"] is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert not (tmp_path / "lossy.sqlite3").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_refuses_a_public_host() -> None:
    from lossy_desktop.cli import main

    assert main(["sandbox", "--host", "0.0.0.0", "--port", "0"]) == 2
