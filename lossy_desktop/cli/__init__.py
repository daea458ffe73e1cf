"""The `lossy-desktop` command line: scripting, support and tests. No subcommand opens the app.

Each command group lives in its own module with a `register(subparsers)` function; handlers take
`(args, services)` and return an exit code. Errors the user can fix are LossyError: their message
is printed, no traceback, and the exit code says which kind.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

from lossy_desktop import __version__
from lossy_desktop.core.errors import LossyError

if TYPE_CHECKING:
    # what each command module's `register(sub, parser)` receives as `sub`
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

log = logging.getLogger("lossy.cli")

# Modules under lossy_desktop.cli that add subcommands, in help order.
COMMAND_MODULES = (
    "settings_cmd",
    "notes_cmd",
    "queue_cmd",
    "post_cmd",
    "connections_cmd",
    "probe_cmd",
    "sandbox_cmd",
    "app_cmd",
    "demo_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lossy-desktop",
        description="Post confident video review notes as timestamped comments.",
    )
    parser.add_argument("--version", action="version", version=f"lossy-desktop {__version__}")
    _add_global_options(parser, default=None)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (database, Qt, QtWebEngine, browser, Playwright) "
        "offscreen in a temporary folder, print each check, exit 0 if all pass",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"lossy_desktop.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"lossy_desktop.cli.{name}":
                raise
            continue
        module.register(sub, parser)
    _spread_global_options(parser)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    """The options that apply to every command. On a subcommand their default is SUPPRESS, so
    `lossy-desktop demo --data-dir DIR` and `lossy-desktop --data-dir DIR demo` both work and a
    subcommand that does not name one leaves the value given before it untouched."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=default,
        help="data folder (default: LOSSY_DATA_DIR or the OS's per-user data folder)",
    )
    parser.add_argument(
        "--platform-base",
        metavar="URL",
        default=default,
        help="serve YouTube, Vimeo and Air "
        "from URL/youtube, URL/vimeo, URL/air (the sandbox); same as "
        "LOSSY_PLATFORM_BASE",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=False if default is None else default,
        help="log debug lines too",
    )


def _spread_global_options(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand (at every depth) the global options."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _add_global_options(child, default=argparse.SUPPRESS)
                _spread_global_options(child)


def main(argv: Sequence[str] | None = None) -> int:
    from lossy_desktop.core.paths import restrict_umask

    restrict_umask()  # before anything is written: what this process creates is its user's only
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        from lossy_desktop.selftest import run as run_self_test

        return run_self_test()
    if args.platform_base:
        os.environ["LOSSY_PLATFORM_BASE"] = args.platform_base
    handler = getattr(args, "handler", None)
    if handler is None:
        # No subcommand: open the app (the app_cmd module sets a default handler).
        handler = getattr(parser, "_lossy_default_handler", None)
        if handler is None:
            parser.print_help()
            return 2
    try:
        if getattr(args, "needs_services", True):
            from lossy_desktop.services import Services

            with Services.open(args.data_dir, verbose=args.verbose) as services:
                return int(handler(args, services) or 0)
        return int(handler(args, None) or 0)
    except LossyError as error:
        print(f"lossy-desktop: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lossy-desktop notes list --json | head`
        sys.stderr.close()
        return 0


def print_json(data: object) -> None:
    import json

    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
