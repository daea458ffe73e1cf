"""A platform's selector table as a JSON file: the user's override, and the shipped table's
own JSON form (`lossy-desktop probe PLATFORM --print-table`).

`<data folder>/selectors/<platform>.json` overrides the shipped table without a new release
when a site changes its markup. Same shape as the shipped table: an object whose keys are the
table's groups (`to_json(SELECTORS["youtube"])` shows every one). A group left out keeps the
shipped alternatives. Each `Find` is one of

    {"css": "ytd-comment-simplebox-renderer #contenteditable-root"}
    {"role": "button", "name": "Comment", "exact": true}
    {"role": "textbox", "name_re": "comment"}          # a regex, case-insensitive
    {"text": "Comments are turned off."}  /  {"text_re": "comments are (turned )?off"}

and the CSS-only groups (`comment_text`, `comment_author`, `comment_link`, `held_in_item`,
`account_attrs`) are lists of strings. A file that cannot be used (bad JSON, an unknown group or
key, a bad regex or role) is refused with a message naming the file and what is wrong, and the
shipped table stays in force: `load_table` never raises.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from lossy_desktop.automation.agents.selectors import (
    CHALLENGE_GROUPS,
    SELECTORS,
    CommentControls,
    Find,
    PlatformSelectors,
    Role,
)

log = logging.getLogger("lossy.automation")

MAX_FILE_BYTES = 1_000_000
ROLES: tuple[str, ...] = get_args(Role)
FIND_KEYS = ("css", "role", "name", "name_re", "exact", "text", "text_re")

_FIELDS = {f.name: f for f in dataclasses.fields(PlatformSelectors)}
FIND_GROUPS: tuple[str, ...] = tuple(
    name for name, f in _FIELDS.items() if str(f.type) == "tuple[Find, ...]"
)
STRING_GROUPS: tuple[str, ...] = tuple(
    name for name, f in _FIELDS.items() if str(f.type) == "tuple[str, ...]"
)
GROUPS: tuple[str, ...] = tuple(n for n in _FIELDS if n not in ("platform", "confirmed"))


class TableError(ValueError):
    """What is wrong with a selector table file (the message names the group and entry)."""


@dataclass(frozen=True)
class SelectorTable:
    """The table in force for a platform, and where it came from."""

    selectors: PlatformSelectors
    source: str
    """"shipped", or "override" (the user's file is in force)."""
    path: Path | None
    """The override file looked for (whether or not it exists or was used)."""
    groups: tuple[str, ...] = ()
    """The groups the override sets (the rest are the shipped ones)."""
    error: str | None = None
    """Why the override file was refused (then the shipped table is in force)."""

    @property
    def platform(self) -> str:
        return self.selectors.platform

    def describe(self) -> str:
        if self.source == "override":
            return f"your override {self.path} (sets {', '.join(self.groups) or 'nothing'})"
        return "the shipped table"

    def public(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": str(self.path) if self.path else None,
            "groups": list(self.groups),
            "error": self.error,
            "confirmed": self.selectors.confirmed,
        }


def override_path(platform: str, selectors_dir: Path) -> Path:
    return selectors_dir / f"{platform}.json"


def load_table(platform: str, selectors_dir: Path | None) -> SelectorTable:
    """The table in force: the override file when there is a good one, else the shipped table.
    Never raises; a refused file is named in `error` (and logged once per version of it)."""
    shipped = SELECTORS[platform]
    if selectors_dir is None:
        return SelectorTable(shipped, "shipped", None)
    path = override_path(platform, selectors_dir)
    try:
        if not path.is_file():
            return SelectorTable(shipped, "shipped", path)
        stat = path.stat()
        if stat.st_size > MAX_FILE_BYTES:
            raise TableError(f"the file is larger than {MAX_FILE_BYTES // 1000} kB")
        raw = path.read_text(encoding="utf-8")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TableError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
        selectors, groups = from_json(data, shipped)
    except (OSError, UnicodeDecodeError, TableError) as exc:
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        error = f"{path}: {what}"
        _warn_once(path, error)
        return SelectorTable(shipped, "shipped", path, error=error)
    return SelectorTable(selectors, "override", path, groups)


_warned: set[tuple[str, str]] = set()


def _warn_once(path: Path, error: str) -> None:
    key = (str(path), error)
    if key not in _warned:
        _warned.add(key)
        log.warning("selector override refused; the shipped table is in force: %s", error)


# ---- JSON form ---------------------------------------------------------------------------------


def _pattern_json(value: str | re.Pattern[str]) -> tuple[bool, str]:
    if isinstance(value, re.Pattern):
        return True, value.pattern
    return False, value


def find_to_json(find: Find) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if find.css is not None:
        out["css"] = find.css
    elif find.role is not None:
        out["role"] = find.role
        if find.name is not None:
            is_re, text = _pattern_json(find.name)
            out["name_re" if is_re else "name"] = text
        if find.exact:
            out["exact"] = True
    elif find.text is not None:
        is_re, text = _pattern_json(find.text)
        out["text_re" if is_re else "text"] = text
        if find.exact:
            out["exact"] = True
    return out


def to_json(table: PlatformSelectors) -> dict[str, Any]:
    """The table as an override file holds it (every group)."""
    out: dict[str, Any] = {"platform": table.platform, "confirmed": table.confirmed}
    for name in GROUPS:
        value = getattr(table, name)
        if name in FIND_GROUPS:
            out[name] = [find_to_json(f) for f in value]
        elif name == "challenge_urls":
            out[name] = [list(pair) for pair in value]
        elif name == "controls":
            out[name] = _controls_to_json(value)
        elif name in STRING_GROUPS:
            out[name] = list(value)
        else:
            out[name] = value
    return out


CONTROLS_FIND_KEYS = ("menu", "delete", "confirm")
CONTROLS_KEYS = ("item_by_id", *CONTROLS_FIND_KEYS, "post_request", "newest_first")


def _controls_to_json(controls: CommentControls) -> dict[str, Any]:
    return {
        "item_by_id": list(controls.item_by_id),
        **{k: [find_to_json(f) for f in getattr(controls, k)] for k in CONTROLS_FIND_KEYS},
        "post_request": controls.post_request,
        "newest_first": controls.newest_first,
    }


def _controls_from_json(value: Any, base: CommentControls) -> CommentControls:
    """`base` with the keys `value` sets (an object with the keys of CONTROLS_KEYS)."""
    if not isinstance(value, dict):
        raise TableError(f"controls: must be an object with the keys {', '.join(CONTROLS_KEYS)}")
    unknown = [k for k in value if k not in CONTROLS_KEYS]
    if unknown:
        raise TableError(f"controls: unknown key {unknown[0]!r} (use {', '.join(CONTROLS_KEYS)})")
    changes: dict[str, Any] = {}
    for key in CONTROLS_FIND_KEYS:
        if key in value:
            if not isinstance(value[key], list):
                raise TableError(f"controls.{key}: must be a list")
            changes[key] = tuple(
                find_from_json(f"controls.{key}[{i}]", v) for i, v in enumerate(value[key])
            )
    if "item_by_id" in value:
        items = value["item_by_id"]
        if not isinstance(items, list) or not items:
            raise TableError("controls.item_by_id: must be a non-empty list of CSS templates")
        changes["item_by_id"] = tuple(
            _text(f"controls.item_by_id[{i}]", v) for i, v in enumerate(items)
        )
    if "post_request" in value:
        changes["post_request"] = _regex("controls.post_request", value["post_request"]).pattern
    if "newest_first" in value:
        if not isinstance(value["newest_first"], bool):
            raise TableError("controls.newest_first: must be true or false")
        changes["newest_first"] = value["newest_first"]
    return dataclasses.replace(base, **changes)


def _regex(where: str, value: Any) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise TableError(f"{where}: must be a non-empty string (a regular expression)")
    try:
        return re.compile(value, re.I)
    except re.error as exc:
        raise TableError(f"{where}: not a valid regular expression ({exc})") from None


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TableError(f"{where}: must be a non-empty string")
    return value


def find_from_json(where: str, data: Any) -> Find:
    if not isinstance(data, dict):
        raise TableError(f'{where}: must be an object like {{"css": "..."}}')
    unknown = [k for k in data if k not in FIND_KEYS]
    if unknown:
        raise TableError(f"{where}: unknown key {unknown[0]!r} (use {', '.join(FIND_KEYS)})")
    kinds = [k for k in ("css", "role", "text", "text_re") if k in data]
    if len(kinds) != 1:
        raise TableError(f"{where}: give exactly one of css, role, text or text_re")
    exact = data.get("exact", False)
    if not isinstance(exact, bool):
        raise TableError(f"{where}.exact: must be true or false")
    if ("name" in data or "name_re" in data) and "role" not in data:
        raise TableError(f"{where}: name and name_re go with role")
    if kinds[0] == "css":
        if exact:
            raise TableError(f"{where}: exact goes with role or text")
        return Find(css=_text(f"{where}.css", data["css"]))
    if kinds[0] == "role":
        role = data["role"]
        if role not in ROLES:
            raise TableError(f"{where}.role: {role!r} is not one of {', '.join(ROLES)}")
        if "name" in data and "name_re" in data:
            raise TableError(f"{where}: give name or name_re, not both")
        name: str | re.Pattern[str] | None = None
        if "name" in data:
            name = _text(f"{where}.name", data["name"])
        elif "name_re" in data:
            name = _regex(f"{where}.name_re", data["name_re"])
        return Find(role=role, name=name, exact=exact)
    if kinds[0] == "text":
        return Find(text=_text(f"{where}.text", data["text"]), exact=exact)
    return Find(text=_regex(f"{where}.text_re", data["text_re"]), exact=exact)


def from_json(data: Any, base: PlatformSelectors) -> tuple[PlatformSelectors, tuple[str, ...]]:
    """`base` with the groups `data` sets; raises TableError naming what is wrong."""
    if not isinstance(data, dict):
        raise TableError("must be a JSON object whose keys are the table's groups")
    platform = data.get("platform", base.platform)
    if platform != base.platform:
        raise TableError(f"platform: this file is for {base.platform!r}, not {platform!r}")
    unknown = [k for k in data if k not in GROUPS and k not in ("platform", "confirmed")]
    if unknown:
        raise TableError(f"unknown group {unknown[0]!r} (the groups: {', '.join(GROUPS)})")
    changes: dict[str, Any] = {}
    if "confirmed" in data:
        if not isinstance(data["confirmed"], bool):
            raise TableError("confirmed: must be true or false")
        changes["confirmed"] = data["confirmed"]
    for name in GROUPS:
        if name not in data:
            continue
        value = data[name]
        if name == "held_text":
            changes[name] = _regex(name, value).pattern
            continue
        if name == "controls":
            changes[name] = _controls_from_json(value, base.controls)
            continue
        if not isinstance(value, list):
            raise TableError(f"{name}: must be a list")
        if name in FIND_GROUPS:
            finds = tuple(find_from_json(f"{name}[{i}]", v) for i, v in enumerate(value))
            if not finds and name in NEEDED_NONEMPTY:
                raise TableError(f"{name}: needs at least one alternative")
            changes[name] = finds
        elif name == "challenge_urls":
            pairs = []
            for i, pair in enumerate(value):
                where = f"{name}[{i}]"
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise TableError(f"{where}: must be [group, regex]")
                if pair[0] not in CHALLENGE_GROUPS:
                    raise TableError(f"{where}: group must be one of {', '.join(CHALLENGE_GROUPS)}")
                pairs.append((str(pair[0]), _regex(where, pair[1]).pattern))
            changes[name] = tuple(pairs)
        else:
            changes[name] = tuple(_text(f"{name}[{i}]", v) for i, v in enumerate(value))
    groups = tuple(n for n in GROUPS if n in changes)
    return dataclasses.replace(base, **changes), groups


# Groups an agent cannot post without: an override may not empty them.
NEEDED_NONEMPTY: tuple[str, ...] = (
    "logged_in",
    "logged_out",
    "player",
    "editor",
    "submit",
    "comment_item",
)
