"""`lossy-desktop queue status [--json]`: jobs per state and queue, the next scheduled run, and
each platform account's pacing (comments in the rate window, when the next comment may go)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from lossy_desktop.cli import print_json
from lossy_desktop.core.clock import to_datetime
from lossy_desktop.queue.states import JOB_STATES

if TYPE_CHECKING:
    from lossy_desktop.cli import Subparsers
    from lossy_desktop.services import Services

KNOWN_QUEUES = ("automation", "maintenance")


def register(sub: Subparsers, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser("queue", help="the posting queue")
    s = p.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    status = s.add_parser("status", help="jobs per state, next scheduled run")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)


def _iso(ts: float | None) -> str | None:
    moment = to_datetime(ts)
    return moment.isoformat(timespec="seconds") if moment is not None else None


def status_data(services: Services) -> dict[str, Any]:
    queue = services.queue
    per_queue = queue.counts_by_queue()
    for name in KNOWN_QUEUES:
        per_queue.setdefault(name, dict.fromkeys(JOB_STATES, 0))
    totals = dict.fromkeys(JOB_STATES, 0)
    for counts in per_queue.values():
        for state, n in counts.items():
            totals[state] += n
    queues: dict[str, Any] = {}
    for name in sorted(per_queue):
        entry: dict[str, Any] = {"counts": per_queue[name]}
        nxt = queue.next_scheduled_at(name)
        entry["next_scheduled_at"] = nxt
        entry["next_scheduled_at_local"] = _iso(nxt)
        queues[name] = entry
    nxt = queue.next_scheduled_at()
    return {
        "totals": totals,
        "queues": queues,
        "next_scheduled_at": nxt,
        "next_scheduled_at_local": _iso(nxt),
        "pacing": pacing_data(services),
    }


def pacing_data(services: Services) -> dict[str, Any]:
    """Per platform account (connected, or with pacing history): its comment window now."""
    pacer = services.pacer
    accounts = set(pacer.accounts()) | {c.platform for c in services.connections.list()}
    out: dict[str, Any] = {}
    for account in sorted(accounts):
        state = pacer.state(account)
        out[account] = {
            "comments_in_window": state.window.used,
            "allowed": state.window.allowed,
            "period_s": state.window.period_s,
            "comment_interval_s": pacer.interval_s(),
            "last_comment_at": state.last_comment_at,
            "next_comment_at": state.next_at,
            "next_comment_in_s": round(state.wait_s, 1),
            "waiting_for": state.reason,
        }
    return out


def _status(args: argparse.Namespace, services: Services) -> int:
    data = status_data(services)
    if args.json:
        print_json(data)
        return 0
    states = list(JOB_STATES)
    width = max(len(name) for name in data["queues"])
    print(f"{'queue':<{width}}  " + "  ".join(f"{s:>9}" for s in states))
    for name, entry in data["queues"].items():
        counts = entry["counts"]
        print(f"{name:<{width}}  " + "  ".join(f"{counts[s]:>9}" for s in states))
    print(f"{'total':<{width}}  " + "  ".join(f"{data['totals'][s]:>9}" for s in states))
    for account, pace in data["pacing"].items():
        wait = pace["next_comment_in_s"]
        print(
            f"{account}: {pace['comments_in_window']}/{pace['allowed']} comments in the last "
            f"{pace['period_s']:g} s; "
            + (f"next comment in {wait:.0f} s" if wait > 0 else "may comment now")
        )
    when = data["next_scheduled_at_local"]
    print(f"next scheduled run: {when}" if when else "next scheduled run: none")
    return 0
