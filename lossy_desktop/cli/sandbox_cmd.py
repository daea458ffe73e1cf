"""`lossy-desktop sandbox [--port N] [--host 127.0.0.1]`: serve the offline sandbox until Ctrl+C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from lossy_desktop.core.errors import ValidationError

if TYPE_CHECKING:
    from lossy_desktop.cli import Subparsers
    from lossy_desktop.services import Services


def register(sub: Subparsers, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "sandbox",
        help="serve mock YouTube, Vimeo, Air and a fake Browserbase API on 127.0.0.1",
        description="Serve the offline sandbox: mock YouTube (/youtube), Vimeo (/vimeo), Air "
        "(/air), the sandbox's JSON API (/_sandbox/) and a fake Browserbase API (/v1) backed "
        "by local Chromium. Point the app at it with --platform-base URL and "
        "BROWSERBASE_BASE_URL=URL. See lossy_desktop/sandbox/README.md.",
    )
    p.add_argument("--port", type=int, default=8765, help="port (0: any free one; default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (127.0.0.1)")
    p.add_argument(
        "--max-sessions", type=int, default=3, help="concurrent fake Browserbase sessions (3)"
    )
    p.add_argument(
        "--plan",
        choices=("free", "developer", "startup", "scale"),
        default="developer",
        help="fake Browserbase plan (free: no keepAlive, 15-minute sessions)",
    )
    p.set_defaults(handler=_serve, needs_services=False)


def _serve(args: argparse.Namespace, _services: Services | None) -> int:
    from lossy_desktop.sandbox.model import SandboxError
    from lossy_desktop.sandbox.server import SandboxServer

    if not 0 <= args.port <= 65535:
        raise ValidationError("--port", "must be between 0 and 65535")
    if args.max_sessions < 1:
        raise ValidationError("--max-sessions", "must be at least 1")
    # The key the fake Browserbase accepts: from the environment (never the command line), else
    # a fresh random one for this run, printed below for the app's BROWSERBASE_API_KEY.
    api_key = os.environ.get("SANDBOX_BROWSERBASE_KEY") or None
    try:
        server = SandboxServer(
            port=args.port,
            host=args.host,
            browserbase_api_key=api_key,
            max_sessions=args.max_sessions,
            plan=args.plan,
        )
    except SandboxError as error:
        raise ValidationError("--host", str(error))
    try:
        server.start()
    except OSError as error:
        raise ValidationError("--port", f"can't serve on {args.host}:{args.port}: {error}")
    base = server.base_url
    print(f"Lossy sandbox on {base}  (Ctrl+C to stop)")
    for platform in ("youtube", "vimeo", "air"):
        print(f"  {platform:<8} {server.home_url(platform)}   login: {server.login_url(platform)}")
    print(f"  comments {base}/_sandbox/comments   faults: {base}/_sandbox/faults")
    print(f"  browserbase  BROWSERBASE_BASE_URL={base}")
    if api_key:
        print("               API key: the one in SANDBOX_BROWSERBASE_KEY")
    else:
        print(f"               BROWSERBASE_API_KEY={server.browserbase_api_key}  (new each run)")
    print(f"  app      lossy-desktop --platform-base {base}")
    sys.stdout.flush()
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
    return 0
