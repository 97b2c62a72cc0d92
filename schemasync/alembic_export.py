"""A plan written as an Alembic revision file, for teams that keep revision files for review or compliance.

`upgrade()` runs the plan's statements exactly as `schemasync apply` would: the plan's SQL is
already exact per dialect (SQLite's rebuilds included), so re-deriving it through Alembic's `op.*`
calls would be a second translation that could disagree with the plan that was reviewed.
`downgrade()` runs the plan from the models back to the schema the revision was made from
(`make_plan(target, live)`, renames declared backwards so they rename back). Each statement runs
as `op.execute(sa.DDL(...))`: a DDL element takes no bind parameters (a `:name` inside a string
literal stays text, where `text()` would want a value), and `%`, DDL's only escape, is doubled.

Alembic, not schemasync, runs the file, so the plan is made without schemasync's own bookkeeping:
no backup tables (they belong to schema_state rows), no restores. A plan that loses data is written
only with --allow-destructive, the rule `apply` follows, since Alembic runs revisions without asking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from schemasync import model_target, state
from schemasync.alembic_setup import heads_in
from schemasync.config import Settings
from schemasync.database import database_errors, load_models, open_target
from schemasync.errors import ConfigError, RefusedError
from schemasync.operations import RenameColumn, RenameTable
from schemasync.plan import Plan, Step, make_plan
from schemasync.reflect import other_objects
from schemasync.scope import parse_table_key
from schemasync.snapshot import Snapshot, Table, digest

# How a step that must run outside a transaction (online mode) is marked in a plan.
ONLINE = "online"


@dataclass(frozen=True)
class ExportReport:
    """The revision written (None when the plan is empty) and the two plans in it."""

    upgrade: Plan
    downgrade: Plan
    path: Path | None = None
    revision: str | None = None
    down_revision: str | None = None
    other_objects: tuple[str, ...] = ()


def export_revision(settings: Settings, directory: Path, allow_destructive: bool = False) -> ExportReport:
    """Plan from the live schema to the models and write it as the next revision of `directory`."""
    versions = versions_directory(directory)
    heads, script = heads_in(versions)
    if len(heads) > 1:
        raise ConfigError(f"{versions} has {len(heads)} heads ({', '.join(heads)}): merge them first (`alembic merge heads`)")
    down_revision = heads[0] if heads else None
    metadata = load_models(settings)
    with open_target(settings) as opened, database_errors(opened):
        target = opened.for_models(metadata)
        desired = model_target.build(target.engine, target.dialect, metadata, target.scope.keep, target.cache, build_engine=target.build_engine).snapshot
        with target.engine.connect() as connection:
            live = target.read_live(connection)
            last = state.last_applied(connection)
            others = tuple(other_objects(connection, target.dialect, {s: s for s in target.scope.schemas}))
        upgrade = make_plan(live, desired, target.dialect, last.managed_tables if last else (), drop_unmanaged=target.drop_unmanaged)
        downgrade = make_plan(desired, before_upgrade(live, upgrade), target.dialect, [*desired.tables_by_key, *desired.views_by_key, *sorted(desired.object_keys(), key=str)])
    report = ExportReport(upgrade, downgrade, down_revision=down_revision, other_objects=others)
    if not upgrade.steps:
        return report
    if upgrade.destructive_steps and not allow_destructive:
        names = "; ".join(s.summary for s in upgrade.destructive_steps)
        raise RefusedError(f"the plan has {len(upgrade.destructive_steps)} destructive step(s) ({names}) and Alembic runs a revision "
                           "without asking: re-run with --allow-destructive to write it")
    if down_revision and _made_from(script.get_revision(down_revision).path, upgrade.source_fingerprint):
        raise RefusedError(f"the head revision {down_revision} was written from this same database schema: "
                           "run `alembic upgrade head` before writing the next revision")
    revision = digest({"plan": upgrade.hash, "down_revision": down_revision})[len("sha256:"):][:12]
    path = versions / f"{revision}_{slug(message(upgrade))}.py"
    path.write_text(revision_text(upgrade, downgrade, revision, down_revision, datetime.now(UTC)), encoding="utf-8")
    return replace(report, path=path, revision=revision)


def versions_directory(directory: Path) -> Path:
    """The versions directory; the script location (the folder with env.py) stands for its versions/."""
    if (directory / "env.py").is_file() and (directory / "versions").is_dir():
        return directory / "versions"
    if not directory.is_dir():
        raise ConfigError(f"--alembic-revision {directory}: no such directory (give the Alembic versions directory)")
    return directory


def before_upgrade(live: Snapshot, upgrade: Plan) -> Snapshot:
    """The schema the upgrade starts from (the tables it manages), its renames declared backwards. Pure."""
    snapshot = live.only({parse_table_key(name) for name in upgrade.managed_tables})
    tables = {op.table: op.new_name for op in upgrade.operations if isinstance(op, RenameTable)}
    back = {(key[0], new): key for key, new in tables.items()}
    columns = {(back.get(op.table, op.table), op.old_name): op.new_name for op in upgrade.operations if isinstance(op, RenameColumn)}

    def annotate(table: Table) -> Table:
        renamed = tuple(replace(c, renamed_from=columns.get((table.key, c.name))) for c in table.columns)
        return replace(table, columns=renamed, renamed_from=tables.get(table.key))

    return snapshot.with_tables(tuple(annotate(t) for t in snapshot.tables))


def _made_from(path: str | None, fingerprint: str) -> bool:
    """Whether the revision file at `path` was written by schemasync from a schema with `fingerprint`."""
    if not path:
        return False
    try:
        return f"Source fingerprint: {fingerprint}" in Path(path).read_text(encoding="utf-8")
    except OSError:
        return False


# --- the file -----------------------------------------------------------------------------------------

def message(plan: Plan) -> str:
    more = len(plan.steps) - 1
    return plan.steps[0].summary + (f" and {more} more step{'s' if more != 1 else ''}" if more else "")


def slug(text: str, length: int = 40) -> str:
    """Alembic's way of naming a revision file after its message: words joined by `_`, cut at a word."""
    words = re.sub(r"\W", " ", text.lower()).split()
    kept = ""
    for word in words:
        if len(kept) + len(word) + 1 > length and kept:
            break
        kept = f"{kept}_{word}" if kept else word
    return kept


def revision_text(upgrade: Plan, downgrade: Plan, revision: str, down_revision: str | None, created: datetime) -> str:
    """The revision module: upgrade() and downgrade() as the two plans' statements. Pure."""
    return _TEMPLATE.format(
        message=_docstring_safe(message(upgrade)),
        revision=revision,
        down_revision=down_revision or "<base>",
        created=created.strftime("%Y-%m-%d %H:%M:%S"),
        dialect=upgrade.dialect,
        dialect_literal=repr(upgrade.dialect),
        hash=upgrade.hash,
        fingerprint=upgrade.source_fingerprint,
        revision_literal=repr(revision),
        down_literal=repr(down_revision),
        upgrade=_body(upgrade),
        downgrade=_body(downgrade),
    )


def _body(plan: Plan) -> str:
    lines: list[str] = []
    for number, step in enumerate(plan.steps, 1):
        lines += _step_lines(number, step)
    return "\n".join(lines) if lines else "    pass"


def _step_lines(number: int, step: Step) -> list[str]:
    flag = " (destructive)" if step.destructive else ""
    lines = [f"    # {number}. {_comment(step.summary)}{flag}"]
    indent = "    "
    if step.mode == ONLINE:  # outside the revision's transaction, as apply runs it
        lines.append("    with op.get_context().autocommit_block():")
        indent = "        "
    for statement in step.sql:
        lines += _call(statement, indent)
    return lines


def _call(statement: str, indent: str) -> list[str]:
    """`_execute(...)` with the statement as Python string pieces, one per SQL line."""
    pieces = [repr(piece) for piece in statement.splitlines(keepends=True)] or ["''"]
    if len(pieces) == 1:
        return [f"{indent}_execute({pieces[0]})"]
    return [f"{indent}_execute("] + [f"{indent}    {piece}" for piece in pieces] + [f"{indent})"]


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "/").replace('"""', "'''")


def _comment(text: str) -> str:
    return " ".join(text.split())


_TEMPLATE = '''\
"""{message}

Revision ID: {revision}
Revises: {down_revision}
Create Date: {created}

Written by `schemasync plan --alembic-revision` for {dialect}: upgrade() runs the plan's
statements as `schemasync apply` would; downgrade() runs the plan from the models back to
the schema this revision was made from.
Plan hash: {hash}
Source fingerprint: {fingerprint}
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = {revision_literal}
down_revision = {down_literal}
branch_labels = None
depends_on = None

# The statements are this dialect's SQL: the revision refuses to run on another.
DIALECT = {dialect_literal}


def upgrade() -> None:
    _require_dialect()
{upgrade}


def downgrade() -> None:
    _require_dialect()
{downgrade}


def _require_dialect() -> None:
    name = op.get_context().dialect.name
    if name != DIALECT:
        raise RuntimeError(f"this revision was written by schemasync for {{DIALECT}}, not {{name}}")


def _execute(statement: str) -> None:
    """Run one statement as written: DDL takes no bind parameters, and doubles % as its escape."""
    op.execute(sa.DDL(statement.replace("%", "%%")))
'''
