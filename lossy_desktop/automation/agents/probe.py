"""The probe: load a video page and report what the platform's selector table finds there,
without posting anything (nothing is typed or submitted; on YouTube the "Add a comment…"
placeholder is clicked so the editor and its submit button are drawn).

    report = await probe_page(agent, page, video_url, table=table, artifacts_dir=dir)
    report.ok           # everything needed to post was found
    report.public()     # the --json shape (no secrets: no cookies, tokens or live views)

For every selector group of the table the report says which alternative matched (1-based, in
table order) or that none did, and what that means:

- needed: posting needs it (the account sign, the player, the comment editor and its submit
  button, the placeholder when the editor is hidden behind one); none matching = `missing`.
- comments: how posted comments are read back (item, text, link, author); checked on the
  comments already on the page — with none there they are `unchecked`.
- sign: a sign that stops posting when present (logged out, comments off, a challenge page…).
- after_post: shown only after a submit (rate limits, holds, errors): reported, never failing.
- info: helpful but not needed (the comments section, the account's name).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError

from lossy_desktop.automation.agents.base import PlatformAgent
from lossy_desktop.automation.agents.selectors import CHALLENGE_GROUPS, Find
from lossy_desktop.automation.errors import AutomationError, classify
from lossy_desktop.core.logs import redact

if TYPE_CHECKING:
    from playwright.async_api import Page

    from lossy_desktop.automation.agents.table_file import SelectorTable

log = logging.getLogger("lossy.automation")

NEEDED = ("logged_in", "player", "editor", "submit")
COMMENT_GROUPS = ("comment_item", "comment_text", "comment_link", "comment_author")
SIGNS = (
    "logged_out",
    "session_expired",
    "video_unavailable",
    "comments_disabled",
    *CHALLENGE_GROUPS,
)
AFTER_POST = ("rate_limited", "held_notice", "post_error", "held_in_item")
INFO = ("comments_section", "account")
# Elements that may be present without being visible (a <video> without a poster, a section
# still empty before its comments load).
ATTACHED = ("player", "comments_section")

# Reads, inside the first comment items, which CSS alternative of each group matches.
_ITEM_GROUPS_JS = """
(els, groups) => {
  const out = {};
  for (const [name, sels] of Object.entries(groups)) {
    out[name] = null;
    for (let i = 0; i < sels.length && out[name] === null; i++) {
      for (const el of els.slice(0, 20)) {
        try { if (el.querySelector(sels[i])) { out[name] = i; break; } }
        catch (e) { out[name] = -1 - i; break; }
      }
    }
  }
  return out;
}
"""


@dataclass
class GroupResult:
    group: str
    kind: str
    """needed, comments, sign, after_post or info (see the module's docstring)."""
    status: str
    """found / missing (needed or comments), present / absent (signs), unchecked."""
    matched: int | None = None
    """1-based index of the alternative that matched (table order), None when none did."""
    selector: str | None = None
    alternatives: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def failing(self) -> bool:
        return self.status == "missing" or (self.kind == "sign" and self.status == "present")

    def public(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "kind": self.kind,
            "status": self.status,
            "matched": self.matched,
            "selector": self.selector,
            "alternatives": list(self.alternatives),
            "note": self.note,
        }


@dataclass
class ProbeReport:
    platform: str
    video_url: str
    table: dict[str, Any]
    page_url: str | None = None
    http_status: int | None = None
    logged_in: bool | None = None
    account: str | None = None
    comments: str = "unknown"
    """open, disabled or unknown."""
    challenge: dict[str, str] | None = None
    groups: list[GroupResult] = field(default_factory=list)
    screenshot: str | None = None
    error: dict[str, str] | None = None

    @property
    def missing(self) -> list[str]:
        return [g.group for g in self.groups if g.status == "missing"]

    @property
    def ok(self) -> bool:
        """Everything needed to post was found (logged in, comments open, no challenge)."""
        return (
            self.error is None
            and self.challenge is None
            and self.logged_in is True
            and self.comments == "open"
            and not any(g.failing for g in self.groups)
        )

    def problems(self) -> list[str]:
        """What stops posting, in plain words (empty when `ok`)."""
        out: list[str] = []
        if self.error is not None:
            out.append(self.error["message"])
        if self.challenge is not None:
            out.append(self.challenge["message"])
        if self.logged_in is False:
            out.append("not logged in")
        elif self.logged_in is None and self.error is None and self.challenge is None:
            out.append("the login could not be read (no account sign, no sign-in link)")
        if self.comments == "disabled":
            out.append("comments are turned off for this video")
        for g in self.groups:
            if g.status == "missing":
                out.append(f"{g.group}: no alternative matched")
            elif g.kind == "sign" and g.status == "present" and g.group not in SIGNS_SAID:
                out.append(f"{g.group}: present ({g.selector})")
        return out

    def public(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "video_url": redact(self.video_url),
            "page_url": redact(self.page_url) if self.page_url else None,
            "http_status": self.http_status,
            "table": dict(self.table),
            "login": {"logged_in": self.logged_in, "account": self.account},
            "comments": self.comments,
            "challenge": dict(self.challenge) if self.challenge else None,
            "groups": [g.public() for g in self.groups],
            "missing": self.missing,
            "screenshot": self.screenshot,
            "error": dict(self.error) if self.error else None,
            "ok": self.ok,
            "problems": self.problems(),
        }


# Signs already told by `problems()` in their own words.
SIGNS_SAID = ("logged_out", "comments_disabled", *CHALLENGE_GROUPS)


async def probe_page(
    agent: PlatformAgent,
    page: Page,
    video_url: str,
    *,
    table: SelectorTable,
    artifacts_dir: Path,
) -> ProbeReport:
    """Open `video_url` and report (see the module's docstring). Never posts; never raises for
    what the page shows (a failure to load is the report's `error`)."""
    report = ProbeReport(agent.platform, video_url, table.public())
    timeouts = agent.timeouts
    clicked: int | None = None
    try:
        response = await page.goto(
            video_url, wait_until="domcontentloaded", timeout=agent._ms(timeouts.navigation_s)
        )
        report.http_status = response.status if response is not None else None
        group = await agent.challenge_on(page)
        if group is None:
            try:
                login = await agent.check_login(page)
                report.logged_in, report.account = login.logged_in, login.account
            except AutomationError:  # neither sign: the groups below say what is missing
                group = await agent.challenge_on(page)
        if group is None and report.logged_in is not False:
            try:
                clicked = await _open_comments(agent, page)
            except Exception as exc:  # told, and the groups are still read
                error = classify(exc)
                report.error = {"kind": error.kind, "message": error.message}
            group = await agent.challenge_on(page)  # a late one (the player's bot check)
        if group is not None:
            message = agent.challenge_error(group, page.url).message
            report.challenge = {"kind": group, "message": message}
        report.page_url = page.url
        report.groups = await _groups(agent, page, clicked)
    except Exception as exc:  # the page did not load, the browser went away
        error = classify(exc)
        report.error = {"kind": error.kind, "message": error.message}
        report.page_url = report.page_url or (None if page.is_closed() else page.url)
    by_name = {g.group: g for g in report.groups}
    if report.groups:
        disabled = by_name["comments_disabled"].status == "present"
        box = by_name["editor"].status == "found" or by_name["placeholder"].status == "found"
        report.comments = "disabled" if disabled and not box else "open" if box else "unknown"
        signed_out = by_name["logged_out"].status == "present"
        if report.logged_in is None and signed_out and report.challenge is None:
            report.logged_in = False
        _settle_needs(report, by_name)
    report.screenshot = await _screenshot(page, artifacts_dir, agent.platform)
    log.info(
        "probe of %s: %s; missing: %s",
        agent.platform,
        "ok" if report.ok else "; ".join(report.problems()),
        ", ".join(report.missing) or "nothing",
    )
    return report


async def _open_comments(agent: PlatformAgent, page: Page) -> int | None:
    """Bring the comments in (lazily loaded), and open the editor behind its placeholder.
    Returns the index of the placeholder alternative clicked (None when none was)."""
    sel = agent.selectors
    timeout = agent._ms(agent.timeouts.element_s)
    section = await agent._first(page, sel.comments_section, state="attached", timeout_s=None)
    if section is not None:
        await section.scroll_into_view_if_needed(timeout=timeout)
    else:
        await page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    found = await agent._first(page, sel.placeholder + sel.editor + sel.comments_disabled)
    if found is None or not sel.placeholder or await agent._visible(page, sel.editor):
        return None
    index, _note = await _match(page, sel.placeholder, visible=True)
    if index is None:
        return None
    # Draws the editor and its submit button; nothing is typed.
    await sel.placeholder[index].locate(page).filter(visible=True).first.click(timeout=timeout)
    await agent._first(page, sel.editor)
    return index


async def _match(page: Page, finds: tuple[Find, ...], *, visible: bool) -> tuple[int | None, str]:
    """(index of the first alternative found, note) — a broken selector is named, not raised."""
    for index, find in enumerate(finds):
        try:
            loc = find.locate(page)
            if visible:
                loc = loc.filter(visible=True)
            if await loc.count():
                return index, ""
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return None, f"alternative {index + 1} ({find.describe()}) is not valid: {first}"
    return None, ""


async def _groups(agent: PlatformAgent, page: Page, clicked: int | None) -> list[GroupResult]:
    sel = agent.selectors
    out: list[GroupResult] = []

    def kind_of(name: str) -> str:
        if name in NEEDED or name == "placeholder":
            return "needed"
        if name in SIGNS:
            return "sign"
        if name in AFTER_POST:
            return "after_post"
        if name in COMMENT_GROUPS:
            return "comments"
        return "info"

    order = (
        *NEEDED,
        "placeholder",
        "comment_item",
        *SIGNS,
        *INFO,
        "rate_limited",
        "held_notice",
        "post_error",
    )
    for name in order:
        finds: tuple[Find, ...] = getattr(sel, name)
        result = GroupResult(name, kind_of(name), "", alternatives=[f.describe() for f in finds])
        if not finds:
            result.status = "unchecked"
            result.note = "the table has no alternatives for it"
            out.append(result)
            continue
        index: int | None
        if name == "placeholder" and clicked is not None:  # gone once clicked
            index, note = clicked, "clicked to open the editor"
        else:
            index, note = await _match(page, finds, visible=name not in ATTACHED)
        result.note = note or None
        if index is not None:
            result.matched, result.selector = index + 1, finds[index].describe()
        if result.kind == "sign" or result.kind == "after_post":
            result.status = "present" if index is not None else "absent"
        elif result.kind == "info":
            result.status = "found" if index is not None else "absent"
        else:
            result.status = "found" if index is not None else "missing"
        out.append(result)

    # Inside the comments already on the page: how a posted comment is read back.
    items = out[[g.group for g in out].index("comment_item")]
    css_groups = {
        "comment_text": sel.comment_text,
        "comment_link": sel.comment_link,
        "comment_author": sel.comment_author,
        "held_in_item": sel.held_in_item,
    }
    found: dict[str, int | None] = {}
    if items.matched is not None:
        loc = sel.comment_item[items.matched - 1].locate(page)
        found = await loc.evaluate_all(_ITEM_GROUPS_JS, {k: list(v) for k, v in css_groups.items()})
    for name, sels in css_groups.items():
        kind = "after_post" if name == "held_in_item" else "comments"
        result = GroupResult(name, kind, "", alternatives=[f"css={s}" for s in sels])
        value = found.get(name)
        if items.matched is None:
            result.status = "unchecked"
            result.note = "no comment on the page to check against"
        elif value is not None and value >= 0:
            result.matched, result.selector = value + 1, f"css={sels[value]}"
            result.status = "present" if kind == "after_post" else "found"
        elif value is not None:
            result.status = "unchecked"
            result.note = f"alternative {-value} (css={sels[-1 - value]}) is not valid CSS"
        else:
            result.status = "absent" if kind == "after_post" else "missing"
        out.append(result)
    kinds = ("needed", "comments", "sign", "info", "after_post")
    return sorted(out, key=lambda g: kinds.index(g.kind))


def _settle_needs(report: ProbeReport, by_name: dict[str, GroupResult]) -> None:
    """What counts as missing depends on the page: nothing is needed on a page that stops
    posting anyway; the placeholder only when the editor is hidden behind it; the comment
    items only when some comment is there to find."""
    stopped = report.challenge is not None or report.logged_in is False
    if stopped or report.comments == "disabled":
        for g in report.groups:
            if g.status == "missing" and (stopped or g.group not in ("logged_in", "player")):
                g.status = "unchecked"
                g.note = "not checked: " + (
                    "posting is stopped before it" if stopped else "comments off"
                )
        return
    placeholder, editor = by_name["placeholder"], by_name["editor"]
    if placeholder.status == "missing" and editor.status == "found":
        placeholder.status = "unchecked"
        placeholder.note = "the editor is open without it"
    item = by_name["comment_item"]
    if item.status == "missing":
        item.status = "unchecked"
        item.note = (
            "no comment matched: a video without comments, or the comments' markup changed — "
            "probe a video that has comments to check"
        )


async def _screenshot(page: Page, artifacts_dir: Path, platform: str) -> str | None:
    try:
        artifacts_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        path = artifacts_dir / f"probe-{platform}-{stamp}.png"
        n = 1
        while path.exists():
            n += 1
            path = artifacts_dir / f"probe-{platform}-{stamp}-{n}.png"
        await page.screenshot(path=str(path), full_page=True, timeout=10_000)
        return str(path)
    except Exception as exc:
        log.info("no probe screenshot: %s", redact(str(exc).splitlines()[0] if str(exc) else ""))
        return None


__all__ = ["GroupResult", "ProbeReport", "probe_page"]
