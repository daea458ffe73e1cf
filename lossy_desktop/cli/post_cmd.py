"""`lossy-desktop post --until-idle`: run the posting queue headless, printing progress.

Exit 0 when every note that was queued ended posted; 1 when some failed or wait for a
reconnect; 124 on --timeout.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING

from lossy_desktop.automation.errors import note_error, plain_error
from lossy_desktop.core.clock import format_timecode
from lossy_desktop.core.note_state import state_after_post_discarded
from lossy_desktop.core.wording import state_word, step_text
from lossy_desktop.queue.pacing import pacing_wait

if TYPE_CHECKING:
    from lossy_desktop.cli import Subparsers
    from lossy_desktop.queue.runner import JobEvent
    from lossy_desktop.services import Services


def register(sub: Subparsers, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser("post", help="run the posting queue headless")
    p.add_argument(
        "--until-idle",
        action="store_true",
        required=True,
        help="run until no posting job is waiting or running (waits through retries)",
    )
    p.add_argument("--timeout", type=float, default=None, metavar="S", help="give up after S s")
    p.set_defaults(handler=_post)


def _post(args: argparse.Namespace, services: Services) -> int:
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.workers import build_runner

    before = {v.id for v in services.notes.list() if v.queued or v.status == "posting"}
    removing = {v.id for v in services.notes.list(status="posted") if v.removing}
    engine = AutomationEngine()
    runner = build_runner(services, engine)
    runner.add_listener(_Progress(services).on_event)
    try:
        runner.run_until_idle(timeout=args.timeout)
    except TimeoutError:
        print(f"gave up after {args.timeout:g} s; the rest stays queued", file=sys.stderr)
        return 124
    finally:
        runner.stop()
        engine.close()
    touched = [v for v in services.notes.list() if v.id in before or v.status == "posting"]
    posted = [v for v in touched if v.status == "posted"]
    if touched or not removing:
        print(f"{len(posted)} of {len(touched)} note(s) posted")
    for view in touched:
        if view.status != "posted":
            why = note_error(view) or "not posted"
            print(f"  note {view.id}: {state_word(view.state)} — {why}")
    retracted = [v for v in services.notes.list() if v.id in removing]
    removed = [v for v in retracted if v.status == "ghost"]
    if removing:
        print(f"{len(removed)} of {len(retracted)} comment(s) removed")
    for view in retracted:
        if view.status != "ghost":
            why = note_error(view) or "not removed"
            print(f"  note {view.id}: still {state_word(view.state)} — {why}")
    return 0 if len(posted) == len(touched) and len(removed) == len(retracted) else 1


class _Progress:
    def __init__(self, services: Services) -> None:
        self.services = services

    def on_event(self, event: JobEvent) -> None:
        if event.worker not in ("post_note", "retract_comment") or event.kind in (
            "inserted",
            "idle",
        ):
            return
        note_id = event.args.get("note_id")
        what = f"note {note_id}"
        platform = None
        if note_id is not None:
            try:
                view = self.services.notes.get(note_id)
                platform = view.platform
                what += f" ({view.platform} {format_timecode(view.timestamp_seconds)})"
            except Exception:  # the note is gone
                pass
        detail = ""
        if event.step:
            detail = step_text(event.step)
        elif event.error or event.error_kind:  # the sentence; the call log stays in the log
            final = event.kind == "discarded"
            detail = "— " + plain_error(event.error_kind, event.error, platform, final=final)
        kind = event.kind
        if kind == "discarded" and event.worker == "retract_comment":
            kind = "not removed"  # the queue's word; the comment stays (the note: posted)
        elif kind == "discarded":  # the note's word: "failed" or "waiting for login"
            kind = state_word(state_after_post_discarded(event.error_kind))
        until = pacing_wait(event)
        if until is not None:
            wait = math.ceil(max(until - self.services.clock(), 0.0))
            kind, detail = "waiting", f"— next comment in {wait} s"
            if event.kind == "snoozed":
                detail += " (browser released)"
        attempt = f"attempt {event.attempt}/{event.max_attempts}"
        print(f"{what}: {' '.join(filter(None, (kind, detail)))} [{attempt}]", flush=True)
