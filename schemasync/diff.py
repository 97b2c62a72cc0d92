"""The difference between two normalised snapshots, as unordered operations. Pure: no I/O.

`diff(current, target)` is the one comparison behind plan, check and apply. Every object kind is
compared by the same keyed diff: present only in `current` is dropped, only in `target` is added,
in both but unequal is dropped and added again (columns are altered in place instead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from schemasync.diff_objects import diff_objects
from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddExclusion,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    AlterColumn,
    CreateIndex,
    CreateTable,
    CreateView,
    DropCheck,
    DropColumn,
    DropExclusion,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    DropUnique,
    DropView,
    Operation,
    SetTableComment,
    SetTableOptions,
)
from schemasync.snapshot import Snapshot, Table, TableKey, changed_by_key, key_order


def diff(current: Snapshot, target: Snapshot) -> list[Operation]:
    """Operations that turn `current` into `target`, in a deterministic (not yet runnable) order."""
    operations: list[Operation] = []
    for key, before, after in changed_by_key(current.tables_by_key, target.tables_by_key, key_order):
        if before is None:
            operations.append(CreateTable(key, target.tables_by_key[key]))
        elif after is None:
            operations.append(DropTable(key, before))
        else:
            operations.extend(diff_table(before, after))
    return operations + diff_objects(current, target) + diff_views(current, target)


def diff_views(current: Snapshot, target: Snapshot) -> list[Operation]:
    """Views by key: a changed one (definition, or materialized or not) is dropped and created again."""
    operations: list[Operation] = []
    for key, before, after in changed_by_key(current.views_by_key, target.views_by_key, key_order):
        changed = "its definition changed" if before is not None and after is not None else None
        if before is not None:
            operations.append(DropView(key, before, changed))
        if after is not None:
            operations.append(CreateView(key, after, changed))
    return operations


def diff_table(before: Table, after: Table) -> list[Operation]:
    """Operations that turn one table into another of the same name."""
    if before == after:
        return []  # the in-sync case, most tables of most plans: one comparison instead of six keyed ones
    key = before.key
    operations: list[Operation] = []
    operations += _keyed(key, before.foreign_keys, after.foreign_keys, DropForeignKey, AddForeignKey)
    operations += _keyed(key, before.indexes, after.indexes, DropIndex, CreateIndex)
    operations += _keyed(key, before.uniques, after.uniques, DropUnique, AddUnique)
    operations += _keyed(key, before.checks, after.checks, DropCheck, AddCheck)
    operations += _keyed(key, before.exclusions, after.exclusions, DropExclusion, AddExclusion)
    operations += _keyed(key, _maybe(before.primary_key), _maybe(after.primary_key), DropPrimaryKey, AddPrimaryKey)
    operations += _columns(key, before, after)
    if before.comment != after.comment:
        operations.append(SetTableComment(key, before.comment, after.comment))
    if before.options != after.options:
        operations.append(SetTableOptions(key, before.options, after.options))
    return operations


def _maybe(item: Any) -> tuple[Any, ...]:
    return (item,) if item is not None else ()


def _keyed(
    table: TableKey,
    before: Sequence[Any],
    after: Sequence[Any],
    drop: Callable[[TableKey, Any], Operation],
    add: Callable[[TableKey, Any], Operation],
) -> list[Operation]:
    """The keyed comparison of every kind of constraint and index: a changed one is dropped and added again."""
    operations: list[Operation] = []
    for _, old, new in changed_by_key(_by_key(before), _by_key(after), repr):
        if old is not None:
            operations.append(drop(table, old))
        if new is not None:
            operations.append(add(table, new))
    return operations


def _by_key(items: Iterable[Any]) -> dict[Any, Any]:
    """Items by key; identical keys (two unnamed, identical constraints) get an ordinal."""
    found: dict[Any, Any] = {}
    for item in items:
        k, n = item.key, 1
        while (k, n) in found:
            n += 1
        found[(k, n)] = item
    return found


def _columns(table: TableKey, before: Table, after: Table) -> list[Operation]:
    old, new = before.columns_by_name, after.columns_by_name
    operations: list[Operation] = []
    for column in after.columns:
        if column.name not in old:
            operations.append(AddColumn(table, column))
        elif old[column.name] != column:
            operations.append(AlterColumn(table, old[column.name], column))
    operations += [DropColumn(table, column) for column in before.columns if column.name not in new]
    return operations
