"""Schema-level operations to SQL: named schemas, enum types and sequences (render.py's other half).

The statements are PostgreSQL's (the only dialect whose snapshots carry enum types and sequences);
CREATE SCHEMA IF NOT EXISTS is also MariaDB's spelling of CREATE DATABASE. Sequences go through
SQLAlchemy's own CreateSequence/DropSequence; the rest are small `@compiles` elements, quoted by
the dialect's preparer. https://www.postgresql.org/docs/current/sql-altertype.html
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement

from schemasync import ddl
from schemasync.dialects import Dialect
from schemasync.operations import (
    AddEnumValue,
    AlterSequence,
    CreateEnum,
    CreateSchema,
    CreateSequence,
    DropEnum,
    DropSequence,
    RenameEnumValue,
    SwapEnum,
)
from schemasync.render import bare_table, elements, literal_sql
from schemasync.snapshot import SequenceDef, TableKey

# The name a swapped enum type has while its columns are converted (PostgreSQL names: 63 bytes).
SWAP_PREFIX = "_schemasync_old_"


class SchemaObjectDDL(ExecutableDDLElement):
    """One statement about a named schema object; `kind` picks the spelling, `args` what it needs."""

    def __init__(self, kind: str, key: TableKey, *args: Any) -> None:
        self.kind, self.key, self.args = kind, key, args


def _name(compiler: Any, key: TableKey) -> str:
    quote = compiler.preparer.quote
    schema, name = key
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@compiles(SchemaObjectDDL)
def _schema_object(element: SchemaObjectDDL, compiler: Any, **kw: Any) -> str:
    name, args = _name(compiler, element.key), element.args
    if element.kind == "create_schema":
        return f"CREATE SCHEMA IF NOT EXISTS {compiler.preparer.quote(element.key[1])}"
    if element.kind == "create_enum":
        return f"CREATE TYPE {name} AS ENUM ({', '.join(_literal(v) for v in args[0])})"
    if element.kind == "drop_type":
        return f"DROP TYPE {name}"
    if element.kind == "add_value":
        value, placement, neighbour = args
        return f"ALTER TYPE {name} ADD VALUE {_literal(value)}" + (f" {placement} {_literal(neighbour)}" if placement else "")
    if element.kind == "rename_value":
        return f"ALTER TYPE {name} RENAME VALUE {_literal(args[0])} TO {_literal(args[1])}"
    if element.kind == "rename_type":
        return f"ALTER TYPE {name} RENAME TO {compiler.preparer.quote(args[0])}"
    if element.kind == "alter_sequence":
        return f"ALTER SEQUENCE {name} " + " ".join(args[0])
    raise ValueError(f"unknown schema object statement {element.kind!r}")


class RetypeThroughText(ExecutableDDLElement):
    """ALTER TABLE ... ALTER COLUMN c TYPE t USING c::text::t, its default taken off first and put back after."""

    def __init__(self, table: sa.Table, column: str, type_key: TableKey, drop_default: bool, default: str | None) -> None:
        self.table, self.column, self.type_key, self.drop_default, self.default = table, column, type_key, drop_default, default


@compiles(RetypeThroughText)
def _retype_through_text(element: RetypeThroughText, compiler: Any, **kw: Any) -> str:
    column = compiler.preparer.quote(element.column)
    type_name = _name(compiler, element.type_key)
    clauses = [f"ALTER COLUMN {column} DROP DEFAULT"] if element.drop_default else []
    clauses.append(f"ALTER COLUMN {column} TYPE {type_name} USING {column}::text::{type_name}")
    if element.default is not None:
        clauses.append(f"ALTER COLUMN {column} SET DEFAULT {element.default}")
    return f"ALTER TABLE {compiler.preparer.format_table(element.table)} " + ", ".join(clauses)


@elements.register
def _(op: CreateSchema, dialect: Dialect) -> list[Any]:
    return [SchemaObjectDDL("create_schema", op.table)]


@elements.register
def _(op: CreateEnum, dialect: Dialect) -> list[Any]:
    return [SchemaObjectDDL("create_enum", op.table, op.enum.values)]


@elements.register
def _(op: DropEnum, dialect: Dialect) -> list[Any]:
    return [SchemaObjectDDL("drop_type", op.table)]


@elements.register
def _(op: AddEnumValue, dialect: Dialect) -> list[Any]:
    return [SchemaObjectDDL("add_value", op.table, op.value, op.placement, op.neighbour)]


@elements.register
def _(op: RenameEnumValue, dialect: Dialect) -> list[Any]:
    return [SchemaObjectDDL("rename_value", op.table, op.old_value, op.new_value)]


def swap_name(name: str) -> str:
    return (SWAP_PREFIX + name)[:63]


@elements.register
def _(op: SwapEnum, dialect: Dialect) -> list[Any]:
    """Rename aside, create anew, convert each column through text, drop the old type."""
    schema, name = op.table
    aside = swap_name(name)
    found: list[Any] = [SchemaObjectDDL("rename_type", op.table, aside), SchemaObjectDDL("create_enum", op.table, op.after.values)]
    for column in op.columns:
        table = bare_table(column.table, [column.column])
        default = str(literal_sql(column.default)) if column.default is not None else None
        found.append(RetypeThroughText(table, column.column, op.table, column.had_default, default))
    return [*found, SchemaObjectDDL("drop_type", (schema, aside))]


def sa_sequence(sequence: SequenceDef) -> sa.Sequence:
    s = sequence
    return sa.Sequence(
        s.name, start=s.start, increment=s.increment, minvalue=s.min_value, maxvalue=s.max_value,
        cache=s.cache, cycle=s.cycle, data_type=ddl.RawType(s.data_type), schema=s.schema,
    )


@elements.register
def _(op: CreateSequence, dialect: Dialect) -> list[Any]:
    return [sa.schema.CreateSequence(sa_sequence(op.sequence))]


@elements.register
def _(op: DropSequence, dialect: Dialect) -> list[Any]:
    return [sa.schema.DropSequence(sa_sequence(op.sequence))]


@elements.register
def _(op: AlterSequence, dialect: Dialect) -> list[Any]:
    """Only the options that changed; the bounds go with a new data type (it checks them)."""
    b, a = op.before, op.after
    clauses = []
    if b.data_type != a.data_type:
        clauses.append(f"AS {a.data_type}")
    if b.increment != a.increment:
        clauses.append(f"INCREMENT BY {a.increment}")
    if b.min_value != a.min_value or b.data_type != a.data_type:
        clauses.append(f"MINVALUE {a.min_value}")
    if b.max_value != a.max_value or b.data_type != a.data_type:
        clauses.append(f"MAXVALUE {a.max_value}")
    if b.start != a.start:
        clauses.append(f"START WITH {a.start}")
    if b.cache != a.cache:
        clauses.append(f"CACHE {a.cache}")
    if b.cycle != a.cycle:
        clauses.append("CYCLE" if a.cycle else "NO CYCLE")
    return [SchemaObjectDDL("alter_sequence", op.table, tuple(clauses))]
