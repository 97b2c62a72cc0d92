"""Keeping what a plan destroys, and bringing it back. Pure: operations in, operations out.

`protect` decides, in this one place, which data a plan would lose and adds the steps that keep
it inside the same database (so inside the apply's transaction where DDL is transactional):
a dropped table's rows are copied into `schemasync_backup_<id>_<table>`; the values of dropped or
narrowed columns, with the primary key, into `schemasync_backup_<id>_<table>__columns`. `<id>` is
the schema_state row the plan will be recorded as. The steps are in the plan and its hash.

Every plan records what it kept (and its renames) as *records*: plain dicts stored in
schema_state's `backups` column. Records name tables and columns as they are when the backup runs
(after the plan's renames). `restore` turns the records of an earlier plan into steps that put the
data back where the new plan re-creates it (a re-created table gets its rows back; a re-added or
re-widened column its values, matched by primary key), translating names through the new plan's
own renames. Rollback and roll-forward both use it.

The names start with `schemasync_`, which the scope filter never manages (no drift, no diff).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from schemasync.diff_objects import enum_type_text
from schemasync.operations import (
    AddColumn,
    AddForeignKey,
    AlterColumn,
    BackupColumns,
    BackupTable,
    CreateTable,
    DropColumn,
    DropTable,
    Operation,
    RenameColumn,
    RenameConstraint,
    RenameIndex,
    RenameTable,
    RestoreColumns,
    RestoreRows,
    SetNotNullAfterRestore,
    qualified,
)
from schemasync.renames import RenamedNames
from schemasync.scope import parse_table_key
from schemasync.snapshot import Snapshot, Table, TableKey, key_order

BACKUP_PREFIX = "schemasync_backup_"
TABLE, COLUMNS, RENAME_TABLE, RENAME_COLUMN = "table", "columns", "rename_table", "rename_column"
RENAME_OBJECT = "rename_object"  # an index or a constraint
BACKUP_KINDS = (TABLE, COLUMNS)
Record = dict[str, Any]


def backup_name(record_id: int, table: str, suffix: str, max_length: int, taken: set[str]) -> str:
    """`schemasync_backup_<id>_<table><suffix>`, cut to the server's limit with a digest when too long."""
    name = f"{BACKUP_PREFIX}{record_id}_{table}{suffix}"
    n = 1
    while name in taken or len(name) > max_length:
        digest = hashlib.sha256(f"{name}:{n}".encode()).hexdigest()[:8]
        name = f"{BACKUP_PREFIX}{record_id}_{table}{suffix}"[: max_length - 9] + "_" + digest
        n += 1
    taken.add(name)
    return name


def protect(operations: Sequence[Operation], current: Snapshot, record_id: int, max_length: int) -> tuple[list[Operation], list[Record], list[str]]:
    """Steps that keep what `operations` (the neutral diff, after renames) would lose; their records;
    and a note for what cannot be kept (values of a table without a primary key)."""
    steps: list[Operation] = []
    records: list[Record] = []
    notes: list[str] = []
    taken: set[str] = set()
    for op in operations:
        if isinstance(op, DropTable):
            columns = tuple(c.name for c in op.definition.columns)
            name = backup_name(record_id, op.table[1], "", max_length, taken)
            steps.append(BackupTable(op.table, name, columns, _of_enum_types(op.definition, columns, current)))
            records.append({"kind": TABLE, "table": qualified(op.table), "backup": name, "columns": list(columns)})
    for key, columns in _losing_columns(operations).items():
        table = current.table(key)
        if table is None or table.primary_key is None:
            notes.append(f"the values of {qualified(key)}.({', '.join(columns)}) cannot be kept for rollback: the table has no primary key")
            continue
        pk = table.primary_key.columns
        name = backup_name(record_id, key[1], "__columns", max_length, taken)
        steps.append(BackupColumns(key, name, pk, columns, _of_enum_types(table, columns, current)))
        records.append({"kind": COLUMNS, "table": qualified(key), "backup": name, "key": list(pk), "columns": list(columns)})
    return steps, records, notes


def _of_enum_types(table: Table, columns: Iterable[str], snapshot: Snapshot) -> tuple[str, ...]:
    """The columns among `columns` whose type is one of the snapshot's enum types."""
    named = {enum_type_text(e) for e in snapshot.enums}
    return tuple(c for c in columns if c in table.columns_by_name and table.columns_by_name[c].type.replace('"', "") in named)


def _losing_columns(operations: Iterable[Operation]) -> dict[TableKey, tuple[str, ...]]:
    """Columns dropped, or changed to a type that does not hold every value, by table."""
    found: dict[TableKey, list[str]] = {}
    for op in operations:
        if isinstance(op, DropColumn) and op.destructive:
            found.setdefault(op.table, []).append(op.column.name)
        elif isinstance(op, AlterColumn) and op.destructive:
            found.setdefault(op.table, []).append(op.after.name)
    return {key: tuple(names) for key, names in sorted(found.items(), key=lambda item: key_order(item[0]))}


def rename_records(operations: Iterable[Operation]) -> list[Record]:
    """The plan's renames, so that a rollback can rename back instead of dropping and adding."""
    records: list[Record] = []
    for op in operations:
        if isinstance(op, RenameTable):
            records.append({"kind": RENAME_TABLE, "table": qualified(op.table), "new_name": op.new_name})
        elif isinstance(op, RenameColumn):
            records.append({"kind": RENAME_COLUMN, "table": qualified(op.table), "old": op.old_name, "new": op.new_name})
        elif isinstance(op, (RenameIndex, RenameConstraint)):
            new = op.index.name if isinstance(op, RenameIndex) else op.constraint.name
            records.append({"kind": RENAME_OBJECT, "table": qualified(op.table), "old": op.old_name, "new": new})
    return records


def restore(
    records: Iterable[Record], operations: Sequence[Operation], target: Snapshot, defer_foreign_keys: bool
) -> tuple[list[Operation], list[Operation], list[str]]:
    """Steps that bring kept data back where `operations` re-create its table, column or wider type.

    Returns `operations` adjusted so the data can come back (see `_make_room`), the restore steps
    (run once the schema is complete), and notes for what cannot be matched."""
    names = RenamedNames.of(operations)
    created = {op.table for op in operations if isinstance(op, CreateTable)}
    widened = {(op.table, op.column.name) for op in operations if isinstance(op, AddColumn)}
    widened |= {(op.table, op.after.name) for op in operations if isinstance(op, AlterColumn) and (op.before.type != op.after.type or _stops_generated(op))}
    rows: list[RestoreRows] = []
    values: list[RestoreColumns] = []
    notes: list[str] = []
    for record in records:
        if record.get("kind") not in BACKUP_KINDS:
            continue
        key = names.new_table(parse_table_key(record["table"]))
        table = target.table(key)
        if table is None:
            continue
        if record["kind"] == TABLE and key in created:
            # A generated column takes no values: it computes its own.
            pairs = tuple((names.new_column(key, c), c) for c in record["columns"] if _takes_values(table, names.new_column(key, c)))
            auto = tuple(c for c, _ in pairs if table.columns_by_name[c].autoincrement)
            rows.append(RestoreRows(key, record["backup"], pairs, auto, enum_casts(table, pairs, target)))
        elif record["kind"] == COLUMNS:
            pairs = tuple((names.new_column(key, c), c) for c in record["columns"] if (key, names.new_column(key, c)) in widened and _takes_values(table, names.new_column(key, c)))
            match = tuple((names.new_column(key, k), k) for k in record["key"])
            if not pairs:
                continue
            if any(c not in table.columns_by_name for c, _ in match):
                notes.append(f"the kept values of {qualified(key)} in {record['backup']} cannot be matched: its primary key columns changed")
                continue
            values.append(RestoreColumns(key, record["backup"], match, pairs, enum_casts(table, pairs, target)))
    adjusted = _make_room(operations, {op.table for op in rows} if defer_foreign_keys else set(), {(op.table, c) for op in values for c, _ in op.columns})
    return adjusted, _parents_first(rows, target) + values, notes


def enum_casts(table: Table, pairs: tuple[tuple[str, str], ...], target: Snapshot) -> tuple[tuple[str, str], ...]:
    """The restored columns of an enum type, with that type: backups keep their values as text
    (BackupTable.as_text), and nothing casts text to an enum implicitly."""
    return tuple((c, table.columns_by_name[c].type) for c in _of_enum_types(table, [c for c, _ in pairs], target))


def _stops_generated(op: AlterColumn) -> bool:
    """A generated column made a stored one again: it can take kept values back (a rollback of
    `operations.becomes_generated`)."""
    return op.before.computed is not None and op.after.computed is None


def _takes_values(table: Table, name: str) -> bool:
    column = table.columns_by_name.get(name)
    return column is not None and column.computed is None


def _make_room(operations: Sequence[Operation], filled_tables: set[TableKey], filled_columns: set[tuple[TableKey, str]]) -> list[Operation]:
    """What the restores need from the rest of the plan, as visible steps of their own:

    - a column that gets its kept values back and is NOT NULL (without a default to fill it) is
      added or altered nullable, and a late step sets NOT NULL once the values are in;
    - a re-created table that gets its rows back has its foreign keys to the other re-filled
      tables (itself included) added after the rows: MariaDB checks a key per row, PostgreSQL
      per statement, and rows that reference each other cannot all come first.
    """
    adjusted: list[Operation] = []
    late: list[Operation] = []
    for op in operations:
        if isinstance(op, AddColumn) and (op.table, op.column.name) in filled_columns and not op.column.nullable and op.column.default is None:
            loose = replace(op.column, nullable=True)
            adjusted.append(AddColumn(op.table, loose))
            late.append(SetNotNullAfterRestore(op.table, loose, op.column))
        elif isinstance(op, AlterColumn) and (op.table, op.after.name) in filled_columns and op.before.nullable and not op.after.nullable:
            loose = replace(op.after, nullable=True)
            adjusted += [AlterColumn(op.table, op.before, loose)] if loose != op.before else []
            late.append(SetNotNullAfterRestore(op.table, loose, op.after))
        elif isinstance(op, CreateTable) and op.table in filled_tables:
            later = [fk for fk in op.definition.foreign_keys if (fk.referred_schema, fk.referred_table) in filled_tables]
            adjusted.append(CreateTable(op.table, replace(op.definition, foreign_keys=tuple(fk for fk in op.definition.foreign_keys if fk not in later))))
            late += [AddForeignKey(op.table, fk) for fk in later]
        else:
            adjusted.append(op)
    return adjusted + late


@dataclass(frozen=True)
class Requirement:
    """A restored column the target declares NOT NULL: once the restore ran, every row of its table
    needs a value (a kept one, or its own). Named as in the live schema, before the plan's renames."""

    table: TableKey
    # The column's live name; None when the plan adds it (it does not exist yet).
    column: str | None
    # (live key column, backup column) pairs, the backup table and its column with the kept values.
    key: tuple[tuple[str, str], ...]
    backup: str
    kept: str
    # The column as the target names it ("table.column"), for messages.
    shown: str


def requirements(operations: Iterable[Operation], target: Snapshot, live: Snapshot) -> list[Requirement]:
    """The NOT NULL columns `operations` restore values into: rows written since without a kept
    value would break them (the caller counts those rows before anything runs)."""
    operations = list(operations)
    names = RenamedNames.of(operations)
    found: list[Requirement] = []
    for op in operations:
        table, live_table = target.table(op.table), live.table(names.old_table(op.table))
        if not isinstance(op, RestoreColumns) or table is None or live_table is None:
            continue
        key = tuple((names.old_column(op.table, c), b) for c, b in op.key)
        if any(c not in live_table.columns_by_name for c, _ in key):
            continue  # the key itself changes: nothing can be matched (restore says so in a note)
        for column, kept in op.columns:
            if table.columns_by_name[column].nullable:
                continue
            old = names.old_column(op.table, column)
            present = old if old in live_table.columns_by_name else None
            found.append(Requirement(live_table.key, present, key, op.backup, kept, f"{qualified(op.table)}.{column}"))
    return found


def backups_needed(operations: Iterable[Operation]) -> list[str]:
    """The backup tables the restore steps read (they must still exist)."""
    return sorted({op.backup for op in operations if isinstance(op, (RestoreRows, RestoreColumns))})


def _parents_first(rows: list[RestoreRows], target: Snapshot) -> list[Operation]:
    """Referenced tables get their rows before the tables that reference them (ties and cycles by name)."""
    pending = sorted(rows, key=lambda op: key_order(op.table))
    keys = {op.table for op in pending}
    done: set[TableKey] = set()
    ordered: list[Operation] = []
    while pending:
        ready = [op for op in pending if not (target.tables_by_key[op.table].referred_tables() & keys) - done - {op.table}] or pending[:1]
        for op in ready:
            ordered.append(op)
            done.add(op.table)
            pending.remove(op)
    return ordered

