"""Put operations in an order that runs top to bottom without errors. Pure and deterministic.

`PHASES` names the phases in the order they run; `PHASE_OF` puts each operation class in one.
In short: views are dropped and renames made first, data kept, then foreign keys are dropped,
then tables (referencing before referenced: their foreign keys hold the keys they reference), then
the other constraints and indexes that go; tables are created (referenced before referencing), columns added and altered, declared fills run
(data_changes.py) and their columns set NOT NULL, columns dropped, and
finally keys, indexes and checks added, kept data restored (backup.py), restored columns set NOT
NULL, foreign keys and views last. Inside a phase the order is stable: tables in dependency order
or by name, never by hash-seeded iteration.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import replace

from schemasync.errors import PlanError
from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddEnumValue,
    AddExclusion,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
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
    DropAutoIncrement,
    DropCheck,
    DropColumn,
    DropEnum,
    DropExclusion,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropSequence,
    DropTable,
    DropUnique,
    DropView,
    FillColumn,
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
    SetNotNullAfterFill,
    SetNotNullAfterRestore,
    SetTableComment,
    SetTableOptions,
    SwapEnum,
)
from schemasync.snapshot import ForeignKey, TableKey, key_order
from schemasync.viewplan import dependencies

# The phases a plan runs in, first to last. Every operation belongs to one (PHASE_OF); inside a
# phase the order is stable (see `order`). Online forms (online.ONLINE_FORMS) replace ordered steps
# after ordering and have no phase of their own.
PHASES: tuple[str, ...] = (
    # Views go first (before renames: MariaDB and SQLite keep names as text) and come back last.
    "drop_views",
    # Schemas first: tables are renamed inside them.
    "create_schemas",
    "rename_tables",
    "rename_columns_and_constraints",
    # Data is kept once names are final (after renames) and before anything is dropped or narrowed.
    "keep_data",
    "drop_foreign_keys",
    # An AUTO_INCREMENT column needs an index it leads: it comes off before that index (or key) goes, on after one is made.
    "drop_auto_increments",
    # Tables go before the keys they reference are dropped: their foreign keys go with them, and
    # until then hold those keys (PostgreSQL: "other objects depend on it"; MariaDB: errno 150).
    "drop_tables",
    "drop_keys_indexes_checks",
    # Types and sequences after the tables that go and before the tables and columns that use them.
    "create_types",
    "create_tables",
    # SetTableOptions here, before new indexes and keys: an engine change rebuilds the table (and
    # MyISAM takes no foreign keys).
    "change_tables",
    # Declared fills (data_changes.py) once their columns exist, and before any column goes: a fill
    # may read a column the same plan drops (a split or a merge). Then the NOT NULLs they wait for.
    "fill_columns",
    "require_filled_columns",
    "drop_columns",
    # The types and sequences no longer used, once every column change is done.
    "drop_types",
    "add_primary_keys",
    "add_keys_indexes_checks",
    "set_auto_increments",
    # Kept data comes back once the schema is complete, but before foreign keys are added (restored
    # rows may reference each other) and before a restored column is required (set NOT NULL).
    "restore_rows",
    "restore_columns",
    "require_restored_columns",
    "add_foreign_keys",
    "create_views",
)

PHASE_OF: dict[type[Operation], str] = {
    DropView: "drop_views",
    CreateSchema: "create_schemas",
    RenameTable: "rename_tables",
    RenameColumn: "rename_columns_and_constraints",
    RenameIndex: "rename_columns_and_constraints",
    RenameConstraint: "rename_columns_and_constraints",
    BackupTable: "keep_data",
    BackupColumns: "keep_data",
    DropForeignKey: "drop_foreign_keys",
    DropAutoIncrement: "drop_auto_increments",
    DropIndex: "drop_keys_indexes_checks",
    DropUnique: "drop_keys_indexes_checks",
    DropCheck: "drop_keys_indexes_checks",
    DropExclusion: "drop_keys_indexes_checks",
    DropPrimaryKey: "drop_keys_indexes_checks",
    DropTable: "drop_tables",
    CreateEnum: "create_types",
    RenameEnumValue: "create_types",
    AddEnumValue: "create_types",
    SwapEnum: "create_types",
    CreateSequence: "create_types",
    AlterSequence: "create_types",
    CreateTable: "create_tables",
    RebuildTable: "change_tables",
    AddColumn: "change_tables",
    AlterColumn: "change_tables",
    ReplaceGeneratedColumn: "change_tables",
    SetTableComment: "change_tables",
    SetTableOptions: "change_tables",
    FillColumn: "fill_columns",
    SetNotNullAfterFill: "require_filled_columns",
    DropColumn: "drop_columns",
    DropEnum: "drop_types",
    DropSequence: "drop_types",
    AddPrimaryKey: "add_primary_keys",
    AddUnique: "add_keys_indexes_checks",
    CreateIndex: "add_keys_indexes_checks",
    AddCheck: "add_keys_indexes_checks",
    AddExclusion: "add_keys_indexes_checks",
    SetAutoIncrement: "set_auto_increments",
    RestoreRows: "restore_rows",
    RestoreColumns: "restore_columns",
    SetNotNullAfterRestore: "require_restored_columns",
    RebuildTableAfterRestore: "require_restored_columns",
    AddForeignKey: "add_foreign_keys",
    CreateView: "create_views",
}

_RANK: dict[type[Operation], int] = {kind: PHASES.index(phase) for kind, phase in PHASE_OF.items()}


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
    sequence: list[Operation] = [*ordered_creates, *ordered_drops, *_order_views(views), *sorted(rest, key=_within_phase)]
    return sorted(sequence, key=phase_rank)


def phase_rank(op: Operation) -> int:
    """The position of the operation's phase in PHASES (its exact class decides: a subclass has its own)."""
    return _RANK[type(op)]


def _within_phase(op: Operation) -> tuple[object, ...]:
    """Stable order inside a phase: by table, then kind; the diff's own order (the models' column
    order) is kept within that. Renames keep plan_renames' order (a table before its columns)."""
    if isinstance(op, (RenameTable, RenameColumn, RenameIndex, RenameConstraint, RestoreRows)):
        return (("", ""), "")  # RestoreRows: backup.py emits parents before children
    if isinstance(op, (RenameEnumValue, AddEnumValue, SwapEnum)):
        return (key_order(op.table), "enum", True)  # a type's renames before the values placed beside them (diff order)
    # A generated column is dropped before the columns its expression reads (the server refuses otherwise).
    generated_first = not (isinstance(op, DropColumn) and op.column.computed is not None)
    # And added after their type changes: PostgreSQL cannot change the type of a column a generated
    # column reads ("~" sorts after every step name of the phase that starts "a").
    kind = "alter_column~" if isinstance(op, AddColumn) and op.column.computed is not None else op.op
    return (key_order(op.table), kind, generated_first)


def _order_views(views: Sequence[Operation]) -> list[Operation]:
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


def fk_target(fk: ForeignKey) -> TableKey:
    return (fk.referred_schema, fk.referred_table)


def _toposort(edges: dict[TableKey, set[TableKey]], break_cycles: bool) -> list[TableKey]:
    """Kahn's algorithm with a sorted ready queue: dependencies first, ties by name."""
    pending = {key: set(deps) for key, deps in edges.items()}
    dependents: dict[TableKey, set[TableKey]] = {key: set() for key in edges}
    for key, deps in edges.items():
        for dep in deps:
            dependents[dep].add(key)
    ready = [(key_order(k), k) for k, deps in pending.items() if not deps]
    heapq.heapify(ready)
    result: list[TableKey] = []
    while len(result) < len(edges):
        if not ready:
            if not break_cycles:
                raise PlanError("foreign keys form a cycle that cannot be ordered")
            # Cycle: take the first remaining table by name; its unmet dependencies are split off later.
            key = min((k for k in pending if k not in result), key=key_order)
            pending[key] = set()
            heapq.heappush(ready, (key_order(key), key))
        _, key = heapq.heappop(ready)
        if key in result:
            continue
        result.append(key)
        for dependent in sorted(dependents[key], key=key_order):
            pending[dependent].discard(key)
            if not pending[dependent] and dependent not in result:
                heapq.heappush(ready, (key_order(dependent), dependent))
    return result

