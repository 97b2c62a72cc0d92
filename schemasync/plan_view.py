"""The plan as people review it: what each step changes, Terraform-style. Pure: a Plan in, lines out.

A step the user asked for is numbered; bookkeeping (copying rows into a backup table before a drop,
restoring them after a re-create) is shown as a footnote to the step it protects, because it is
not a change to the schema. The plan's steps, JSON and hash are untouched: this only reads them.
What each step changes comes from its operation (the before and after it carries); a plan read back
from a file has no operations, so it shows its steps' summaries alone (the compact form).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemasync.diff import diff_table
from schemasync.operations import (
    AddColumn,
    AlterColumn,
    BackupColumns,
    BackupTable,
    CreateTable,
    Operation,
    RebuildTable,
    RestoreColumns,
    RestoreRows,
)
from schemasync.plan import BOOKKEEPING, Plan, Step
from schemasync.snapshot import Column, ForeignKey, Index, Table

ADD, CHANGE, DESTROY = "add", "change", "destroy"
_KIND_BY_VERB = {"create": ADD, "add": ADD, "drop": DESTROY}


@dataclass(frozen=True)
class Detail:
    """One line under a step: `mark` is "+", "-", "~" or " " (a plain fact), `text` what changes."""

    mark: str
    text: str


@dataclass(frozen=True)
class Change:
    """A numbered step of the plan as the user sees it, with what it changes and its footnotes."""

    number: int
    step: Step
    head: str
    details: tuple[Detail, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return _KIND_BY_VERB.get(self.step.op.split("_")[0], CHANGE)


def changes(plan: Plan) -> list[Change]:
    """The plan's steps as numbered changes; each bookkeeping step becomes a note on the one it serves."""
    operations: Sequence[Operation | None] = plan.operations if len(plan.operations) == len(plan.steps) else [None] * len(plan.steps)
    main = [i for i, step in enumerate(plan.steps) if step.op not in BOOKKEEPING]
    notes: dict[int, list[str]] = {i: [] for i in main}
    for i, step in enumerate(plan.steps):
        if step.op in BOOKKEEPING and main:
            notes[_served_by(plan.steps, main, i)].append(footnote(step, operations[i]))
    return [Change(number, plan.steps[i], *describe(plan.steps[i], operations[i]), notes=tuple(notes[i])) for number, i in enumerate(main, 1)]


def _served_by(steps: Sequence[Step], main: list[int], i: int) -> int:
    """The step a backup (runs before) or a restore (runs after) belongs to: the nearest on its table,
    for a backup the nearest that loses data there."""
    backup = steps[i].op.startswith("backup")
    order = [j for j in main if j > i] if backup else [j for j in reversed(main) if j < i]
    same_table = [j for j in order if steps[j].table == steps[i].table]
    losing = [j for j in same_table if steps[j].destructive] if backup else []
    return (losing or same_table or order or [min(main, key=lambda j: abs(j - i))])[0]


def footnote(step: Step, op: Operation | None) -> str:
    """"rows kept in schemasync_backup_7_users for rollback" and the like."""
    if isinstance(op, BackupTable):
        return f"rows kept in {op.backup} for rollback"
    if isinstance(op, BackupColumns):
        return f"values of {', '.join(op.columns)} kept in {op.backup} for rollback"
    if isinstance(op, RestoreRows):
        return f"rows restored from {op.backup}"
    if isinstance(op, RestoreColumns):
        return f"values of {', '.join(c for c, _ in op.columns)} restored from {op.backup}"
    return step.summary


def summary_line(found: Sequence[Change]) -> str:
    """Terraform's line: "3 to add, 1 to change, 1 to destroy"."""
    counts = {kind: sum(c.kind == kind for c in found) for kind in (ADD, CHANGE, DESTROY)}
    return ", ".join(f"{n} to {kind}" for kind, n in counts.items())


def plural(count: int, word: str) -> str:
    """"1 change", "3 changes"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- what one step changes ------------------------------------------------------------------------


def describe(step: Step, op: Operation | None) -> tuple[str, tuple[Detail, ...]]:
    """The head line of a step and the lines under it (none for a step its summary says all of)."""
    if isinstance(op, CreateTable):
        return step.summary, tuple(table_lines(op.definition))
    if isinstance(op, RebuildTable):
        return f"rebuild table {step.table} (copy rows)", tuple(rebuild_lines(op))
    if isinstance(op, AlterColumn) and type(op).summary is AlterColumn.summary:
        return f"alter column {step.table}.{op.after.name}", tuple(Detail("~", line) for line in column_changes(op.before, op.after))
    if isinstance(op, AddColumn) and (op.column.default is not None or op.column.autoincrement):
        return step.summary, (Detail(" ", _extras(op.column, "")),)  # what the summary leaves out
    return step.summary, ()


def table_lines(table: Table) -> list[Detail]:
    """A new table: its columns (type, null, default, key) aligned, then its constraints and indexes."""
    keys = _keys(table)
    rows = [(c.name, c.type, "null" if c.nullable else "not null", _extras(c, keys.get(c.name, ""))) for c in table.columns]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    lines = [Detail(" ", "  ".join(row[k].ljust(widths[k]) for k in range(3)) + (f"  {row[3]}" if row[3] else "")) for row in rows]
    lines = [Detail(d.mark, d.text.rstrip()) for d in lines]
    return lines + [Detail(" ", text) for text in constraint_lines(table)]


def _keys(table: Table) -> dict[str, str]:
    keys: dict[str, list[str]] = {}
    for name in table.primary_key.columns if table.primary_key else ():
        keys.setdefault(name, []).append("PK")
    for fk in table.foreign_keys:
        for column, referred in zip(fk.columns, fk.referred_columns, strict=False):
            keys.setdefault(column, []).append(f"FK -> {_referred(fk)}.{referred}")
    return {name: ", ".join(found) for name, found in keys.items()}


def _extras(column: Column, key: str) -> str:
    parts = [f"default {column.default}"] if column.default is not None else []
    parts += ["autoincrement"] if column.autoincrement else []
    parts += [f"generated {column.computed}"] if column.computed else []
    return "  ".join(parts + ([key] if key else []))


def _referred(fk: ForeignKey) -> str:
    return f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else fk.referred_table


def constraint_lines(table: Table) -> list[str]:
    """The table's keys, checks and indexes, one line each (the primary key when it spans columns)."""
    lines = []
    if table.primary_key and len(table.primary_key.columns) > 1:
        lines.append(f"primary key ({', '.join(table.primary_key.columns)})")
    lines += [foreign_key_line(fk) for fk in table.foreign_keys]
    lines += [f"unique{_name(u.name)} ({', '.join(u.columns)})" for u in table.uniques]
    lines += [f"check{_name(c.name)} ({c.sqltext})" for c in table.checks]
    lines += [f"exclusion{_name(e.name)} {e.definition}" for e in table.exclusions]
    return lines + [index_line(index) for index in table.indexes]


def foreign_key_line(fk: ForeignKey) -> str:
    actions = (f" on delete {fk.ondelete}" if fk.ondelete else "") + (f" on update {fk.onupdate}" if fk.onupdate else "")
    return f"foreign key{_name(fk.name)} ({', '.join(fk.columns)}) -> {_referred(fk)} ({', '.join(fk.referred_columns)}){actions}"


def index_line(index: Index) -> str:
    where = f" where {index.where}" if index.where else ""
    return f"{'unique index' if index.unique else 'index'} {index.name} ({', '.join(index.parts)}){where}"


def _name(name: str | None) -> str:
    return f" {name}" if name else ""


def column_changes(before: Column, after: Column) -> list[str]:
    """`attribute: before -> after` for each attribute of a column that changes."""
    pairs = [
        ("type", before.type, after.type),
        ("null", "null" if before.nullable else "not null", "null" if after.nullable else "not null"),
        ("default", _shown(before.default), _shown(after.default)),
        ("autoincrement", _yes(before.autoincrement), _yes(after.autoincrement)),
        ("comment", _shown(before.comment), _shown(after.comment)),
        ("generated", _shown(before.computed), _shown(after.computed)),
        ("identity", _shown(before.identity), _shown(after.identity)),
    ]
    return [f"{name}: {old} -> {new}" for name, old, new in pairs if old != new]


def _shown(value: object) -> str:
    return "none" if value is None else str(value)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def rebuild_lines(op: RebuildTable) -> list[Detail]:
    """Every change a SQLite rebuild carries (a new index inside it included), not only why it was needed."""
    lines: list[Detail] = []
    found = diff_table(op.before, op.after)
    for change in sorted(found, key=lambda change: "column" not in change.op):  # columns first, as in a new table
        if isinstance(change, AlterColumn):
            lines += [Detail("~", f"column {change.after.name} {text}") for text in column_changes(change.before, change.after)]
        else:
            verb = change.op.split("_")[0]
            lines.append(Detail({"create": "+", "add": "+", "drop": "-"}.get(verb, "~"), _within(change.summary(), op)))
    return lines


def _within(summary: str, op: RebuildTable) -> str:
    """A change's summary inside its rebuild, the table's name (said once above) left out."""
    name = op.after.qualified_name
    return summary.replace(f" on {name} ", " ").replace(f" on {name}", "").replace(f" {name}.", " ").replace(f" {name}(", " (")
