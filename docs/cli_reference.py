"""Write the CLI reference (docs/cli.md) from the typer app itself: `python docs/cli_reference.py > docs/cli.md`.

tests/test_docs.py checks that the committed file is what this prints, so the reference cannot
fall behind the commands.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from pathlib import Path
from typing import Any

import typer

from schemasync.cli import _COMMON_PARAMETERS, app

HEADER = """\
# CLI reference

Generated from the commands themselves by `python docs/cli_reference.py > docs/cli.md`
(tests/test_docs.py fails when this file is out of date). Tutorial:
[tutorial-from-alembic.md](tutorial-from-alembic.md); settings: [configuration.md](configuration.md).

Exit codes, for every command: **0** ok (for `check`: in sync), **1** error or refused (one
`error:` line on stderr; `--debug` adds the traceback), **2** `check` found pending changes or drift.
"""


def reference() -> str:
    """The whole reference as Markdown."""
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    types_by_command = {info.name: _types(info.callback) for info in app.registered_commands}
    common = {p.name for p in _COMMON_PARAMETERS}
    name, first = next(iter(commands.items()))
    parts = [HEADER, "## Options every command takes\n", _table([p for p in first.params if p.name in common], types_by_command[name]),
             "`schemasync --version` prints the version; `schemasync --install-completion` installs shell completion\n"
             "(bash, zsh, fish, PowerShell); `schemasync COMMAND --help` the options below.\n"]
    for name, command in commands.items():
        parts.append(_command(name, command, common, types_by_command[name]))
    return "\n".join(parts)


def _command(name: str, command: Any, common: set[str], kinds: dict[str, str]) -> str:
    own = [p for p in command.params if p.name not in common]
    lines = [f"## schemasync {name}\n", f"`schemasync {name} [OPTIONS]`\n", _paragraph(command.help or ""), ""]
    lines.append(_table(own, kinds) if own else "No options besides the common ones.\n")
    return "\n".join(lines)


def _types(callback: Any) -> dict[str, str]:
    """What each option takes, from the command's annotations (Path, int, str)."""
    kinds = {}
    for parameter in inspect.signature(callback).parameters.values():
        base = typing.get_args(parameter.annotation)[0] if typing.get_origin(parameter.annotation) is typing.Annotated else parameter.annotation
        if isinstance(base, types.UnionType):
            base = next(a for a in typing.get_args(base) if a is not type(None))
        kinds[parameter.name] = {Path: "PATH", int: "N"}.get(base, "TEXT")
    return kinds


def _table(params: list[Any], kinds: dict[str, str]) -> str:
    rows = ["| option | meaning | default |", "|---|---|---|"]
    for param in params:
        names = ", ".join(f"`{opt}{'' if param.is_flag else ' ' + kinds[param.name]}`" for opt in param.opts)
        rows.append(f"| {names} | {_cell(param.help or '')} | {_default(param)} |")
    return "\n".join(rows) + "\n"


def _default(param: Any) -> str:
    if param.is_flag or param.default is None:
        return ""
    return f"`{param.default}`"


def _paragraph(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _paragraph(text).replace("\\[", "[").replace("|", "\\|")


if __name__ == "__main__":
    sys.stdout.write(reference())
