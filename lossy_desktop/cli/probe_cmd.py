"""`lossy-desktop probe PLATFORM VIDEO_URL [--json] [--wait S]`: check the live site's markup.

Uses the platform's connection to load the video page and reports, without posting anything:
the login state and account, whether comments are open, which alternative of every selector
group of the table in force matched (or none), and a screenshot saved in the data folder.
Exit 0 when everything needed to post was found, 1 when something is missing or stops posting,
2 when your selector override file was refused (the shipped table was used).

`lossy-desktop probe PLATFORM --print-table` prints the table in force as JSON: the shape of an
override file (`<data folder>/selectors/PLATFORM.json`).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from lossy_desktop.cli import print_json
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.platforms import PLATFORMS, get_platform

if TYPE_CHECKING:
    from lossy_desktop.automation.agents.probe import ProbeReport
    from lossy_desktop.automation.agents.table_file import SelectorTable
    from lossy_desktop.automation.errors import AutomationError
    from lossy_desktop.cli import Subparsers
    from lossy_desktop.services import Services

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_BAD_OVERRIDE = 2


def register(sub: Subparsers, _parser: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "probe",
        help="check a platform's page against the selector table (posts nothing)",
        description="Load a video page with the platform's connection and report the login, "
        "whether comments are open, and which selector of every group matched; a screenshot "
        "is saved in the data folder. Posts nothing. Exit 0 when everything needed to post "
        "was found, 1 when not, 2 when your selector override file was refused.",
    )
    p.add_argument("platform", choices=list(PLATFORMS))
    p.add_argument("video_url", nargs="?", metavar="VIDEO_URL", help="a video on the platform")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument(
        "--wait",
        type=float,
        default=10.0,
        metavar="S",
        help="how long to wait for each element before calling it missing (default 10 s)",
    )
    p.add_argument(
        "--print-table",
        action="store_true",
        help="print the selector table in force as JSON (the shape of an override file) and exit",
    )
    p.set_defaults(handler=_probe)


def _probe(args: argparse.Namespace, services: Services) -> int:
    from lossy_desktop.workers.probe import selector_table

    table = selector_table(services, args.platform)
    if args.print_table:
        return _print_table(table)
    if not args.video_url:
        raise ValidationError("VIDEO_URL", "give the address of a video to probe")
    if not 0.5 <= args.wait <= 120:
        raise ValidationError("--wait", "must be between 0.5 and 120 seconds")

    from lossy_desktop.automation.agents import Timeouts
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.automation.errors import AutomationError
    from lossy_desktop.workers.probe import probe_video

    label = get_platform(args.platform).label
    try:
        with AutomationEngine() as engine:
            report = probe_video(
                services,
                engine,
                args.platform,
                args.video_url,
                timeouts=Timeouts(element_s=args.wait),
            )
    except AutomationError as error:
        if args.json:
            print_json(
                {"platform": args.platform, "ok": False, "error": _error(error), "exit_code": 1}
            )
        else:
            print(f"lossy-desktop: {label}: {error.message}", file=sys.stderr)
        return EXIT_PROBLEM
    code = EXIT_BAD_OVERRIDE if table.error else EXIT_OK if report.ok else EXIT_PROBLEM
    if args.json:
        print_json({**report.public(), "exit_code": code})
    else:
        print(format_report(report, label, code))
    return code


def _error(error: AutomationError) -> dict[str, str]:
    return {"kind": error.kind, "message": error.message}


def _print_table(table: SelectorTable) -> int:
    from lossy_desktop.automation.agents.table_file import to_json

    if table.error:
        print(f"lossy-desktop: your selector override was refused: {table.error}", file=sys.stderr)
    print_json(to_json(table.selectors))
    return EXIT_BAD_OVERRIDE if table.error else EXIT_OK


_STATUS_LABEL = {
    "found": "ok",
    "missing": "MISSING",
    "present": "present",
    "absent": "absent",
    "unchecked": "-",
}


def format_report(report: ProbeReport, label: str, code: int) -> str:
    table = report.table
    lines = [f"{label} probe of {report.public()['video_url']}"]
    if report.page_url:
        status = f" (HTTP {report.http_status})" if report.http_status else ""
        lines.append(f"  page:       {report.public()['page_url']}{status}")
    if table["source"] == "override":
        lines.append(
            f"  selectors:  your override {table['path']} (sets {', '.join(table['groups'])})"
        )
    else:
        checked = "" if table["confirmed"] else " — UNCONFIRMED against the live site"
        lines.append(f"  selectors:  the shipped table{checked}")
    if table["error"]:
        lines.append(f"  REFUSED:    {table['error']}")
        lines.append("              (the shipped table was used instead)")
    if report.logged_in:
        who = f" as {report.account}" if report.account else " (account name not shown)"
        lines.append(f"  login:      logged in{who}")
    else:
        unknown = "unknown (a challenge page is shown)" if report.challenge else "unknown (no sign)"
        lines.append("  login:      " + ("NOT logged in" if report.logged_in is False else unknown))
    lines.append(f"  comments:   {report.comments}")
    challenge = report.challenge
    lines.append(f"  challenge:  {challenge['message'] if challenge else 'none'}")
    if report.error:
        lines.append(f"  error:      {report.error['message']}")
    lines.append("  selector groups (n = the alternative that matched, 1 = the table's first):")
    for g in report.groups:
        what = _STATUS_LABEL.get(g.status, g.status)
        if g.matched is not None:
            detail = f"#{g.matched} {g.selector}"
        elif g.status == "missing":
            detail = "none of: " + "; ".join(g.alternatives)
        else:
            detail = g.note or ""
        if g.note and g.matched is None and g.status == "missing":
            detail += f" ({g.note})"
        lines.append(f"    {what:<8} {g.group:<18} [{g.kind}] {detail}".rstrip())
    lines.append(f"  screenshot: {report.screenshot or 'none (the page could not be captured)'}")
    if code == EXIT_OK:
        lines.append("  result:     everything needed to post was found (exit 0)")
    else:
        problems = report.problems() or (
            ["your override file was refused"] if table["error"] else []
        )
        lines.append(f"  result:     {'; '.join(problems) or 'see above'} (exit {code})")
    return "\n".join(lines)
