"""What the rows already there must satisfy for a plan to succeed. Pure: operations in, checks out.

Every data-dependent change (hazards.py) on a table that exists becomes a `Precondition`: no NULLs
before SET NOT NULL, no rows before a NOT NULL column without a default, no duplicates before a
unique key, no orphans before a foreign key, no violations before a check, values that fit before a
narrowing. They name tables and columns as they are *before* the plan runs (through its renames),
so `preflight.py` can count the offending rows before the first statement, and they are part of the
plan (its JSON and hash), so a saved plan carries them to `apply --plan`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from schemasync.hazards import changes_within
from schemasync.online import not_null_text
from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    AlterColumn,
    CreateIndex,
    CreateTable,
    FillColumn,
    Operation,
    ReplaceGeneratedColumn,
    SetAutoIncrement,
    SetNotNullAfterFill,
    SwapEnum,
    becomes_generated,
    is_widening,
    parse_type,
    qualified,
    type_members,
)
from schemasync.renames import RenamedNames
from schemasync.snapshot import Snapshot, TableKey

NO_NULLS, NO_ROWS, DISTINCT, REFERENCES, CHECK, FITS = "no_nulls", "no_rows", "distinct", "references", "check", "fits"
# MariaDB/MySQL renumber the zeros of a column AUTO_INCREMENT goes on (unless NO_AUTO_VALUE_ON_ZERO).
NO_ZEROS = "no_zeros"
# Not a condition for success: the rows whose stored value a destructive step replaces (counted so that
# the refusal says how many, never failing an apply that --allow-destructive allowed).
REPLACED = "replaced"
# A declared fill or conversion (data_changes.py): `filled`, the rows its expression gives NULL for
# where a value is needed (none may); `evaluates`, only that the expression runs on the rows there.
# Either fails when the server cannot run the expression (an unknown column, say).
FILLED, EVALUATES = "filled", "evaluates"
# The two ways a value can fail to fit a narrower type.
LENGTH, RANGE = "length", "range"


@dataclass(frozen=True)
class Precondition:
    """One question about the live rows; `kind` says which, the other fields what it needs."""

    kind: str
    table: str
    columns: tuple[str, ...] = ()
    # references: the referred table as it is live, or None when the plan creates it (it starts empty).
    referred_table: str | None = None
    referred_columns: tuple[str, ...] = ()
    # check: the expression as the server spells it; name when the check has one.
    sqltext: str | None = None
    name: str | None = None
    # fits: the longest text, or the smallest and largest number, the new type holds.
    max_length: int | None = None
    minimum: str | None = None
    maximum: str | None = None
    type: str | None = None
    # fits: the values an ENUM holds (MariaDB/MySQL, whose ENUM types are written in the column).
    values: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items() if v not in (None, ())}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Precondition:
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


def preconditions(operations: Sequence[Operation], current: Snapshot, narrowing_fails_on: Collection[str] = (LENGTH, RANGE)) -> tuple[Precondition, ...]:
    """The checks a plan's data-dependent steps need; `current` is the live schema after the plan's renames.

    `narrowing_fails_on` says which narrowings the server refuses when a value does not fit
    (`Dialect.narrowing_fails_on`); the others keep or cut the value, which is data loss, not failure.
    """
    names = RenamedNames.of(operations)
    created = {op.table for op in operations if isinstance(op, CreateTable)}
    found: list[Precondition] = []
    found += _enum_values_kept(operations, names, current)
    filled = _filled(operations)
    for op in operations:
        if op.table in created or current.table(op.table) is None:
            continue
        for change in changes_within(op):
            if _waits_for_fill(change, filled):
                continue  # its fill's own condition counts the rows it would leave NULL
            for condition in _conditions(change, names, created, current, narrowing_fails_on):
                if condition not in found:
                    found.append(condition)
    return tuple(found)


def _conditions(op: Operation, names: RenamedNames, created: set[TableKey], current: Snapshot, narrowing_fails_on: Collection[str]) -> list[Precondition]:
    table = qualified(names.old_table(op.table))

    def live(columns: Sequence[str], key: TableKey = op.table) -> tuple[str, ...] | None:
        """The columns' live names, or None when the table or a column is new (nothing to count yet)."""
        existing = current.table(key)
        if key in created or existing is None or any(c not in existing.columns_by_name for c in columns):
            return None
        return tuple(names.old_column(key, c) for c in columns)

    if isinstance(op, AddColumn) and not op.column.nullable and op.column.default is None and not op.column.autoincrement:
        return [Precondition(NO_ROWS, table, (op.column.name,))]
    if isinstance(op, FillColumn):
        return [_fill(op, table, live([op.column.name]))]
    if isinstance(op, ReplaceGeneratedColumn) and (columns := live([op.after.name])):
        return [Precondition(REPLACED, table, columns, sqltext=op.after.computed)] if becomes_generated(op.before, op.after) else []
    if isinstance(op, AlterColumn) and (columns := live([op.after.name])):
        found = []
        if op.before.nullable and not op.after.nullable and not isinstance(op, SetNotNullAfterFill):  # its fill's own check counts them
            found.append(Precondition(NO_NULLS, table, columns))
        if op.using:
            found.append(Precondition(EVALUATES if op.after.nullable else FILLED, table, sqltext=op.using, name=f"{qualified(op.table)}.{op.after.name}"))
        if isinstance(op, SetAutoIncrement):
            found.append(Precondition(NO_ZEROS, table, columns))
        if becomes_generated(op.before, op.after):
            found.append(Precondition(REPLACED, table, columns, sqltext=op.after.computed))
        if op.before.type != op.after.type and not is_widening(op.before.type, op.after.type):
            fits = _fits(table, columns[0], op.before.type, op.after.type)
            found += [fits] if fits and (LENGTH if fits.max_length is not None else RANGE) in narrowing_fails_on else []
        return found
    if isinstance(op, (AddUnique, AddPrimaryKey, CreateIndex)):
        key = op.unique if isinstance(op, AddUnique) else op.primary_key if isinstance(op, AddPrimaryKey) else op.index
        columns = live(key.columns)
        if columns is None or (isinstance(op, CreateIndex) and not op.index.unique):
            return []
        if isinstance(op, CreateIndex) and (op.index.expressions or op.index.where or op.index.options):
            return []  # an expression, a predicate or a prefix decides what is distinct: the build itself checks
        nulls = [Precondition(NO_NULLS, table, (c,)) for c in columns] if isinstance(op, AddPrimaryKey) else []
        return nulls + [Precondition(DISTINCT, table, columns)]
    if isinstance(op, AddForeignKey) and (columns := live(op.foreign_key.columns)):
        fk = op.foreign_key
        referred = (fk.referred_schema, fk.referred_table)
        referred_columns = live(fk.referred_columns, referred)
        if referred_columns is None:  # created (or its key columns added) by the plan: it starts empty
            return [Precondition(REFERENCES, table, columns, None, fk.referred_columns)]
        return [Precondition(REFERENCES, table, columns, qualified(names.old_table(referred)), referred_columns)]
    if isinstance(op, AddCheck):
        return [Precondition(CHECK, table, sqltext=op.check.sqltext, name=op.check.name)]
    return []


def _filled(operations: Sequence[Operation]) -> set[tuple[TableKey, str]]:
    """The columns a declared fill makes NOT NULL (data_changes.py)."""
    return {(change.table, change.column.name) for op in operations for change in changes_within(op) if isinstance(change, FillColumn) and change.required}


def _waits_for_fill(op: Operation, filled: set[tuple[TableKey, str]]) -> bool:
    """A NOT NULL (or the online check that proves it) on a column a declared fill fills first."""
    if isinstance(op, AlterColumn):
        return (op.table, op.after.name) in filled and op.before.nullable and not op.after.nullable and op.before.type == op.after.type
    return isinstance(op, AddCheck) and any(op.table == table and op.check.sqltext == not_null_text(column) for table, column in filled)


def _fill(op: FillColumn, table: str, live: tuple[str, ...] | None) -> Precondition:
    """A fill needs its expression to run, and a value from it in every row still NULL when the
    column is to be NOT NULL (`live`: the column's live name, None when the plan adds it)."""
    return Precondition(FILLED if op.required else EVALUATES, table, live or (), sqltext=op.expression, name=f"{qualified(op.table)}.{op.column.name}")


_INTEGER_BITS = {"TINYINT": 8, "SMALLINT": 16, "MEDIUMINT": 24, "INTEGER": 32, "INT": 32, "BIGINT": 64}
_TEXT = {"VARCHAR", "CHARACTER VARYING", "NVARCHAR", "CHAR", "CHARACTER", "TEXT"}


def _fits(table: str, column: str, before: str, after: str) -> Precondition | None:
    """The bounds of a narrower type that values can be counted against (None: no such bound)."""
    kept = type_members(after) if after.upper().startswith("ENUM") and before.upper().startswith("ENUM") else None
    if kept is not None:
        return Precondition(FITS, table, (column,), values=tuple(v.replace("''", "'") for v in kept), type=after)
    b, a = parse_type(before), parse_type(after)
    if b is None or a is None:
        return None
    (b_base, _), (a_base, a_args) = b, a
    if a_base in _TEXT and b_base in _TEXT and a_args:
        return Precondition(FITS, table, (column,), max_length=a_args[0], type=after)
    if a_base in _INTEGER_BITS and (b_base in _INTEGER_BITS or b_base in {"NUMERIC", "DECIMAL"}):
        bits = _INTEGER_BITS[a_base]
        low, high = (0, 2**bits - 1) if "UNSIGNED" in after.upper() else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return Precondition(FITS, table, (column,), minimum=str(low), maximum=str(high), type=after)
    if a_base in {"NUMERIC", "DECIMAL"} and len(a_args) == 2:
        precision, scale = a_args
        largest = (Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)).quantize(Decimal(1).scaleb(-scale))
        return Precondition(FITS, table, (column,), minimum=str(-largest), maximum=str(largest), type=after)
    return None


def _enum_values_kept(operations: Sequence[Operation], names: RenamedNames, current: Snapshot) -> list[Precondition]:
    """An enum swap that drops values: no live row may hold one (a CHECK-shaped count per column)."""
    found = []
    for op in operations:
        if not isinstance(op, SwapEnum) or not op.dropped_values:
            continue
        listed = ", ".join("'" + v.replace("'", "''") + "'" for v in op.dropped_values)
        for column in op.columns:
            if current.table(column.table) is not None:
                name = names.old_column(column.table, column.column)
                quoted = '"' + name.replace('"', '""') + '"'
                # CHECK counts NOT (sqltext): the rows holding a dropped value.
                sqltext = f"{quoted} IS NULL OR {quoted}::text NOT IN ({listed})"
                found.append(Precondition(CHECK, qualified(names.old_table(column.table)), sqltext=sqltext, name=f"enum {qualified(op.table)} keeps {name}"))
    return found
