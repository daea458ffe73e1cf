"""`lossy-desktop` (no subcommand) and `lossy-desktop open`: open the desktop app."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lossy_desktop.cli import Subparsers
    from lossy_desktop.services import Services


def register(sub: Subparsers, parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser("open", help="open the desktop app (the default with no command)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--minimized",
        dest="start_minimized",
        action="store_true",
        default=None,
        help="start in the tray without the window",
    )
    group.add_argument(
        "--no-minimized",
        dest="start_minimized",
        action="store_false",
        help="show the window even if start_minimized is set",
    )
    p.add_argument("--autostarted", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=open_app)
    parser._lossy_default_handler = open_app  # type: ignore[attr-defined]


def open_app(args: argparse.Namespace, services: Services) -> int:
    from lossy_desktop.app.main import run_app

    return run_app(
        services,
        start_minimized=getattr(args, "start_minimized", None),
        autostarted=bool(getattr(args, "autostarted", False)),
    )
