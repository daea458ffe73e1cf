"""`lossy-desktop settings list | get KEY | set KEY VALUE | reset KEY`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from lossy_desktop.cli import print_json
from lossy_desktop.core.settings import SPECS

if TYPE_CHECKING:
    from lossy_desktop.cli import Subparsers
    from lossy_desktop.services import Services


def register(sub: Subparsers, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser("settings", help="read and change settings")
    s = p.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    lst = s.add_parser("list", help="every setting with its value")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_list)
    get = s.add_parser("get", help="one setting's value")
    get.add_argument("key")
    get.set_defaults(handler=_get)
    set_ = s.add_parser("set", help="change a setting (validated)")
    set_.add_argument("key")
    set_.add_argument("value")
    set_.set_defaults(handler=_set)
    reset = s.add_parser("reset", help="back to the default")
    reset.add_argument("key")
    reset.set_defaults(handler=_reset)


def _list(args: argparse.Namespace, services: Services) -> int:
    values = services.settings.all()
    if args.json:
        print_json(values)
        return 0
    width = max(len(k) for k in SPECS)
    for key, value in values.items():
        print(f"{key:<{width}}  {value!r:<24}  {SPECS[key].description}")
    return 0


def _get(args: argparse.Namespace, services: Services) -> int:
    print(services.settings.get(args.key))
    return 0


def _set(args: argparse.Namespace, services: Services) -> int:
    value = services.settings.set(args.key, args.value)
    print(f"{args.key} = {value!r}")
    return 0


def _reset(args: argparse.Namespace, services: Services) -> int:
    print(f"{args.key} = {services.settings.reset(args.key)!r}")
    return 0
