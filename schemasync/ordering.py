"""Put operations in an order that runs top to bottom without errors. Pure and deterministic.

Phases: foreign keys are dropped first (so nothing they protect is in the way), then the other
constraints and indexes that go, then tables (referencing before referenced), then tables are
created (referenced before referencing), columns added and altered, columns dropped, and finally
keys, indexes and checks added, kept data restored (backup.py), restored columns set NOT NULL,
and foreign keys last. Inside a phase the order is stable: tables in
dependency order or by name, never by hash-seeded iteration.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import replace

from schemasync.errors import PlanError
from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddExclusion,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    AddEnumValue,
    AlterColumn,
    AlterSequence,
    BackupColumns,
    BackupTable,
    CreateEnum,
    CreateIndex,
    CreateSchema,
    CreateSequence,
    CreateTable,
    CreateView,
    DropCheck,
    DropExclusion,
    DropAutoIncrement,
    DropColumn,
    DropEnum,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropSequence,
    DropTable,
    DropUnique,
    DropView,
    Operation,
    RebuildTable,
    RebuildTableAfterRestore,
    RenameColumn,
    RenameConstraint,
    RenameEnumValue,
    RenameIndex,
    RenameTable,
    ReplaceGeneratedColumn,
    RestoreColumns,
    RestoreRows,
    SetAutoIncrement,
    SetNotNullAfterRestore,
    SetTableComment,
    SetTableOptions,
    SwapEnum,
)
from schemasync.snapshot import TableKey
from schemasync.viewplan import dependencies

PHASES: dict[type[Operation], int] = {
    # Views go first (before renames: MariaDB and SQLite keep names as text) and come back last.
    DropView: -3,
    # Schemas first (tables are renamed inside them); types and sequences after the tables that go and
    # before the tables and columns that use them; the ones no longer used once every column change is done.
    CreateSchema: -3,
    CreateEnum: 2.5,
    RenameEnumValue: 2.5,
    AddEnumValue: 2.5,
    SwapEnum: 2.5,
    CreateSequence: 2.5,
    AlterSequence: 2.5,
    DropEnum: 5.5,
    DropSequence: 5.5,
    RenameTable: -2,
    RenameColumn: -1,
    RenameIndex: -1,
    RenameConstraint: -1,
    # Data is kept once names are final (after renames) and before anything is dropped or narrowed.
    BackupTable: -0.5,
    BackupColumns: -0.5,
    DropForeignKey: 0,
    # A non-key AUTO_INCREMENT column needs an index: it comes off before its index goes, on after it is made.
    DropAutoIncrement: 0.5,
    DropIndex: 1,
    DropUnique: 1,
    DropCheck: 1,
    DropExclusion: 1,
    DropPrimaryKey: 1,
    DropTable: 2,
    CreateTable: 3,
    RebuildTable: 4,
    AddColumn: 4,
    AlterColumn: 4,
    ReplaceGeneratedColumn: 4,
    SetTableComment: 4,
    # Before new indexes and keys: an engine change rebuilds the table (and MyISAM takes no foreign keys).
    SetTableOptions: 4,
    DropColumn: 5,
    AddPrimaryKey: 6,
    AddUnique: 7,
    CreateIndex: 7,
    AddCheck: 7,
    AddExclusion: 7,
    SetAutoIncrement: 7.5,
    # Kept data comes back once the schema is complete, but before foreign keys are added (restored
    # rows may reference each other) and before a restored column is required (set NOT NULL).
    RestoreRows: 8,
    RestoreColumns: 9,
    SetNotNullAfterRestore: 10,
    RebuildTableAfterRestore: 10,
    AddForeignKey: 11,
    CreateView: 12,
}


def _table_sort(key: TableKey) -> tuple[str, str]:
    return (key[0] or "", key[1])


def order(operations: Sequence[Operation], split_fk_cycles: bool) -> list[Operation]:
    """The runnable order. `split_fk_cycles`: create cyclic foreign keys after both tables exist."""
    creates = [op for op in operations if isinstance(op, CreateTable)]
    drops = [op for op in operations if isinstance(op, DropTable)]
    views = [op for op in operations if isinstance(op, (CreateView, DropView))]
    rest = [op for op in operations if not isinstance(op, (CreateTable, DropTable, CreateView, DropView))]
    ordered_creates, deferred = _order_creates(creates, split_fk_cycles)
    ordered_drops, released = _order_drops(drops, split_fk_cycles)
    rest += deferred + released
    # Every operation is kept, equal ones included: two identical unnamed checks are two steps.
    sequence = ordered_creates + ordered_drops + _order_views(views) + sorted(rest, key=_within_phase)
    return sorted(sequence, key=lambda op: PHASES[type(op)])


def _within_phase(op: Operation) -> tuple:
    """Stable order inside a phase: by table, then kind; the diff's own order (the models' column
    order) is kept within that. Renames keep plan_renames' order (a table before its columns)."""
    if isinstance(op, (RenameTable, RenameColumn, RenameIndex, RenameConstraint, RestoreRows)):
        return (("", ""), "")  # RestoreRows: backup.py emits parents before children
    if isinstance(op, (RenameEnumValue, AddEnumValue, SwapEnum)):
        return (_table_sort(op.table), "enum", True)  # a type's renames before the values placed beside them (diff order)
    # A generated column is dropped before the columns its expression reads (the server refuses otherwise).
    generated_first = not (isinstance(op, DropColumn) and op.column.computed is not None)
    return (_table_sort(op.table), op.op, generated_first)


def _order_views(views: list[Operation]) -> list[Operation]:
    """Views are created after the views they read, and dropped before them."""
    creates = {op.table: op for op in views if isinstance(op, CreateView)}
    drops = {op.table: op for op in views if isinstance(op, DropView)}
    created = _toposort(dependencies([op.view for op in creates.values()]), break_cycles=True)
    dropped = reversed(_toposort(dependencies([op.view for op in drops.values()]), break_cycles=True))
    return [drops[k] for k in dropped] + [creates[k] for k in created]


def _order_creates(creates: list[CreateTable], split_fk_cycles: bool) -> tuple[list[CreateTable], list[Operation]]:
    """Topologically sort new tables; break cycles by moving foreign keys into AddForeignKey steps."""
    by_key = {op.table: op for op in creates}
    edges = {key: {ref for ref in op.definition.referred_tables() if ref in by_key and ref != key} for key, op in by_key.items()}
    ordered_keys = _toposort(edges, break_cycles=True)
    created: set[TableKey] = set()
    result: list[CreateTable] = []
    deferred: list[Operation] = []
    for key in ordered_keys:
        table = by_key[key].definition
        if split_fk_cycles:
            later = [fk for fk in table.foreign_keys if fk_target(fk) in by_key and fk_target(fk) not in created | {key}]
            if later:
                table = replace(table, foreign_keys=tuple(fk for fk in table.foreign_keys if fk not in later))
                deferred += [AddForeignKey(key, fk) for fk in later]
        created.add(key)
        result.append(CreateTable(key, table))
    return result, deferred


def _order_drops(drops: list[DropTable], split_fk_cycles: bool) -> tuple[list[DropTable], list[Operation]]:
    """Drop referencing tables first; a cycle among dropped tables loses its foreign keys first
    (where the dialect enforces them at DROP time)."""
    by_key = {op.table: op for op in drops}
    edges = {key: {ref for ref in op.definition.referred_tables() if ref in by_key and ref != key} for key, op in by_key.items()}
    ordered_keys = list(reversed(_toposort(edges, break_cycles=True)))
    dropped: set[TableKey] = set()
    released: list[Operation] = []
    for key in ordered_keys if split_fk_cycles else ():
        # A table still referenced by a dropped table that goes later needs that foreign key gone first.
        for other in ordered_keys:
            if other in dropped or other == key:
                continue
            for fk in by_key[other].definition.foreign_keys:
                if fk_target(fk) == key:
                    released.append(DropForeignKey(other, fk))
        dropped.add(key)
    return [by_key[k] for k in ordered_keys], released


def fk_target(fk) -> TableKey:
    return (fk.referred_schema, fk.referred_table)


def _toposort(edges: dict[TableKey, set[TableKey]], break_cycles: bool) -> list[TableKey]:
    """Kahn's algorithm with a sorted ready queue: dependencies first, ties by name."""
    pending = {key: set(deps) for key, deps in edges.items()}
    dependents: dict[TableKey, set[TableKey]] = {key: set() for key in edges}
    for key, deps in edges.items():
        for dep in deps:
            dependents[dep].add(key)
    ready = [(_table_sort(k), k) for k, deps in pending.items() if not deps]
    heapq.heapify(ready)
    result: list[TableKey] = []
    while len(result) < len(edges):
        if not ready:
            if not break_cycles:
                raise PlanError("foreign keys form a cycle that cannot be ordered")
            # Cycle: take the first remaining table by name; its unmet dependencies are split off later.
            key = min((k for k in pending if k not in result), key=_table_sort)
            pending[key] = set()
            heapq.heappush(ready, (_table_sort(key), key))
        _, key = heapq.heappop(ready)
        if key in result:
            continue
        result.append(key)
        for dependent in sorted(dependents[key], key=_table_sort):
            pending[dependent].discard(key)
            if not pending[dependent] and dependent not in result:
                heapq.heappush(ready, (_table_sort(dependent), dependent))
    return result

