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

## Reading a plan

`plan` (and `apply`, before it asks) numbers the changes and says what each one changes: a new
table's columns (type, null, default, key), constraints and indexes; an altered column's attributes
as `before -> after`; every change a SQLite rebuild carries. Data kept for rollback is a note under
the step it protects, not a step of its own. `--compact` prints one line per change instead (the
detailed form is the default: a plan is read before it is run). The hash, `--json` and `--sql` are
the same either way. The blog fixture, from its first revision to its second:

```console
$ schemasync init
$ schemasync apply --yes -q       # prints the plan hash alone
sha256:2d8679aed68663067c6f06f53b8dcc88d588c9585eaf0f8f6a7b5a1cd5e55506
$ schemasync plan --models models_v2:Base
Plan (sqlite): 3 changes
+   1. create table comments (5 columns)
          id          INTEGER   not null  PK
          article_id  INTEGER   not null  FK -> articles.id
...
          foreign key (article_id) -> articles (id) on delete CASCADE
...
~   2. rebuild table articles (copy rows) [table-rewrite, long-lock, index-build]
        ~ column title type: VARCHAR(50) -> VARCHAR(200)
        + create index ix_articles_title (title)
~   3. rebuild table users (copy rows) [table-rewrite, long-lock]
        + add column created_at DATETIME
Plan: 1 to add, 2 to change, 0 to destroy.
Hazards: 2 table-rewrite, 2 long-lock, 1 index-build (`schemasync explain HAZARD` says what each means)
Plan hash: sha256:16f6cb47f3bf17848e5829307a49625b7a4f2dac07af9d44a119569ed9cf7b7a
$ schemasync plan --compact --models models_v2:Base
Plan (sqlite): 3 changes
+   1. create table comments (5 columns)
~   2. rebuild table articles (copy rows) to: alter column articles.title: type VARCHAR(50) -> VARCHAR(200) [table-rewrite, long-lock, index-build]
~   3. rebuild table users (copy rows) to: add column users.created_at DATETIME [table-rewrite, long-lock]
$ schemasync apply --yes -q --models models_v2:Base
$ schemasync apply --yes --models models:Base   # exit 1: the plan is shown, destructive steps marked, then refused
Plan (sqlite): 4 changes, 2 destructive
-   1. drop table comments (destructive) [data-loss]
        note: rows kept in schemasync_backup_3_comments for rollback
...
Plan: 0 to add, 2 to change, 2 to destroy.
error: the plan has 2 destructive step(s)
$ schemasync explain data-loss
data-loss: The step destroys values
```

Pictures: `inspect --format mermaid` draws the schema (tables, key columns, foreign keys) as a
Mermaid ER diagram, `plan --format mermaid` the tables a plan touches and their neighbours (added,
changed, dropped marked; `check --format markdown` embeds it), and `plan --format html --out
plan.html` writes one self-contained page to attach to a review ([ci.md](ci.md) shows one):

```console
$ schemasync inspect --format mermaid
erDiagram
...
    articles ||--o{ comments : "article_id"
$ schemasync plan --format html --out plan.html --models models:Base
Report written to plan.html
```

Interactively, `apply` asks `Apply 3 changes to sqlite:///…/blog.db? [y/N]` (a URL's password is
never shown); `apply -v` echoes each statement as it runs, with how long it took.
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
    arguments = "".join(f" {p.name.upper()}" for p in own if not _is_option(p))
    lines = [f"## schemasync {name}\n", f"`schemasync {name} [OPTIONS]{arguments}`\n", _paragraph(command.help or ""), ""]
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
        if not _is_option(param):  # an argument: its name, as the usage line shows it
            rows.append(f"| `{param.name.upper()}` | {_cell(param.help or '')} | |")
            continue
        names = ", ".join(f"`{opt}{'' if param.is_flag else ' ' + kinds[param.name]}`" for opt in param.opts)
        rows.append(f"| {names} | {_cell(param.help or '')} | {_default(param)} |")
    return "\n".join(rows) + "\n"


def _is_option(param: Any) -> bool:
    return hasattr(param, "is_flag")


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
