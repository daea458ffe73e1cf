"""Who may talk to the app's loopback servers (the recorder intake, the sandbox).

Binding to 127.0.0.1 keeps other machines out, but not web pages in the user's own browser: a
page on `evil.example` whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) reaches the
server with `Host: evil.example`, and a page anywhere may open a WebSocket to 127.0.0.1 (the
browser sends its `Origin`, and the server alone decides). So every loopback server answers only
requests whose Host names the loopback interface (421 otherwise), and accepts a WebSocket only
without an Origin (a program, not a page) or from its own origin.

Pure functions on header values: the aiohttp guards of the intake (app) and of the sandbox call
them, so both check the same way.
"""

from __future__ import annotations

import ipaddress
import sys
from urllib.parse import urlsplit

MISDIRECTED = "this server answers only on the loopback interface (127.0.0.1)"


def is_loopback_name(hostname: str) -> bool:
    """`localhost`, or an IP literal in 127.0.0.0/8 or ::1 (brackets allowed)."""
    name = hostname.strip().lower().rstrip(".")
    if name == "localhost":
        return True
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_host(host: str) -> str:
    """The host name of a Host header value (`name`, `name:port`, `[v6]`, `[v6]:port`)."""
    host = host.strip()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_is_loopback(host: str | None) -> bool:
    """Is this Host header one a DNS-rebinding page cannot send? (A page's Host is its own
    domain name; only `localhost` and IP literals name this machine's loopback.)"""
    if not host:
        return False
    return is_loopback_name(split_host(host))


def websocket_origin_allowed(origin: str | None, host: str | None) -> bool:
    """A WebSocket upgrade is allowed without an Origin (Playwright, the SDK: not a browser
    page) or from the server's own origin (`http://<the Host it was sent to>`): a page anywhere
    else (another site, a `file:` page, a sandboxed frame's `null`) is refused."""
    if origin is None:
        return True
    if not host or not host_is_loopback(host):
        return False
    parts = urlsplit(origin.strip().lower())
    return parts.scheme in ("http", "https") and parts.netloc == host.strip().lower()


def reuse_address() -> bool:
    """SO_REUSEADDR for a listening socket: on POSIX it only lets a restart bind again while old
    connections linger; on Windows it lets another process bind the same port and steal
    connections, so it stays off there."""
    return sys.platform != "win32"
