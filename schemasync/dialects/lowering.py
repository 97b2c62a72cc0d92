"""The lowering passes every dialect shares: neutral diff in, steps a server can run out. Pure.

`Dialect.lower` (dialects/base.py) runs them in order; a dialect adds its own passes around them
in its package (SQLite's rebuild, MariaDB's foreign keys around index drops).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from schemasync.operations import (
    AddForeignKey,
    AddUnique,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropUnique,
    Operation,
    ReplaceGeneratedColumn,
)
from schemasync.snapshot import Column, ForeignKey, Snapshot, TableKey


def lower_generic(operations: Sequence[Operation], current: Snapshot, target: Snapshot, generated_in_place: Callable[[Column, Column], bool]) -> list[Operation]:
    """The shared passes, in order: generated columns replaced where the server cannot alter them,
    new tables' foreign keys deferred past the changes they meet, kept foreign keys dropped and
    re-added around changes under them, INVALID indexes dropped."""
    operations = replace_generated_columns(operations, current, generated_in_place)
    lowered = rebind_foreign_keys(defer_foreign_keys_of_new_tables(list(operations)), current, target)
    return lowered + drop_invalid_indexes(current, target)


def replace_generated_columns(operations: Sequence[Operation], current: Snapshot, in_place: Callable[[Column, Column], bool]) -> list[Operation]:
    """A generated column the server cannot alter is dropped and added again (ReplaceGeneratedColumn);
    indexes and unique constraints on it go with it, so they are dropped first and made again after."""
    result: list[Operation] = []
    for op in operations:
        generated = isinstance(op, AlterColumn) and (op.before.computed, op.before.persisted) != (op.after.computed, op.after.persisted)
        if not isinstance(op, AlterColumn) or not generated or in_place(op.before, op.after):
            result.append(op)
            continue
        result.append(ReplaceGeneratedColumn(op.table, op.before, op.after))
        table = current.table(op.table)
        for index in table.indexes if table else ():
            if op.before.name in index.columns and DropIndex(op.table, index) not in operations:
                result += [DropIndex(op.table, index), CreateIndex(op.table, index)]
        for unique in table.uniques if table else ():
            if op.before.name in unique.columns and DropUnique(op.table, unique) not in operations:
                result += [DropUnique(op.table, unique), AddUnique(op.table, unique)]
    return result


def drop_invalid_indexes(current: Snapshot, target: Snapshot) -> list[Operation]:
    """An INVALID index (a failed CREATE INDEX CONCURRENTLY) is dropped; the diff builds it again if wanted."""
    return [DropIndex(table.key, index) for table in current.tables if target.table(table.key) for index in table.invalid_indexes]


def rebind_foreign_keys(operations: list[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
    """Drop and re-add kept foreign keys that stand in the way of another step.

    PostgreSQL and MySQL refuse to change the type of a column a foreign key uses, and to drop the
    primary key or unique key a foreign key references (e.g. to rename it), while the key exists.
    """
    changed = _retyped_columns(operations)
    unbound = {(op.table, key) for op in operations for key in _referable_keys_dropped(op)}
    if not changed and not unbound:
        return operations
    dropped = {(op.table, op.foreign_key.key) for op in operations if isinstance(op, DropForeignKey)}
    extra: list[Operation] = []
    for table in current.tables:
        if target.table(table.key) is None:
            continue  # the table goes, and its foreign keys with it
        for fk in table.foreign_keys:
            touched = _meets_a_change(fk, changed, unbound) or any((table.key, column) in changed for column in fk.columns)
            if touched and (table.key, fk.key) not in dropped:
                extra += [DropForeignKey(table.key, fk), AddForeignKey(table.key, fk)]
    return operations + extra


def _retyped_columns(operations: list[Operation]) -> set[tuple[TableKey, str]]:
    return {(op.table, op.after.name) for op in operations if isinstance(op, AlterColumn) and op.before.type != op.after.type}


def defer_foreign_keys_of_new_tables(operations: list[Operation]) -> list[Operation]:
    """A new table's foreign key to a column or key the plan changes is added after that change.

    Tables are created before columns are altered and keys re-added, so the key would meet the
    old type (MySQL refuses a key between different integer types: errno 150) or no key at all
    (PostgreSQL: "no unique constraint matching given keys" while a primary key is renamed).
    """
    changed = _retyped_columns(operations)
    unbound = {(op.table, key) for op in operations for key in _referable_keys_dropped(op)}
    result: list[Operation] = []
    for op in operations:
        if not isinstance(op, CreateTable) or not (changed or unbound):
            result.append(op)
            continue
        later = [fk for fk in op.definition.foreign_keys if _meets_a_change(fk, changed, unbound)]
        kept = tuple(fk for fk in op.definition.foreign_keys if fk not in later)
        result.append(CreateTable(op.table, replace(op.definition, foreign_keys=kept)) if later else op)
        result += [AddForeignKey(op.table, fk) for fk in later]
    return result


def _meets_a_change(fk: ForeignKey, changed: set[tuple[TableKey, str]], unbound: set[tuple[TableKey, frozenset[str]]]) -> bool:
    referred = (fk.referred_schema, fk.referred_table)
    return any((referred, column) in changed for column in fk.referred_columns) or (referred, frozenset(fk.referred_columns)) in unbound


def _referable_keys_dropped(op: Operation) -> list[frozenset[str]]:
    """The column set of a key a foreign key could reference, when `op` drops it."""
    if isinstance(op, DropPrimaryKey):
        return [frozenset(op.primary_key.columns)]
    if isinstance(op, DropUnique):
        return [frozenset(op.unique.columns)]
    if isinstance(op, DropIndex) and op.index.unique:
        return [frozenset(op.index.columns)]
    return []
