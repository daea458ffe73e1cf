"""`lossy-desktop demo`: the app on the offline sandbox, with sample notes, no account needed."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lossy_desktop.app.demo import DemoInfo, Progress
    from lossy_desktop.cli import Subparsers
    from lossy_desktop.services import Services

log = logging.getLogger("lossy.cli")


def register(sub: Subparsers, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo",
        help="open the app on an offline sandbox of YouTube, Vimeo and Air, with sample notes",
        description="Opens Lossy Desktop wired to a sandbox of YouTube, Vimeo and Air running "
        "on this computer, with sample notes and logged-in connections: watch notes go "
        "ghost → posting → posted with no account and no internet. Uses a throwaway data "
        "folder (deleted when you quit) unless --data-dir is given.",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the throwaway data folder after quitting (its path is printed)",
    )
    p.set_defaults(handler=run_demo, needs_services=False)


def run_demo(args: argparse.Namespace, _services: Services | None) -> int:
    from lossy_desktop.app.demo import demo_environment, prepare_demo
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.sandbox.server import SandboxServer
    from lossy_desktop.services import Services

    throwaway = args.data_dir is None
    root = Path(tempfile.mkdtemp(prefix="lossy-demo-")) if throwaway else Path(args.data_dir)
    print(f"Demo data folder: {root}")
    saved_env = {
        key: os.environ.get(key) for key in ("BROWSERBASE_BASE_URL", "BROWSERBASE_API_KEY")
    }
    try:
        with SandboxServer(port=0) as sandbox, Services.open(root, verbose=args.verbose) as svc:
            print(f"Sandbox (YouTube, Vimeo, Air) on {sandbox.base_url}")
            # A Browserbase connection made in the demo talks to the sandbox's fake API with
            # this run's random key (never the real service, never a fixed key).
            os.environ.update(demo_environment(sandbox))
            from lossy_desktop.app.main import run_app

            def prepare(progress: Progress) -> DemoInfo:
                # On its own thread while the window shows "Preparing the sandbox…".
                engine = AutomationEngine()
                try:
                    info = prepare_demo(svc, sandbox, engine, progress)
                finally:
                    engine.close()
                print(f"{info.notes} sample notes, {info.queued} of them queued to post.")
                return info

            svc.settings.set("intake_port", 0)  # never clash with a real Lossy Desktop's intake
            print("Opening the window; it prepares the sandbox (logs the demo account in)…")
            return run_app(svc, demo=True, start_minimized=False, prepare=prepare)
    finally:
        # This run's sandbox key and address die with it: put the caller's environment back.
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if throwaway and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        elif throwaway:
            print(f"Kept the demo data folder: {root}", file=sys.stderr)
