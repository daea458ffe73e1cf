"""Platform connections: lifecycle, no secrets, keep-alive selection, held notes requeued."""

from __future__ import annotations

import pytest

from lossy_desktop.core.clock import FakeClock
from lossy_desktop.core.connections import ConnectionView
from lossy_desktop.core.errors import NotFoundError, ValidationError
from lossy_desktop.services import Services

YT = "https://www.youtube.com/watch?v=abcdefghijk"


def test_ensure_local_creates_a_private_profile_folder(fake_services: Services):
    conns = fake_services.connections
    assert conns.get("youtube") is None and conns.list() == []
    view = conns.ensure("youtube", "local")
    assert (view.platform, view.provider, view.status) == ("youtube", "local", "awaiting_auth")
    profile = fake_services.data.profiles / "youtube"
    assert view.local_profile_path == str(profile) and profile.is_dir()
    assert (profile.stat().st_mode & 0o777) == 0o700
    assert conns.list() == [view]


def test_lifecycle_and_listeners(fake_services: Services, clock: FakeClock):
    conns = fake_services.connections
    seen: list[ConnectionView] = []
    conns.add_listener(seen.append)
    conns.ensure("vimeo", "browserbase")
    conns.update("vimeo", browserbase_context_id="ctx_123", browserbase_session_id="sess-9")
    clock.advance(10)
    active = conns.mark_active("vimeo", account_name="Reviewer Rae")
    assert active.status == "active" and active.verified_at == clock()
    assert active.account_name == "Reviewer Rae" and active.browserbase_context_id == "ctx_123"
    # ensure() again keeps an active login
    assert conns.ensure("vimeo", "browserbase").status == "active"
    expired = conns.mark_expired("vimeo", "the session ended")
    assert (expired.status, expired.error) == ("expired", "the session ended")
    assert conns.ensure("vimeo", "browserbase").status == "awaiting_auth"
    out = conns.mark_logged_out("vimeo", "Sign in link shown")
    assert out.status == "logged_out"
    assert conns.mark_active("vimeo").error is None
    clock.advance(5)
    assert conns.mark_used("vimeo").last_used_at == clock()
    assert [v.status for v in seen] == [
        "awaiting_auth",
        "awaiting_auth",
        "active",
        "active",
        "expired",
        "awaiting_auth",
        "logged_out",
        "active",
        "active",
    ]


def test_switching_provider_needs_a_new_login(fake_services: Services):
    conns = fake_services.connections
    conns.ensure("air", "browserbase")
    conns.update("air", browserbase_session_id="s1")
    conns.mark_active("air")
    switched = conns.ensure("air", "local")
    assert (switched.provider, switched.status) == ("local", "awaiting_auth")
    assert switched.browserbase_session_id is None and switched.local_profile_path


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("browserbase_session_id", "wss://connect.browserbase.com?signingKey=abc"),
        ("browserbase_context_id", "https://www.browserbase.com/devtools?token=x"),
        ("browserbase_session_id", "bb_live_0123456789"),
        ("browserbase_context_id", "has space"),
        ("browserbase_context_id", ""),
        ("status", "active"),
        ("api_key", "k"),
        ("provider", "firefox"),
    ],
)
def test_update_refuses_secrets_and_unknown_fields(fake_services: Services, field, value):
    conns = fake_services.connections
    conns.ensure("youtube", "browserbase")
    with pytest.raises(ValidationError) as info:
        conns.update("youtube", **{field: value})
    assert info.value.field == field
    assert value not in str(info.value) or value in ("", "active", "k", "firefox")
    assert conns.require("youtube").status == "awaiting_auth"


def test_errors_are_redacted(fake_services: Services):
    conns = fake_services.connections
    conns.ensure("youtube", "browserbase")
    view = conns.mark_expired("youtube", "closed: wss://connect.example/x?signingKey=SECRET123")
    assert "SECRET123" not in (view.error or "")


def test_unknown_platform_and_missing_connection(fake_services: Services):
    conns = fake_services.connections
    with pytest.raises(ValidationError):
        conns.ensure("tiktok", "local")
    with pytest.raises(ValidationError):
        conns.ensure("youtube", "cloud")
    with pytest.raises(NotFoundError):
        conns.mark_active("youtube")
    with pytest.raises(NotFoundError):
        conns.remove("youtube")


def test_idle_since_picks_active_connections_unused_for_days(
    fake_services: Services, clock: FakeClock
):
    conns = fake_services.connections
    for platform in ("youtube", "vimeo", "air"):
        conns.ensure(platform, "local")
    conns.mark_active("youtube")
    conns.mark_active("vimeo")  # air stays awaiting_auth: never visited
    clock.advance(19 * 86400)
    conns.mark_used("vimeo")
    assert conns.idle_since(20) == []
    clock.advance(86400)
    assert [v.platform for v in conns.idle_since(20)] == ["youtube"]
    clock.advance(19 * 86400)
    assert [v.platform for v in conns.idle_since(20)] == ["youtube", "vimeo"]


def test_remove_deletes_the_local_profile(fake_services: Services):
    conns = fake_services.connections
    seen: list[ConnectionView] = []
    conns.add_listener(seen.append)
    view = conns.ensure("youtube", "local")
    cookie = fake_services.data.profiles / "youtube" / "Default" / "Cookies"
    cookie.parent.mkdir(parents=True)
    cookie.write_bytes(b"session")
    conns.remove("youtube")
    assert not (fake_services.data.profiles / "youtube").exists()
    assert conns.get("youtube") is None
    assert seen[-1].removed and seen[-1].id == view.id and not seen[-1].active


def test_profile_outside_the_profiles_folder_is_never_deleted(fake_services: Services, tmp_path):
    conns = fake_services.connections
    elsewhere = tmp_path / "keep-me"
    elsewhere.mkdir()
    conns.ensure("vimeo", "local")
    conns.update("vimeo", local_profile_path=str(elsewhere))
    conns.remove("vimeo")
    assert elsewhere.is_dir()


def test_held_notes_are_queued_when_the_connection_becomes_active(
    fake_services: Services, clock: FakeClock
):
    notes, queue, conns = fake_services.notes, fake_services.queue, fake_services.connections
    conns.ensure("youtube", "local")
    conns.mark_active("youtube")
    view = notes.create(notes.validate({"video_url": YT, "timestamp_seconds": 5, "text": "hi"}))
    assert view.queued
    [[job]] = queue.claim("automation", 1)
    assert job.args == {"note_id": view.id}
    # what the posting worker does when it finds the login gone:
    notes.mark_posting(view.id, job.attempt)
    conns.mark_expired("youtube", "logged out")
    held = notes.hold(view.id, kind="session_expired", message="YouTube logged you out")
    queue.cancel(job.id, "held for reconnect")
    assert held.held
    clock.advance(5)  # well inside the queue's 60 s unique window
    conns.mark_active("youtube")
    again = notes.get(view.id)
    assert again.queued and again.error is None
    waiting = [j for j in queue.jobs_for(f"note:{view.id}") if j.state == "available"]
    assert len(waiting) == 1
    # a later mark_used (no new verification) does not queue anything again
    conns.mark_used("youtube")
    assert len(queue.jobs_for(f"note:{view.id}")) == 2
