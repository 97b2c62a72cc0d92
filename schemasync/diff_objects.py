"""The schema-level half of the diff: named schemas, enum types and sequences. Pure: no I/O.

Named schemas are never dropped (other things may live there); one the target's objects need and
the live side shows none in is created (IF NOT EXISTS: a schema with nothing managed in it looks
the same as a missing one). An enum type whose values only grow gets ADD VALUE (in the right
place); declared renames get RENAME VALUE; a value dropped or the order changed is a swap (a new
type, each column converted through text); an added value that the same plan uses (a default or
check mentions it) is a swap too, because PostgreSQL refuses a value added in the running
transaction ("unsafe use of new value"). https://www.postgresql.org/docs/current/sql-altertype.html
"""

from __future__ import annotations

from schemasync.operations import (
    AddEnumValue,
    AlterSequence,
    CreateEnum,
    CreateSchema,
    CreateSequence,
    DropEnum,
    DropSequence,
    EnumColumn,
    Operation,
    RenameEnumValue,
    SwapEnum,
)
from schemasync.snapshot import EnumType, Snapshot, changed_by_key, key_order


def diff_objects(current: Snapshot, target: Snapshot) -> list[Operation]:
    """Operations for the schemas, enum types and sequences (ordering.py places them around the tables')."""
    operations: list[Operation] = [CreateSchema((None, s)) for s in target.schema_names if s not in current.schema_names]
    operations += diff_enums(current, target)
    operations += diff_sequences(current, target)
    return operations


def diff_enums(current: Snapshot, target: Snapshot) -> list[Operation]:
    operations: list[Operation] = []
    for key, before, after in changed_by_key(current.enums_by_key, target.enums_by_key, key_order):
        if before is None:
            operations.append(CreateEnum(key, target.enums_by_key[key]))
        elif after is None:
            operations.append(DropEnum(key, before))
        else:  # the same name and schema: the values differ
            operations += _change_enum(before, after, current, target)
    return operations


def _change_enum(before: EnumType, after: EnumType, current: Snapshot, target: Snapshot) -> list[Operation]:
    renames = [(o, n) for o, n in after.renamed_values if o in before.values and n not in before.values and n in after.values]
    renamed = tuple(dict(renames).get(v, v) for v in before.values)
    operations: list[Operation] = [RenameEnumValue(before.key, o, n) for o, n in renames]
    added = [v for v in after.values if v not in renamed]
    if _is_subsequence(renamed, after.values) and not _used_by_target(added, target):
        return operations + _add_values(before.key, renamed, after.values)
    return operations + [SwapEnum(before.key, EnumType(before.name, renamed, before.schema), after, _enum_columns(before, current, target))]


def _is_subsequence(values: tuple[str, ...], within: tuple[str, ...]) -> bool:
    found = iter(within)
    return all(v in found for v in values)


def _used_by_target(values: list[str], target: Snapshot) -> bool:
    """Whether a target default or check spells one of these values (as a quoted literal)."""
    literals = [f"'{v}'" for v in values]
    texts = [c.default or "" for t in target.tables for c in t.columns] + [c.sqltext for t in target.tables for c in t.checks]
    return any(literal in text for literal in literals for text in texts)


def _add_values(key: tuple, present: tuple[str, ...], wanted: tuple[str, ...]) -> list[Operation]:
    """ADD VALUE steps, left to right: each BEFORE the next value already there, else AFTER the previous one."""
    have = set(present)
    operations: list[Operation] = []
    for i, value in enumerate(wanted):
        if value in have:
            continue
        following = next((v for v in wanted[i + 1:] if v in have), None)
        if following is not None:
            operations.append(AddEnumValue(key, value, "BEFORE", following))
        elif i > 0:
            operations.append(AddEnumValue(key, value, "AFTER", wanted[i - 1]))
        else:
            operations.append(AddEnumValue(key, value))
        have.add(value)
    return operations


def enum_type_text(enum: EnumType) -> str:
    """How a column of this type reads back (schema-qualified outside the search path), quotes aside."""
    return f"{enum.schema}.{enum.name}" if enum.schema else enum.name


def _enum_columns(enum: EnumType, current: Snapshot, target: Snapshot) -> tuple[EnumColumn, ...]:
    """The live columns of the type; each gets the target's default back after the conversion."""
    text = enum_type_text(enum)
    found = []
    for table in current.tables:
        for column in table.columns:
            if column.type.replace('"', "") == text:
                wanted = target.table(table.key)
                after = wanted.columns_by_name.get(column.name) if wanted else None
                default = after.default if after is not None and after.type.replace('"', "") == text else None
                found.append(EnumColumn(table.key, column.name, default, column.default is not None))
    return tuple(found)


def diff_sequences(current: Snapshot, target: Snapshot) -> list[Operation]:
    operations: list[Operation] = []
    for key, before, after in changed_by_key(current.sequences_by_key, target.sequences_by_key, key_order):
        if before is None:
            operations.append(CreateSequence(key, target.sequences_by_key[key]))
        elif after is None:
            operations.append(DropSequence(key, before))
        else:
            operations.append(AlterSequence(key, before, after))
    return operations
