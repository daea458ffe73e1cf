"""`lossy-desktop sandbox [--port N] [--host 127.0.0.1]`: serve the offline sandbox until Ctrl+C."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from lossy_desktop.core.errors import ValidationError


def register(sub: Any, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "sandbox",
        help="serve mock YouTube, Vimeo and Air on 127.0.0.1",
        description="Serve the offline sandbox: mock YouTube (/youtube), Vimeo (/vimeo), Air "
        "(/air) and the sandbox's JSON API (/_sandbox/). Point the app at it with "
        "--platform-base URL.",
    )
    p.add_argument("--port", type=int, default=8765, help="port (0: any free one; default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (127.0.0.1)")
    p.set_defaults(handler=_serve, needs_services=False)


def _serve(args: argparse.Namespace, _services: Any) -> int:
    from lossy_desktop.sandbox.server import SandboxServer
    from lossy_desktop.sandbox.state import SandboxError

    if not 0 <= args.port <= 65535:
        raise ValidationError("--port", "must be between 0 and 65535")
    try:
        server = SandboxServer(port=args.port, host=args.host)
        server.start()
    except SandboxError as error:
        raise ValidationError("--host", str(error))
    except OSError as error:
        raise ValidationError("--port", f"can't serve on {args.host}:{args.port}: {error}")
    base = server.base_url
    print(f"Lossy sandbox on {base}  (Ctrl+C to stop)")
    for platform in ("youtube", "vimeo", "air"):
        print(f"  {platform:<8} {server.home_url(platform)}   login: {server.login_url(platform)}")
    print(f"  comments {base}/_sandbox/comments   faults: {base}/_sandbox/faults")
    print(f"  app      lossy-desktop --platform-base {base}")
    sys.stdout.flush()
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
