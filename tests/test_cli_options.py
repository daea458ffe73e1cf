"""Global options (--data-dir, --platform-base, -v) work before and after any subcommand."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from lossy_desktop.cli import build_parser, main


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


def _required_arguments(parser: argparse.ArgumentParser) -> list[str]:
    values: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        if action.option_strings and not action.required:
            continue
        if not action.option_strings and action.nargs in ("?", "*"):
            continue
        if action.option_strings and action.nargs == 0:  # a required flag (post --until-idle)
            values.append(action.option_strings[0])
            continue
        value = str(next(iter(action.choices))) if action.choices else "1"
        values += [action.option_strings[0], value] if action.option_strings else [value]
    return values


LEAVES = list(_leaves(build_parser()))


def test_every_subcommand_is_covered() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    for expected in (
        "demo",
        "open",
        "post",
        "notes list",
        "notes export",
        "connections add",
        "settings set",
        "queue status",
        "sandbox",
    ):
        assert expected in names


@pytest.mark.parametrize("path,leaf", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_global_options_after_the_subcommand(
    path: tuple[str, ...], leaf: argparse.ArgumentParser
) -> None:
    argv = [*path, *_required_arguments(leaf)]
    tail = ["--data-dir", "/d/after", "--platform-base", "http://127.0.0.1:1", "-v"]
    args = build_parser().parse_args([*argv, *tail])
    assert args.data_dir == "/d/after"
    assert args.platform_base == "http://127.0.0.1:1"
    assert args.verbose is True
    # Before the subcommand still works, and is not reset by the subcommand's own parser.
    args = build_parser().parse_args(["--data-dir", "/d/before", "-v", *argv])
    assert args.data_dir == "/d/before"
    assert args.verbose is True
    args = build_parser().parse_args(argv)
    assert args.data_dir is None and args.platform_base is None and args.verbose is False


def test_data_dir_after_the_subcommand_is_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "after"
    assert main(["settings", "set", "start_minimized", "true", "--data-dir", str(folder)]) == 0
    assert (folder / "lossy.sqlite3").exists()
    capsys.readouterr()
    assert main(["settings", "get", "start_minimized", "--data-dir", str(folder)]) == 0
    assert "true" in capsys.readouterr().out.lower()
