"""The recorder intake, against a real listening server on 127.0.0.1 and a real database."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from lossy_desktop.app.intake import IntakeServer, RateLimiter
from lossy_desktop.core import secrets
from lossy_desktop.services import Services

TOKEN = "intake-test-token-0123456789abcdef"


def note(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "platform": "youtube",
        "video_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "timestamp_seconds": 83,
        "text": "The cut at 1:23 is too abrupt",
        "category": "edit",
        "confidence": 0.9,
    }
    fields.update(overrides)
    return fields


def run_with_server(
    services: Services,
    body: Callable[[httpx.AsyncClient, IntakeServer], Awaitable[None]],
    **options: Any,
) -> None:
    async def main() -> None:
        server = IntakeServer(services, token=options.pop("token", lambda: TOKEN), **options)
        port = await server.start(0)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await body(client, server)
        finally:
            await server.stop()

    asyncio.run(main())


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_one_note_is_created_and_queued(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        response = await client.post("/v1/notes", json=note(), headers=AUTH)
        assert response.status_code == 201, response.text
        created = response.json()["created"]
        assert len(created) == 1
        view = services.notes.get(created[0]["id"])
        assert view.text == "The cut at 1:23 is too abrupt"
        assert view.timestamp_seconds == 83
        assert created[0]["queued"] is True  # 0.9 >= auto-post threshold 0.7

    run_with_server(services, body)


def test_an_array_of_notes_is_created(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        notes = [note(text=f"note {i}", timestamp_seconds=i, confidence=0.2) for i in range(5)]
        response = await client.post("/v1/notes", json=notes, headers=AUTH)
        assert response.status_code == 201, response.text
        assert [c["queued"] for c in response.json()["created"]] == [False] * 5
        assert services.notes.count() == 5

    run_with_server(services, body)


def test_no_token_or_wrong_token_is_401_and_writes_nothing(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": f"Bearer {TOKEN}x"},
        ):
            response = await client.post("/v1/notes", json=note(), headers=headers)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert TOKEN not in response.text
        assert services.notes.count() == 0

    run_with_server(services, body)


def test_no_keyring_means_503_with_the_reason(services: Services) -> None:
    # The test keyring is the failing backend: intake_token() has nowhere to keep a token.
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        response = await client.post("/v1/notes", json=note(), headers=AUTH)
        assert response.status_code == 503
        assert "keyring" in response.json()["error"]
        assert "BROWSERBASE_API_KEY" not in response.json()["error"]  # not the token's fix
        assert server.token_problem is not None

    run_with_server(services, body, token=lambda: secrets.intake_token(create=True))


def test_oversized_body_is_413(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        big = note(text="x" * 5000)
        response = await client.post("/v1/notes", json=big, headers=AUTH)
        assert response.status_code == 413
        # Without a Content-Length (chunked), the limit still holds.

        async def chunks() -> Any:
            for _ in range(10):
                yield b" " * 1000

        response = await client.post(
            "/v1/notes",
            content=chunks(),
            headers={**AUTH, "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert services.notes.count() == 0

    run_with_server(services, body, max_body=4096)


def test_a_bad_note_is_422_naming_the_field_and_nothing_is_written(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        batch = [note(text="good one"), note(confidence=1.5), note(text="another good one")]
        response = await client.post("/v1/notes", json=batch, headers=AUTH)
        assert response.status_code == 422
        problem = response.json()
        assert problem["field"] == "confidence"
        assert problem["index"] == 1
        assert "confidence" in problem["error"]
        for bad, field in (
            (note(text="   "), "text"),
            (note(video_url="https://evil.example/watch?v=1"), "video_url"),
            (note(platform="myspace"), "platform"),
            (note(timestamp_seconds=-3), "timestamp_seconds"),
        ):
            response = await client.post("/v1/notes", json=bad, headers=AUTH)
            assert response.status_code == 422, (bad, response.text)
            assert response.json()["field"] == field
        response = await client.post("/v1/notes", json=["not an object"], headers=AUTH)
        assert response.status_code == 422
        assert services.notes.count() == 0

    run_with_server(services, body)


def test_invalid_json_and_empty_arrays_are_refused(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        headers = {**AUTH, "Content-Type": "application/json"}
        response = await client.post("/v1/notes", content=b"{not json", headers=headers)
        assert response.status_code == 400
        response = await client.post("/v1/notes", json=[], headers=AUTH)
        assert response.status_code == 422
        response = await client.post(
            "/v1/notes", content=json.dumps(note()), headers={**AUTH, "Content-Type": "text/xml"}
        )
        assert response.status_code == 415

    run_with_server(services, body)


def test_rate_limit_answers_429_with_retry_after(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        statuses = []
        for i in range(5):
            response = await client.post(
                "/v1/notes", json=note(text=f"n{i}", timestamp_seconds=i), headers=AUTH
            )
            statuses.append(response.status_code)
        assert statuses == [201, 201, 201, 429, 429]
        assert int(response.headers["Retry-After"]) >= 1
        assert services.notes.count() == 3

    run_with_server(services, body, rate_limit=3, rate_period=60.0)


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10.0, clock=lambda: now[0])
    assert limiter.hit() is None
    now[0] = 4.0
    assert limiter.hit() is None
    assert limiter.hit() == pytest.approx(6.0)
    now[0] = 10.5  # the first hit left the window
    assert limiter.hit() is None
    assert limiter.hit() == pytest.approx(3.5)


def test_health_needs_no_token_and_says_nothing_more(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        response = await client.get("/v1/health")
        assert response.status_code == 200
        assert set(response.json()) == {"ok", "version"}

    run_with_server(services, body)


def test_cors_only_for_the_configured_origin(services: Services) -> None:
    services.settings.set("recorder_origin", "https://recorder.example")

    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        good = {"Origin": "https://recorder.example"}
        preflight = await client.options(
            "/v1/notes",
            headers={
                **good,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://recorder.example"
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
        response = await client.post("/v1/notes", json=note(), headers={**AUTH, **good})
        assert response.status_code == 201
        assert response.headers["Access-Control-Allow-Origin"] == "https://recorder.example"

        evil = {"Origin": "https://evil.example"}
        preflight = await client.options(
            "/v1/notes", headers={**evil, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 403
        assert "Access-Control-Allow-Origin" not in preflight.headers
        response = await client.post("/v1/notes", json=note(text="x"), headers={**AUTH, **evil})
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response.headers
        assert services.notes.count() == 1

    run_with_server(services, body)


def test_no_origin_configured_means_no_cors_at_all(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        response = await client.get("/v1/health", headers={"Origin": "http://localhost:3000"})
        assert response.status_code == 403
        response = await client.get("/v1/health")
        assert "Access-Control-Allow-Origin" not in response.headers

    run_with_server(services, body)


def test_a_foreign_host_header_is_refused(services: Services) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example.
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        response = await client.get("/v1/health", headers={"Host": "evil.example"})
        assert response.status_code == 421
        response = await client.get("/v1/health", headers={"Host": f"localhost:{server.port}"})
        assert response.status_code == 200

    run_with_server(services, body)


def test_listens_on_loopback_only(services: Services) -> None:
    async def main() -> None:
        server = IntakeServer(services, token=lambda: TOKEN)
        port = await server.start(0)
        try:
            assert server._site is not None
            sockets = server._site._server.sockets  # type: ignore[union-attr]
            assert {s.getsockname()[0] for s in sockets} == {"127.0.0.1"}
            # Not reachable on another local address: 127.0.0.2 is a live local address (a
            # listener bound there is reached), which a server bound to every address (or to
            # it) would answer on; ours refuses.
            assert _live("127.0.0.2"), "127.0.0.2 is not a usable local address here"
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.2", port), timeout=1).close()
            other = _non_loopback_address()
            if other is not None:  # also the machine's network address, when it has one
                with pytest.raises(OSError):
                    socket.create_connection((other, port), timeout=1).close()
        finally:
            await server.stop()

    asyncio.run(main())


def _live(address: str) -> bool:
    """Can a listener bound to `address` be reached there (a usable local address)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        try:
            listener.bind((address, 0))
        except OSError:
            return False
        listener.listen(1)
        try:
            socket.create_connection((address, listener.getsockname()[1]), timeout=1).close()
        except OSError:
            return False
    return True


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


# -- the token in a real (in-memory) keyring backend ------------------------------------------


def test_keyring_token_is_created_then_regenerated(services: Services, memory_keyring: Any) -> None:
    async def main() -> None:
        server = IntakeServer(services)  # the real token source: core/secrets.intake_token
        port = await server.start(0)
        try:
            first = memory_keyring.store[(secrets.SERVICE, secrets.INTAKE_TOKEN)]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                headers = {"Authorization": f"Bearer {first}"}
                assert (
                    await client.post("/v1/notes", json=note(), headers=headers)
                ).status_code == 201
                secrets.set_secret(secrets.INTAKE_TOKEN, "a-brand-new-token-value-42")
                await server.reload_token()
                old = await client.post("/v1/notes", json=note(text="b"), headers=headers)
                assert old.status_code == 401
                new = await client.post(
                    "/v1/notes",
                    json=note(text="c"),
                    headers={"Authorization": "Bearer a-brand-new-token-value-42"},
                )
                assert new.status_code == 201
        finally:
            await server.stop()

    asyncio.run(main())


# -- the controller on the app's qasync loop -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONTROLLER_SCENARIO = """
import asyncio, socket, sys
import httpx, qasync
from PySide6.QtWidgets import QApplication
from lossy_desktop.app.intake import IntakeController
from lossy_desktop.services import Services

TOKEN = sys.argv[2]
app = QApplication([])
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

with Services.open(sys.argv[1]) as services:
    controller = IntakeController(services, token=lambda: TOKEN)
    states, received = [], []
    controller.stateChanged.connect(states.append)
    controller.notesReceived.connect(received.append)

    async def post(port):
        async with httpx.AsyncClient() as client:
            return await client.post(
                f"http://127.0.0.1:{port}/v1/notes",
                json={"video_url": "https://www.youtube.com/watch?v=x", "timestamp_seconds": 3,
                      "text": "from the recorder"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )

    async def main():
        port = free_port()
        services.settings.set("intake_port", port)
        await controller.apply()
        assert controller.port == port, states
        assert states[-1] == f"Listening on 127.0.0.1:{port}", states
        response = await post(port)
        assert response.status_code == 201, response.text
        assert received == [[response.json()["created"][0]["id"]]], received
        # A port someone else holds: said in plain words, nothing crashes.
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            services.settings.set("intake_port", blocker.getsockname()[1])
            await controller.apply()
            assert "in use" in states[-1], states
            assert controller.port is None
        services.settings.set("intake_port", 0)
        await controller.apply()
        assert states[-1] == "Off" and controller.port is None, states
        await controller.aclose()

    with loop:
        loop.run_until_complete(main())
print("scenario ok")
"""


def test_controller_follows_the_port_setting_on_the_qt_loop(tmp_path: Any) -> None:
    """On a real qasync loop, in its own process as in the app (one QApplication, one loop):
    start, serve, a port in use said in plain words, off; no QThread left running at exit."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    out = subprocess.run(
        [sys.executable, "-c", CONTROLLER_SCENARIO, str(tmp_path / "data"), TOKEN],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "scenario ok" in out.stdout
    assert "QThread" not in out.stderr


def test_requests_without_the_token_cannot_lock_the_recorder_out(services: Services) -> None:
    # Issue 10: the rate limit was counted before authentication, so 60 requests without a
    # token locked the real recorder out for a minute.
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        statuses = []
        for _ in range(6):
            response = await client.post("/v1/notes", json=note(), headers={})
            statuses.append(response.status_code)
        assert statuses == [401] * 6
        response = await client.post("/v1/notes", json=note(), headers=AUTH)
        assert response.status_code == 201, response.text
        assert services.notes.count() == 1

    run_with_server(services, body, rate_limit=3, rate_period=60.0)


def test_failed_authentications_are_limited_on_their_own(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        statuses = []
        for _ in range(6):
            response = await client.post(
                "/v1/notes", json=note(), headers={"Authorization": "Bearer guess"}
            )
            statuses.append(response.status_code)
        assert statuses == [401] * 4 + [429] * 2
        assert int(response.headers["Retry-After"]) >= 1
        # The right token still gets in; then the request limit (3) applies to it.
        statuses = []
        for i in range(4):
            response = await client.post(
                "/v1/notes", json=note(text=f"n{i}", timestamp_seconds=i), headers=AUTH
            )
            statuses.append(response.status_code)
        assert statuses == [201, 201, 201, 429]

    run_with_server(services, body, rate_limit=3, auth_fail_limit=4, rate_period=60.0)


async def _raw_request(port: int, header_lines: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /v1/notes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + header_lines
            + b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        )
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()


def test_a_token_that_is_not_utf8_is_just_a_wrong_token(services: Services) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        assert server.port is not None
        answer = await _raw_request(
            server.port, b"Authorization: Bearer \xff\xfe" + b"x" * 10 + b"\r\n"
        )
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]

    run_with_server(services, body)


def test_a_malformed_header_gets_a_plain_400_without_the_line_or_a_traceback(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        assert server.port is not None
        for line in (
            b"Authorization Bearer " + TOKEN.encode() + b"\r\n",  # no colon
            b"Authorization: Bearer " + TOKEN.encode() + b"\x01\r\n",  # a control character
        ):
            answer = await _raw_request(server.port, line)
            status, _, text = answer.partition(b"\r\n\r\n")
            assert status.split(b"\r\n")[0].split(b" ")[1] == b"400", answer[:200]
            assert text.strip() == b"400 Bad Request"
            assert TOKEN.encode() not in answer

    caplog.set_level(logging.DEBUG)
    run_with_server(services, body)
    assert TOKEN not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]


def test_no_reuse_address_on_windows(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # SO_REUSEADDR on Windows lets another process bind the same port and take connections.
    seen: list[Any] = []
    original = asyncio.BaseEventLoop.create_server

    async def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("reuse_address"))
        return await original(self, *args, **{**kwargs, "reuse_address": True})

    monkeypatch.setattr(asyncio.BaseEventLoop, "create_server", spy)
    run_with_server(services, lambda client, server: asyncio.sleep(0))
    monkeypatch.setattr("sys.platform", "win32")
    run_with_server(services, lambda client, server: asyncio.sleep(0))
    assert seen == [True, False]


def test_a_resent_batch_is_listed_under_duplicates(services: Services) -> None:
    """The recorder sends again after a lost answer: nothing is stored twice; the resent notes
    are listed (by their index in the request) under `duplicates`."""

    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        batch = [
            note(external_id="rec-1", text="first"),
            note(text="second, no external id", timestamp_seconds=90),
        ]
        first = await client.post("/v1/notes", json=batch, headers=AUTH)
        assert first.status_code == 201 and first.json()["duplicates"] == []
        assert len(first.json()["created"]) == 2
        again = await client.post(
            "/v1/notes", json=[*batch, note(text="new", timestamp_seconds=7)], headers=AUTH
        )
        assert again.status_code == 201, again.text
        assert again.json()["duplicates"] == [0, 1]
        assert [c["external_id"] for c in again.json()["created"]] == [None]
        resent = await client.post("/v1/notes", json=batch, headers=AUTH)
        assert resent.status_code == 200  # nothing new
        assert resent.json() == {"created": [], "duplicates": [0, 1]}
        assert services.notes.count() == 3

    run_with_server(services, body)


def test_413_at_the_real_default_of_1_mb(services: Services) -> None:
    """The default server (no test limits): a body just under 1 MB is read; over it, 413."""
    from lossy_desktop.app.intake import MAX_BODY

    assert MAX_BODY == 1_000_000  # the README's "413 over 1 MB"

    def padded(size: int) -> bytes:
        raw = json.dumps(note()).encode()
        return raw + b" " * (size - len(raw))  # JSON allows trailing whitespace

    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        headers = {**AUTH, "Content-Type": "application/json"}
        under = await client.post("/v1/notes", content=padded(MAX_BODY), headers=headers)
        assert under.status_code == 201, under.text
        over = await client.post("/v1/notes", content=padded(MAX_BODY + 1), headers=headers)
        assert over.status_code == 413
        assert services.notes.count() == 1

    run_with_server(services, body)


def test_429_at_the_real_default_of_60_a_minute(services: Services) -> None:
    from lossy_desktop.app.intake import RATE_LIMIT, RATE_PERIOD

    assert (RATE_LIMIT, RATE_PERIOD) == (60, 60.0)  # the README's "429 over 60 requests a minute"

    async def body(client: httpx.AsyncClient, server: IntakeServer) -> None:
        statuses = []
        for i in range(RATE_LIMIT + 1):
            response = await client.post(
                "/v1/notes", json=note(text=f"n{i}", timestamp_seconds=i), headers=AUTH
            )
            statuses.append(response.status_code)
        assert statuses == [201] * RATE_LIMIT + [429]
        assert int(response.headers["Retry-After"]) >= 1
        assert services.notes.count() == RATE_LIMIT

    run_with_server(services, body)
