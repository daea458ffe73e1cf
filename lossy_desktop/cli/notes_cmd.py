"""`lossy-desktop notes import | list | show | add | post | retry | cancel | retract | delete |
export`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lossy_desktop.cli import print_json
from lossy_desktop.core.clock import format_timecode
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.exporter import EXPORT_COLUMNS, export_csv  # noqa: F401  (re-exported)
from lossy_desktop.core.models import PLATFORMS
from lossy_desktop.core.note_state import STATES
from lossy_desktop.core.notes import NoteView
from lossy_desktop.core.wording import state_word

if TYPE_CHECKING:
    from lossy_desktop.cli import Subparsers
    from lossy_desktop.services import Services


def register(sub: Subparsers, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser("notes", help="import, list and change review notes")
    s = p.add_subparsers(dest="notes_command", metavar="ACTION", required=True)

    imp = s.add_parser(
        "import",
        help="import notes from a CSV, JSON array or JSON Lines file",
        description="Every row is checked first. Any bad row refuses the whole file (each bad "
        "line is listed) unless --skip-invalid. Notes already imported are skipped.",
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--skip-invalid", action="store_true", help="import the good rows anyway")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    imp.set_defaults(handler=_import)

    lst = s.add_parser("list", help="list notes")
    _filters(lst)
    lst.add_argument("--limit", type=int, default=None)
    lst.add_argument("--json", action="store_true", help="every field of every note, as JSON")
    lst.set_defaults(handler=_list)

    show = s.add_parser("show", help="one note, every field")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    add = s.add_parser("add", help="add one note (validated like an import)")
    add.add_argument("--platform", choices=PLATFORMS, help="default: from the URL's host")
    add.add_argument("--url", required=True, help="the video's address")
    add.add_argument("--time", required=True, help="seconds, or M:SS / H:MM:SS")
    add.add_argument("--text", required=True)
    add.add_argument(
        "--confidence",
        help="0..1 (default 1: a note you type is certain, so it is queued for posting)",
    )
    add.add_argument("--category")
    add.add_argument("--title", help="the video's title")
    add.add_argument("--duration", help="the video's length in seconds")
    add.add_argument("--external-id")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_add)

    post = s.add_parser("post", help="queue notes for posting now")
    post.add_argument("ids", type=int, nargs="+", metavar="ID")
    post.set_defaults(handler=_post)

    retry = s.add_parser("retry", help="queue a failed (or held) note again")
    retry.add_argument("id", type=int)
    retry.set_defaults(handler=_retry)

    cancel = s.add_parser("cancel", help="take a queued or held note off the queue")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(handler=_cancel)

    retract = s.add_parser(
        "retract",
        help="remove a posted note's comment from its platform (the note stays, as a ghost)",
        description="Queues the removal: the app does it when it runs, or run the queue with "
        "`lossy-desktop post --until-idle`. Only a posted note can be retracted.",
    )
    retract.add_argument("id", type=int)
    retract.add_argument("--json", action="store_true", help="print the note as JSON")
    retract.set_defaults(handler=_retract)

    delete = s.add_parser("delete", help="delete a note (and its failure screenshot)")
    delete.add_argument("id", type=int)
    delete.set_defaults(handler=_delete)

    export = s.add_parser("export", help="write notes to a CSV file (every field)")
    export.add_argument("file", type=Path)
    _filters(export)
    export.set_defaults(handler=_export)


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status",
        choices=STATES,
        help="held: waiting for login (the platform must be connected again)",
    )
    parser.add_argument("--platform", choices=PLATFORMS)
    parser.add_argument("--search", help="text found in the note, transcript, category or title")


def _line(view: NoteView) -> str:
    """One note in plain words: the state's word (core.wording) and the error's sentence;
    internal codes only in --json."""
    text = " ".join(view.text.split())
    if len(text) > 60:
        text = text[:59] + "…"
    extra = ""
    if view.state in ("failed", "held", "queued") and (view.error or view.error_kind):
        from lossy_desktop.automation.errors import note_error

        extra = f"  [{note_error(view)}]"
    elif view.state == "posted" and view.external_permalink:
        extra = f"  {view.external_permalink}"
    return (
        f"{view.id:>5}  {state_word(view.state):<17} {view.platform:<8} "
        f"{format_timecode(view.timestamp_seconds):>8}  {view.confidence:4.2f}  {text}{extra}"
    )


def _import(args: argparse.Namespace, services: Services) -> int:
    from lossy_desktop.core.importer import import_file

    report = import_file(services.notes, args.file, skip_invalid=args.skip_invalid)
    if args.json:
        print_json(report.to_dict())
        return 0
    print(report.summary())
    for error in report.invalid:
        print(f"  skipped {error}")
    return 0


def _list(args: argparse.Namespace, services: Services) -> int:
    views = services.notes.list(
        status=args.status, platform=args.platform, search=args.search, limit=args.limit
    )
    if args.json:
        print_json([v.to_dict() for v in views])
        return 0
    if not views:
        print("no notes")
        return 0
    print(f"{'ID':>5}  {'STATE':<17} {'PLATFORM':<8} {'TIME':>8}  CONF  TEXT")
    for view in views:
        print(_line(view))
    return 0


def _show(args: argparse.Namespace, services: Services) -> int:
    view = services.notes.get(args.id)
    data = view.to_dict()
    if args.json:
        print_json(data)
        return 0
    width = max(len(k) for k in data)
    for key, value in data.items():
        print(f"{key:<{width}}  {value}")
    return 0


def _add(args: argparse.Namespace, services: Services) -> int:
    fields = {
        "platform": args.platform,
        "video_url": args.url,
        "timestamp_seconds": args.time,
        "text": args.text,
        "confidence": args.confidence,
        "category": args.category,
        "video_title": args.title,
        "video_duration": args.duration,
        "external_id": args.external_id,
    }
    view = services.notes.create(services.notes.validate(fields))
    if args.json:
        print_json(view.to_dict())
    else:
        print(f"note {view.id} added ({state_word(view.state)})")
    return 0


def _post(args: argparse.Namespace, services: Services) -> int:
    for view in services.notes.post_now(args.ids):
        print(f"note {view.id} {state_word(view.state)}")
    return 0


def _retry(args: argparse.Namespace, services: Services) -> int:
    view = services.notes.retry(args.id)
    print(f"note {view.id} {state_word(view.state)}")
    return 0


def _cancel(args: argparse.Namespace, services: Services) -> int:
    view = services.notes.cancel(args.id)
    print(f"note {view.id} {state_word(view.state)}")
    return 0


def _retract(args: argparse.Namespace, services: Services) -> int:
    from lossy_desktop.workers.retract import queue_retract

    view = queue_retract(services, args.id)
    if args.json:
        print_json(view.to_dict())
        return 0
    from lossy_desktop.core.wording import platform_label

    print(
        f"note {view.id} {state_word(view.state)}: its comment will be deleted from "
        f"{platform_label(view.platform)} when the queue runs (the app, or "
        "`lossy-desktop post --until-idle`)"
    )
    return 0


def _delete(args: argparse.Namespace, services: Services) -> int:
    services.notes.delete(args.id)
    print(f"note {args.id} deleted")
    return 0


def _export(args: argparse.Namespace, services: Services) -> int:
    views = services.notes.list(status=args.status, platform=args.platform, search=args.search)
    try:
        export_csv(views, args.file)
    except OSError as error:
        raise ValidationError("file", f"can't write {args.file}: {error.strerror}") from None
    print(f"{len(views)} note(s) written to {args.file}", file=sys.stderr)
    return 0
