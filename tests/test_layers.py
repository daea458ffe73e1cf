"""The import rules of the README's layout table, each checked.

On the source: every import statement of every module (even inside functions; relative imports
resolved), against what its layer may import from the project and which outside packages it
must never import. Imports under `if TYPE_CHECKING:` are only type hints and load nothing, so
they are held to the project rule only for Qt and Playwright. At run time: importing a layer
loads none of the packages it must never load.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "lossy_desktop"
QT = ("PySide6", "qasync", "shiboken6")
QT_PW = (*QT, "playwright")
DATABASE = ("sqlalchemy", "alembic")
# core's modules that are the database (automation must never load them; core.billing,
# core.logs, core.paths, core.platforms, core.clock, core.errors, core.secrets are not).
CORE_DATABASE = (
    "lossy_desktop.core.db",
    "lossy_desktop.core.models",
    "lossy_desktop.core.notes",
    "lossy_desktop.core.connections",
    "lossy_desktop.core.usage",
    "lossy_desktop.core.importer",
    "lossy_desktop.core.app_state",
    "lossy_desktop.core.settings",
    "lossy_desktop.core.migrations",
)


@dataclass(frozen=True)
class Rule:
    layer: str
    may_import: frozenset[str]
    """Project layers this one may import (its own included)."""
    never: tuple[str, ...]
    """Outside packages (top-level names) and project modules it must never import."""
    extra: tuple[str, ...] = ()
    """Single project modules allowed beyond `may_import` (each explained at the rule)."""


def _r(layer: str, may: set[str], never: tuple[str, ...], extra: tuple[str, ...] = ()) -> Rule:
    return Rule(layer, frozenset(may | {layer}), never, extra)


RULES = [
    # core: SQLAlchemy, keyring; never Qt or Playwright, and no other layer.
    _r("core", {"<pkg>"}, QT_PW),
    # queue: core only.
    _r("queue", {"core"}, QT_PW),
    # automation: Playwright, httpx; never Qt or the database; never queue or workers.
    _r("automation", {"core"}, (*QT, *DATABASE, *CORE_DATABASE)),
    # workers: core, queue, automation; never Qt (services only as a type hint: see below).
    _r("workers", {"core", "queue", "automation"}, QT),
    # services.py: the composition root of the Qt-free layers.
    _r("services", {"core", "queue", "automation", "workers"}, QT),
    # app: everything above; no SQL (no SQLAlchemy) and no Playwright calls; never the CLI.
    _r(
        "app",
        {"<pkg>", "core", "queue", "automation", "workers", "services"},
        ("sqlalchemy", "alembic", "playwright"),
    ),
    # sandbox: web pages without Playwright; never the app (nor Qt). Its fake Browserbase starts
    # a real Chromium for each session, with the one launcher the app uses; its servers guard
    # their Host and Origin with the same pure checks as the intake (core/loopback.py); its
    # platforms take their comment limits from the app's platform table (core/platforms.py).
    _r(
        "sandbox",
        {"<pkg>"},
        QT_PW,
        extra=(
            "lossy_desktop.automation.chromium",
            "lossy_desktop.core.loopback",
            "lossy_desktop.core.platforms",
        ),
    ),
]
LAYERS = [r.layer for r in RULES]


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "lossy_desktop":
        return None
    if len(parts) == 1 or not ((PKG / parts[1]).is_dir() or (PKG / f"{parts[1]}.py").is_file()):
        return "<pkg>"  # the package itself (`from lossy_desktop import __version__`)
    return parts[1]


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_only_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def _imports(path: Path, root: Path) -> list[tuple[int, str, bool]]:
    """(line, absolute module, type hint only) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only = _type_only_lines(tree)
    here = _module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, node.lineno in typing_only) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import submodule` imports the submodule
            where = root.parent.joinpath(*module.split("."))
            names = [
                f"{module}.{a.name}"
                if (where / f"{a.name}.py").is_file() or (where / a.name / "__init__.py").is_file()
                else module
                for a in node.names
            ]
            found += [(node.lineno, n, node.lineno in typing_only) for n in names]
    return found


def _files(layer: str, root: Path = PKG) -> list[Path]:
    if (root / f"{layer}.py").is_file():
        return [root / f"{layer}.py"]
    return sorted((root / layer).rglob("*.py"))


def _offences(rule: Rule, root: Path = PKG) -> list[str]:
    out = []
    for path in _files(rule.layer, root):
        for line, name, type_only in _imports(path, root):
            where = f"{path.relative_to(root.parent)}:{line} imports {name}"
            top = name.split(".")[0]
            if top in rule.never or any(
                name == bad or name.startswith(bad + ".") for bad in rule.never
            ):
                if not (type_only and top not in QT_PW):
                    out.append(where)
                continue
            layer = _layer_of(name)
            if layer is None or type_only or layer in rule.may_import:
                continue
            if any(name == ok or name.startswith(ok + ".") for ok in rule.extra):
                continue
            out.append(f"{where} (layer {layer!r} is not allowed in {rule.layer!r})")
    return out


def test_every_layer_has_a_rule() -> None:
    folders = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {"core", "queue", "automation", "workers", "app", "sandbox"} <= folders
    assert set(LAYERS) >= {"core", "queue", "automation", "workers", "services", "app", "sandbox"}


@pytest.mark.parametrize("rule", RULES, ids=LAYERS)
def test_layer_imports_follow_the_layout_table(rule: Rule) -> None:
    assert _files(rule.layer), f"no files for layer {rule.layer}"
    assert _offences(rule) == []


def test_the_checker_catches_each_kind_of_offence(tmp_path: Path) -> None:
    """The rule check itself can fail: a queue module importing automation, an automation
    module importing the database, a relative import crossing layers."""
    bad = {
        "queue": "from lossy_desktop.automation import errors\n",
        "automation": "import sqlalchemy\nfrom lossy_desktop.core.notes import NoteService\n",
        "core": "from ..workers import post_note\n",
    }
    rules = {r.layer: r for r in RULES}
    root = tmp_path / "lossy_desktop"
    for layer, source in bad.items():
        (root / layer).mkdir(parents=True)
        (root / layer / "__init__.py").write_text("", encoding="utf-8")
        (root / layer / "probe.py").write_text(source, encoding="utf-8")
        assert len(_offences(rules[layer], root)) == source.count("\n"), layer
    # and a clean module passes
    (root / "queue" / "probe.py").write_text("from lossy_desktop.core import db\n")
    assert _offences(rules["queue"], root) == []


RUNTIME = [
    # (modules to import, with every submodule; packages that must not get loaded)
    (["lossy_desktop.core", "lossy_desktop.queue"], QT_PW),
    (["lossy_desktop.automation"], (*QT, *DATABASE)),
    (["lossy_desktop.workers", "lossy_desktop.services"], QT),
    (["lossy_desktop.sandbox"], QT_PW),
]


@pytest.mark.parametrize(
    ("modules", "forbidden"),
    RUNTIME,
    ids=["core+queue", "automation", "workers+services", "sandbox"],
)
def test_importing_a_layer_loads_nothing_it_must_not(
    modules: list[str], forbidden: tuple[str, ...]
) -> None:
    code = (
        "import sys, pkgutil, importlib\n"
        f"for pkg in {modules!r}:\n"
        "    mod = importlib.import_module(pkg)\n"
        "    for info in pkgutil.walk_packages(getattr(mod, '__path__', []), pkg + '.'):\n"
        "        if '.migrations' not in info.name: importlib.import_module(info.name)\n"
        f"bad = sorted({{m for m in sys.modules if m.split('.')[0] in {forbidden!r}}})\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _import_cycles(root: Path = PKG) -> list[list[str]]:
    """Groups of modules that import each other at run time (module level or inside a
    function; imports for type hints only do not count), as strongly connected components."""
    modules = {
        _module_name(p, root): p for p in sorted(root.rglob("*.py")) if "migrations" not in p.parts
    }

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = {owner(t) for _, t, typing_only in _imports(path, root) if not typing_only}
        # A module importing its own package (`from lossy_desktop.x import y`) is no cycle.
        graph[module] = {t for t in targets if t and t != module and not module.startswith(t + ".")}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            group = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in graph:
        if node not in order:
            visit(node)
    return cycles


def test_no_import_cycles() -> None:
    assert _import_cycles() == []


def test_the_cycle_checker_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "lossy_desktop"
    (pkg / "app").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "app" / "__init__.py").write_text("")
    (pkg / "app" / "a.py").write_text("from lossy_desktop.app.b import B\n")
    (pkg / "app" / "b.py").write_text("def f():\n    from lossy_desktop.app import a\n")
    hint_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
    hint_only += "    from lossy_desktop.app.a import A\n"
    (pkg / "app" / "c.py").write_text(hint_only)
    assert _import_cycles(pkg) == [["lossy_desktop.app.a", "lossy_desktop.app.b"]]
