"""Posting benchmark: our batched pipeline (unpaced, and at the default pacing) vs the original
plan's process-per-note, side by side.

Both variants post the same 60 notes over 6 videos (YouTube, Vimeo, Air: 2 videos each, 10
notes per video) on the same in-process offline sandbox (`lossy_desktop.sandbox`), with the same
platform agents and the same browser provider code, logged in to the sandbox the same way.

- ours:      Services on a fresh data folder; notes created through `services.notes` (queued
             automatically); `build_runner(services, engine).run_until_idle()`. The post_note
             worker posts all the queued notes of a video through ONE browser session and ONE
             page load. Browser-seconds: the `browser_usage` rows of the posting sessions.
             Pacing off (`comment_interval_s` 0, `automation_rate_allowed` 1000): the pipeline's
             own speed.
- paced:     the same at the pacing the app ships with (`comment_interval_s` 6 s + up to 50 %
             jitter, 10 comments per 60 s per account): what a user really gets. Checks that no
             two comments of one account are closer than 6 s on the platform's page and no 60 s
             holds more than 10 of them.
- baseline:  what SPRINT_04's "Python bridge" + "post_note.py" did: for EVERY note, Oban runs
             a NEW `python` process that opens a browser session on the connection's logged-in
             profile/context (the same provider code), connects over CDP, opens the video, posts
             that one note with the same agent, and exits. Like our queue, up to 3 at once
             (automation concurrency) and one at a time per platform connection (a profile or
             Browserbase context serves one session at a time). Browser-seconds: each
             session's duration as its provider measured it (the same UsageRecord).

After each variant the sandbox must show every note exactly once (the sandbox is reset between
variants). Prints notes per minute and browser-seconds per note, the ratios, and writes them to
bench/out/posting.json. Targets: ours >= 5x the baseline's notes per minute, and <= 1/5 of its
browser-seconds per note. Paced vs baseline is reported (notes per hour, Browserbase billed
seconds per note), with its checks. Exit code 1 when a target is missed or a check fails.

Run:  .venv/bin/python bench/posting_bench.py [--providers local,browserbase] [--notes-per-video 10]
      [--variants ours,paced,baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PLATFORMS = ("youtube", "vimeo", "air")
VIDEOS_PER_PLATFORM = 2
VIDEO_DURATION_S = 600
ACCOUNT = "Bench Reviewer"
TARGET_RATE_RATIO = 5.0
TARGET_SECONDS_RATIO = 5.0
OUT = ROOT / "bench" / "out" / "posting.json"
RATE_ALLOWED = 1000  # the politeness limit (default 10 per 60 s), raised for "ours"
VARIANTS = ("ours", "paced", "baseline")
BASELINE_TIMEOUT_S = 180.0


# --------------------------------------------------------------------------------------------
# The workload


@dataclass(frozen=True)
class BenchNote:
    key: int
    platform: str
    video: str
    seconds: int
    text: str

    def comment(self) -> str:
        from lossy_desktop.automation.agents import format_comment

        return format_comment(self.seconds, self.text)


def workload(notes_per_video: int) -> list[BenchNote]:
    notes: list[BenchNote] = []
    for platform in PLATFORMS:
        for v in range(VIDEOS_PER_PLATFORM):
            video = f"bench{platform[:2]}{v + 1}"
            for i in range(notes_per_video):
                seconds = 5 + (i * 57 + v * 13) % (VIDEO_DURATION_S - 10)
                text = f"Bench note {i + 1} on {video}: check the cut here"
                notes.append(BenchNote(len(notes) + 1, platform, video, seconds, text))
    return notes


def prepare_sandbox(sandbox: Any, notes: list[BenchNote]) -> None:
    sandbox.reset()
    for platform, video in sorted({(n.platform, n.video) for n in notes}):
        sandbox.set_video(platform, video, title=f"Bench {video}", duration=VIDEO_DURATION_S)


def verify(sandbox: Any, notes: list[BenchNote]) -> list[str]:
    """Every note on the sandbox exactly once, nothing else; the problems found (none: [])."""
    problems: list[str] = []
    all_comments = sandbox.comments()
    for note in notes:
        want = note.comment()
        found = [c for c in sandbox.comments(note.platform, note.video) if c["text"] == want]
        if len(found) != 1:
            problems.append(f"{note.platform}/{note.video}: {want!r} found {len(found)} times")
        elif found[0]["author"] != ACCOUNT:
            problems.append(f"{want!r} posted by {found[0]['author']!r}")
    if len(all_comments) != len(notes):
        problems.append(f"the sandbox has {len(all_comments)} comments for {len(notes)} notes")
    return problems


# --------------------------------------------------------------------------------------------
# Setting up a data folder with logged-in connections (both variants use this)


def open_services(data_dir: Path, sandbox: Any, *, paced: bool = False) -> Any:
    from lossy_desktop.services import Services

    services = Services.open(data_dir)
    services.settings.set("platform_base", sandbox.base_url)
    if not paced:  # the pipeline's own speed
        services.settings.set("automation_rate_allowed", RATE_ALLOWED)
        services.settings.set("comment_interval_s", 0)
    return services


def pacing_checks(sandbox: Any, interval: float, allowed: int, period: float) -> dict[str, Any]:
    """Per account, from the platform's own comment times: the least gap between two comments
    and the most comments in any `period`; the problems (gaps under `interval`, windows over
    `allowed`)."""
    out: dict[str, Any] = {"problems": []}
    for platform in PLATFORMS:
        times = sorted(c["created_at"] for c in sandbox.comments(platform))
        gaps = [b - a for a, b in itertools.pairwise(times)]
        most = max((sum(1 for u in times if t <= u < t + period) for t in times), default=0)
        out[platform] = {
            "min_gap_s": round(min(gaps), 2) if gaps else None,
            "median_gap_s": round(statistics.median(gaps), 2) if gaps else None,
            "most_in_period": most,
        }
        if gaps and min(gaps) < interval:
            out["problems"].append(f"{platform}: two comments {min(gaps):.2f} s apart")
        if most > allowed:
            out["problems"].append(f"{platform}: {most} comments within {period:g} s")
    return out


def connect_all(services: Any, engine: Any, sandbox: Any, provider: str) -> None:
    """Log each platform in the way the app does (LoginFlow), driving the login page."""
    from lossy_desktop.workers.connect import connect_with_login_form

    for platform in PLATFORMS:
        connect_with_login_form(
            services,
            engine,
            platform,
            login_url=sandbox.login_url(platform),
            account=ACCOUNT,
            provider=provider,
        )
        if services.connections.get(platform).status != "active":
            raise RuntimeError(f"the {platform} connection is not active after login")


@dataclass
class Result:
    variant: str
    provider: str
    notes: int
    wall_s: float
    sessions: int
    browser_s: float
    posted: int
    problems: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def notes_per_min(self) -> float:
        return self.posted / self.wall_s * 60.0 if self.wall_s > 0 else 0.0

    @property
    def notes_per_hour(self) -> float:
        return self.notes_per_min * 60.0

    @property
    def browser_s_per_note(self) -> float:
        return self.browser_s / self.posted if self.posted else float("inf")

    @property
    def billed_per_note(self) -> float:
        """Browserbase bills each session at least a minute (the local browser: nothing)."""
        return float(self.extra.get("billed_s", 0.0)) / self.posted if self.posted else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "provider": self.provider,
            "notes": self.notes,
            "posted": self.posted,
            "wall_s": round(self.wall_s, 2),
            "notes_per_min": round(self.notes_per_min, 1),
            "notes_per_hour": round(self.notes_per_hour),
            "sessions": self.sessions,
            "browser_s": round(self.browser_s, 2),
            "browser_s_per_note": round(self.browser_s_per_note, 3),
            "billed_s_per_note": round(self.billed_per_note, 2),
            "verified": not self.problems,
            "problems": self.problems[:20],
            **self.extra,
        }


# --------------------------------------------------------------------------------------------
# (a) ours


def run_ours(
    sandbox: Any, provider: str, notes: list[BenchNote], work: Path, *, paced: bool = False
) -> Result:
    from lossy_desktop.automation.engine import AutomationEngine
    from lossy_desktop.core.models import BrowserUsage
    from lossy_desktop.core.notes import validate_note
    from lossy_desktop.workers import build_runner

    variant = "paced" if paced else "ours"
    prepare_sandbox(sandbox, notes)
    data_dir = work / f"{variant}-{provider}"
    services = open_services(data_dir, sandbox, paced=paced)
    engine = AutomationEngine()
    try:
        connect_all(services, engine, sandbox, provider)
        inputs = [
            validate_note(
                {
                    "platform": n.platform,
                    "video_url": sandbox.video_url(n.platform, n.video),
                    "video_duration": VIDEO_DURATION_S,
                    "timestamp_seconds": n.seconds,
                    "text": n.text,
                    "confidence": 0.9,
                },
                services.settings,
            )
            for n in notes
        ]
        runner = build_runner(services, engine)
        started_clock = services.clock()
        t0 = time.perf_counter()
        views = [services.notes.create(i) for i in inputs]  # each is queued as it is created
        queued = sum(1 for v in views if v.queued)
        try:
            runner.run_until_idle(timeout=900)
        finally:
            runner.stop()
        wall = time.perf_counter() - t0

        from sqlalchemy import select

        with services.db.read() as session:
            rows = session.scalars(
                select(BrowserUsage).where(
                    BrowserUsage.purpose == "post", BrowserUsage.started_at >= started_clock
                )
            ).all()
            seconds = [float(r.seconds) for r in rows]
            billed = sum(float(r.billed_seconds) for r in rows)
        statuses = [services.notes.get(v.id) for v in views]
        posted = sum(1 for s in statuses if s.status == "posted")
        problems = verify(sandbox, notes)
        problems += [
            f"note {s.id} is {s.status} ({s.error_kind}: {s.error})"
            for s in statuses
            if s.status != "posted"
        ]
        if queued != len(notes):
            problems.append(f"only {queued} of {len(notes)} notes were queued on creation")
        extra: dict[str, Any] = {"billed_s": round(billed, 1), "session_s": _spread(seconds)}
        if paced:
            settings = services.settings
            checks = pacing_checks(
                sandbox,
                float(settings.get("comment_interval_s")),
                int(settings.get("automation_rate_allowed")),
                float(settings.get("automation_rate_period_s")),
            )
            problems += checks.pop("problems")
            extra["pacing"] = {
                "comment_interval_s": settings.get("comment_interval_s"),
                "rate": f"{settings.get('automation_rate_allowed')} per "
                f"{settings.get('automation_rate_period_s')} s",
                **checks,
            }
        return Result(
            variant,
            provider,
            len(notes),
            wall,
            len(seconds),
            sum(seconds),
            posted,
            problems,
            extra,
        )
    finally:
        engine.close()
        services.close()


# --------------------------------------------------------------------------------------------
# (b) the baseline: one new Python process (and browser session) per note


def run_baseline(
    sandbox: Any, provider: str, notes: list[BenchNote], work: Path, concurrency: int
) -> Result:
    from lossy_desktop.automation.engine import AutomationEngine

    prepare_sandbox(sandbox, notes)
    data_dir = work / f"baseline-{provider}"
    services = open_services(data_dir, sandbox)
    engine = AutomationEngine()
    try:
        connect_all(services, engine, sandbox, provider)
        connections = {p: services.connections.get(p) for p in PLATFORMS}
    finally:
        engine.close()
    jobs = [
        {
            "platform": n.platform,
            "provider": provider,
            "data_dir": str(data_dir),
            "local_profile_path": connections[n.platform].local_profile_path,
            "browserbase_context_id": connections[n.platform].browserbase_context_id,
            "video_url": sandbox.video_url(n.platform, n.video),
            "note_id": n.key,
            "timestamp": n.seconds,
            "text": n.text,
        }
        for n in notes
    ]
    services.close()

    outcomes: list[dict[str, Any]] = []
    lock = threading.Lock()
    slots = threading.Semaphore(concurrency)

    def per_platform(platform: str) -> None:
        for job in (j for j in jobs if j["platform"] == platform):
            with slots:
                outcome = _spawn(job)
            with lock:
                outcomes.append(outcome)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=per_platform, args=(p,)) for p in PLATFORMS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0

    seconds = [float(o["usage"]["seconds"]) for o in outcomes if o.get("usage")]
    billed = sum(float(o["usage"]["billed_seconds"]) for o in outcomes if o.get("usage"))
    posted = sum(1 for o in outcomes if o.get("posted"))
    problems = verify(sandbox, notes)
    problems += [f"note {o.get('note_id')}: {o.get('error')}" for o in outcomes if not o["posted"]]
    process_s = [float(o["process_s"]) for o in outcomes]
    return Result(
        "baseline",
        provider,
        len(notes),
        wall,
        len(seconds),
        sum(seconds),
        posted,
        problems,
        {
            "billed_s": round(billed, 1),
            "session_s": _spread(seconds),
            "process_s": _spread(process_s),
        },
    )


def _spawn(job: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--one-note"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=BASELINE_TIMEOUT_S,
            cwd=str(ROOT),
        )
    except subprocess.TimeoutExpired:
        return {"note_id": job["note_id"], "posted": False, "error": "timed out", "process_s": 0}
    elapsed = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        error = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {
            "note_id": job["note_id"],
            "posted": False,
            "error": f"exit {proc.returncode}: {error[0][:300]}",
            "process_s": elapsed,
        }
    outcome: dict[str, Any] = json.loads(lines[-1])
    outcome["process_s"] = elapsed
    return outcome


@dataclass(frozen=True)
class _Connection:
    """What a provider reads from a connection (ConnectionLike), passed on the command line."""

    platform: str
    provider: str
    browserbase_context_id: str | None
    browserbase_session_id: str | None
    local_profile_path: str | None


def one_note_main() -> int:
    """The baseline's per-note process (the plan's post_note.py): read one job from stdin, open
    a session, connect over CDP, open the video, post the note, close, print JSON, exit."""
    job = json.loads(sys.stdin.read())

    async def main() -> dict[str, Any]:
        from playwright.async_api import async_playwright

        from lossy_desktop.automation.agents import NoteToPost, agent_for
        from lossy_desktop.automation.providers import provider_for, session_scope
        from lossy_desktop.core.usage import UsageRecord

        connection = _Connection(
            platform=job["platform"],
            provider=job["provider"],
            browserbase_context_id=job["browserbase_context_id"],
            browserbase_session_id=None,
            local_profile_path=job["local_profile_path"],
        )
        provider = provider_for(connection, None, Path(job["data_dir"]))
        usage: list[UsageRecord] = []
        async with async_playwright() as playwright:
            try:
                async with session_scope(
                    provider, playwright, connection, purpose="post", on_usage=usage.append
                ) as session:
                    outcomes = await agent_for(job["platform"]).post(
                        session.page,
                        job["video_url"],
                        [NoteToPost(job["note_id"], job["text"], float(job["timestamp"]))],
                        artifacts_dir=Path(job["data_dir"]) / "artifacts",
                    )
                    session.notes_posted = sum(1 for o in outcomes if o.posted)
                error = outcomes[0].error
                return {
                    "note_id": job["note_id"],
                    "posted": outcomes[0].posted,
                    "error": str(error) if error else None,
                    "usage": usage[0].as_dict() if usage else None,
                }
            except Exception as exc:
                return {
                    "note_id": job["note_id"],
                    "posted": False,
                    "error": f"{type(exc).__name__}: {exc}",
                    "usage": usage[0].as_dict() if usage else None,
                }

    print(json.dumps(asyncio.run(main())))
    return 0


# --------------------------------------------------------------------------------------------
# Reporting


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "n": len(values),
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def compare_paced(paced: Result, base: Result) -> dict[str, Any]:
    """Default pacing against the plan's one-session-per-note (reported; checks only)."""
    return {
        "provider": paced.provider,
        "paced_notes_per_hour": round(paced.notes_per_hour),
        "baseline_notes_per_hour": round(base.notes_per_hour),
        "paced_billed_s_per_note": round(paced.billed_per_note, 2),
        "baseline_billed_s_per_note": round(base.billed_per_note, 2),
        "paced_browser_s_per_note": round(paced.browser_s_per_note, 2),
        "baseline_browser_s_per_note": round(base.browser_s_per_note, 2),
        "paced_sessions": paced.sessions,
        "baseline_sessions": base.sessions,
        "verified": not paced.problems and not base.problems,
    }


def compare(ours: Result, base: Result) -> dict[str, Any]:
    rate_ratio = ours.notes_per_min / base.notes_per_min if base.notes_per_min else float("inf")
    seconds_ratio = (
        base.browser_s_per_note / ours.browser_s_per_note if ours.browser_s_per_note else 0.0
    )
    return {
        "provider": ours.provider,
        "notes_per_min_ratio_ours_over_baseline": round(rate_ratio, 2),
        "browser_s_per_note_ratio_baseline_over_ours": round(seconds_ratio, 2),
        "rate_target_met": rate_ratio >= TARGET_RATE_RATIO,
        "browser_seconds_target_met": seconds_ratio >= TARGET_SECONDS_RATIO,
        "verified": not ours.problems and not base.problems,
    }


def print_table(
    results: list[Result], comparisons: list[dict[str, Any]], paced: list[dict[str, Any]]
) -> None:
    head = (
        f"{'variant':<9} {'provider':<12} {'posted':>7} {'wall s':>8} {'notes/min':>10} "
        f"{'notes/hour':>10} {'sessions':>8} {'browser s':>10} {'browser s/note':>15} "
        f"{'billed s/note':>14} {'verified':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.variant:<9} {r.provider:<12} {r.posted:>4}/{r.notes:<2} {r.wall_s:>8.1f} "
            f"{r.notes_per_min:>10.1f} {r.notes_per_hour:>10.0f} {r.sessions:>8} "
            f"{r.browser_s:>10.1f} {r.browser_s_per_note:>15.2f} {r.billed_per_note:>14.1f} "
            f"{'yes' if not r.problems else 'NO':>9}"
        )
        pacing = r.extra.get("pacing")
        if pacing:
            gaps = ", ".join(
                f"{p} min gap {pacing[p]['min_gap_s']} s (median {pacing[p]['median_gap_s']}), "
                f"at most {pacing[p]['most_in_period']} per period"
                for p in PLATFORMS
                if p in pacing
            )
            print(f"{'':<9} pacing {pacing['comment_interval_s']:g} s + jitter, "
                  f"{pacing['rate']}: {gaps}")  # fmt: skip
    print()
    for c in paced:
        print(
            f"{c['provider']}: default pacing {c['paced_notes_per_hour']} notes/hour, "
            f"{c['paced_billed_s_per_note']:g} billed s/note ({c['paced_sessions']} sessions) vs "
            f"one session per note {c['baseline_notes_per_hour']} notes/hour, "
            f"{c['baseline_billed_s_per_note']:g} billed s/note ({c['baseline_sessions']} sessions)"
        )
    for c in comparisons:
        print(
            f"{c['provider']}: notes/min ours/baseline = "
            f"{c['notes_per_min_ratio_ours_over_baseline']:.1f}x (target >= "
            f"{TARGET_RATE_RATIO:g}x: {'met' if c['rate_target_met'] else 'MISSED'}); "
            f"browser-s/note baseline/ours = "
            f"{c['browser_s_per_note_ratio_baseline_over_ours']:.1f}x (target >= "
            f"{TARGET_SECONDS_RATIO:g}x: {'met' if c['browser_seconds_target_met'] else 'MISSED'})"
        )
    for r in results:
        for problem in r.problems[:10]:
            print(f"  CHECK FAILED [{r.variant}/{r.provider}]: {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--providers",
        default="local,browserbase",
        help="comma-separated: local (this machine's Chromium), browserbase (the sandbox's "
        "fake Browserbase, which runs real Chromium)",
    )
    parser.add_argument("--notes-per-video", type=int, default=10)
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated: ours (pacing off), paced (the default pacing), baseline",
    )
    parser.add_argument("--concurrency", type=int, default=3, help="automation concurrency")
    parser.add_argument("--json", type=Path, default=OUT, help="where to write the results")
    parser.add_argument("--one-note", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_note:
        return one_note_main()

    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    bad = [p for p in providers if p not in ("local", "browserbase")]
    if bad or not providers:
        parser.error(f"unknown provider(s) {bad}: use local and/or browserbase")
    if args.notes_per_video < 1:
        parser.error("--notes-per-video must be at least 1")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or any(v not in VARIANTS for v in variants):
        parser.error(f"--variants: choose from {', '.join(VARIANTS)}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # the data folders' log files keep the INFO
        handler.setLevel(logging.WARNING)

    from lossy_desktop.sandbox.server import SandboxServer

    notes = workload(args.notes_per_video)
    work = Path(tempfile.mkdtemp(prefix="lossy-posting-bench-"))
    results: list[Result] = []
    comparisons: list[dict[str, Any]] = []
    paced_comparisons: list[dict[str, Any]] = []
    saved_env = {k: os.environ.get(k) for k in ("BROWSERBASE_API_KEY", "BROWSERBASE_BASE_URL")}
    print(
        f"{len(notes)} notes over {len(notes) // args.notes_per_video} videos "
        f"({', '.join(PLATFORMS)}; {args.notes_per_video} per video); automation concurrency "
        f"{args.concurrency}; ours: pacing off (comment_interval_s 0, {RATE_ALLOWED} comments "
        f"per period); paced: the defaults (6 s + up to 50 % jitter, 10 per 60 s per account)",
        flush=True,
    )
    try:
        with SandboxServer(port=0, max_sessions=max(3, args.concurrency)) as sandbox:
            for provider in providers:
                if provider == "browserbase":
                    os.environ["BROWSERBASE_API_KEY"] = sandbox.browserbase_api_key
                    os.environ["BROWSERBASE_BASE_URL"] = sandbox.base_url
                done: dict[str, Result] = {}
                for label in variants:
                    kwargs: dict[str, Any] = {}
                    runner: Callable[..., Result] = run_ours
                    if label == "baseline":
                        runner = run_baseline
                        kwargs["concurrency"] = args.concurrency
                    elif label == "paced":
                        kwargs["paced"] = True
                    print(f"running {label} ({provider}) ...", flush=True)
                    result = _run(runner, label, sandbox, provider, notes, work, **kwargs)
                    done[label] = result
                    results.append(result)
                    print(
                        f"  {result.posted}/{result.notes} posted in {result.wall_s:.1f} s, "
                        f"{result.sessions} sessions, {result.browser_s:.1f} browser-s",
                        flush=True,
                    )
                if "ours" in done and "baseline" in done:
                    comparisons.append(compare(done["ours"], done["baseline"]))
                if "paced" in done and "baseline" in done:
                    paced_comparisons.append(compare_paced(done["paced"], done["baseline"]))
                sandbox.reset()
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)

    print()
    print_table(results, comparisons, paced_comparisons)
    report = {
        "notes": len(notes),
        "videos": len(notes) // args.notes_per_video,
        "notes_per_video": args.notes_per_video,
        "concurrency": args.concurrency,
        "variants": variants,
        "ours_pacing_off_rate": RATE_ALLOWED,
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "results": [r.as_dict() for r in results],
        "comparisons": comparisons,
        "paced_vs_baseline": paced_comparisons,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    ok = all(
        c["rate_target_met"] and c["browser_seconds_target_met"] and c["verified"]
        for c in comparisons
    ) and all(not r.problems for r in results)
    return 0 if ok else 1


def _run(runner: Callable[..., Result], variant: str, *args: Any, **kwargs: Any) -> Result:
    try:
        return runner(*args, **kwargs)
    except Exception as exc:
        return Result(variant, args[1], len(args[2]), 0.0, 0, 0.0, 0, [f"crashed: {exc!r}"])


if __name__ == "__main__":
    sys.exit(main())
