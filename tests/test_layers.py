"""The layer rule: core, queue, automation and workers never import Qt; core and queue never
import Playwright. Checked on the source (every import statement, even inside functions) and at
run time (importing the layer loads neither)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "lossy_desktop"
QT_FREE = ["core", "queue", "automation", "workers", "services.py"]
PLAYWRIGHT_FREE = ["core", "queue"]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _files(parts: list[str]) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        target = PKG / part
        files += [target] if target.is_file() else sorted(target.rglob("*.py"))
    return files


@pytest.mark.parametrize(
    ("parts", "forbidden"),
    [(QT_FREE, ("PySide6", "qasync", "shiboken6")), (PLAYWRIGHT_FREE, ("playwright",))],
)
def test_layer_sources_do_not_import_forbidden(parts: list[str], forbidden: tuple[str, ...]):
    offences = [
        f"{path.relative_to(PKG.parent)}:{line} imports {name}"
        for path in _files(parts)
        for line, name in _imports(path)
        if name.split(".")[0] in forbidden
    ]
    assert offences == []


def test_importing_qt_free_layers_loads_no_qt_or_playwright():
    code = (
        "import sys, pkgutil, importlib\n"
        "import lossy_desktop.core, lossy_desktop.queue, lossy_desktop.services\n"
        "for pkg in ('lossy_desktop.core', 'lossy_desktop.queue'):\n"
        "    mod = importlib.import_module(pkg)\n"
        "    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):\n"
        "        if '.migrations' not in info.name: importlib.import_module(info.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'playwright')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
