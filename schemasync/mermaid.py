"""Mermaid ER diagrams (https://mermaid.js.org/syntax/entityRelationshipDiagram.html): the schema's
tables, key columns and foreign keys, or the tables a plan touches with their neighbours, marked
added / changed / dropped. Pure text, rendered by whatever reads it (GitHub renders Mermaid in
Markdown); html_report.py draws its own picture from the same `Diagram` value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from schemasync.diff import diff_table
from schemasync.operations import (
    AddColumn,
    AlterColumn,
    DropColumn,
    DropTable,
    Operation,
    RebuildTable,
    qualified,
)
from schemasync.plan import Plan
from schemasync.snapshot import Column, Snapshot, Table

ADDED, CHANGED, DROPPED = "added", "changed", "dropped"


@dataclass(frozen=True)
class Field:
    """A column as the diagram shows it: its type, key marks (PK, FK, UK) and what the plan does to it."""

    name: str
    type: str
    keys: tuple[str, ...] = ()
    change: str | None = None


@dataclass(frozen=True)
class Entity:
    name: str
    fields: tuple[Field, ...]
    change: str | None = None


@dataclass(frozen=True)
class Relation:
    """A foreign key: `child` (columns) refers to `parent`."""

    child: str
    parent: str
    columns: tuple[str, ...]
    nullable: bool


@dataclass(frozen=True)
class Diagram:
    entities: tuple[Entity, ...]
    relations: tuple[Relation, ...]


def schema_diagram(snapshot: Snapshot) -> Diagram:
    """Every table of the schema with its key columns, and every foreign key between them."""
    return Diagram(tuple(entity(t) for t in snapshot.tables), _relations(snapshot.tables, {t.qualified_name for t in snapshot.tables}))


def plan_diagram(plan: Plan) -> Diagram:
    """The tables the plan touches, marked, with the tables their foreign keys join them to."""
    target = Snapshot.from_dict(plan.target) if plan.target else None
    tables = {t.qualified_name: t for t in target.tables} if target else {}
    dropped = {qualified(op.table): op.definition for op in plan.operations if isinstance(op, DropTable)}
    marks = _table_marks(plan)
    columns = _column_marks(plan.operations)
    everything = {**dropped, **tables}
    touched = set(marks) & set(everything)
    near: set[str] = set()
    for table in everything.values():
        referred = _referred(table)
        near |= referred if table.qualified_name in touched else {table.qualified_name} if referred & touched else set()
    shown = sorted(touched | (near & set(everything)))
    entities = tuple(entity(everything[name], marks.get(name), columns.get(name, {})) for name in shown)
    return Diagram(entities, _relations([everything[name] for name in shown], set(shown)))


def _referred(table: Table) -> set[str]:
    """The tables the table's foreign keys refer to."""
    return {qualified((fk.referred_schema, fk.referred_table)) for fk in table.foreign_keys}


def _table_marks(plan: Plan) -> dict[str, str]:
    """added / dropped / changed per table a step names (a table both dropped and created is changed)."""
    marks: dict[str, str] = {}
    for step in plan.steps:
        mark = ADDED if step.op == "create_table" else DROPPED if step.op == "drop_table" else CHANGED
        marks[step.table] = mark if marks.get(step.table, mark) == mark else CHANGED
    return marks


def _column_marks(operations: Iterable[Operation]) -> dict[str, dict[str, tuple[str, Column]]]:
    """Per table, the columns a step adds, changes or drops (inside a rebuild too)."""
    found: dict[str, dict[str, tuple[str, Column]]] = {}
    for op in operations:
        for change in diff_table(op.before, op.after) if isinstance(op, RebuildTable) else [op]:
            if isinstance(change, AddColumn):
                found.setdefault(qualified(op.table), {})[change.column.name] = (ADDED, change.column)
            elif isinstance(change, DropColumn):
                found.setdefault(qualified(op.table), {})[change.column.name] = (DROPPED, change.column)
            elif isinstance(change, AlterColumn):
                found.setdefault(qualified(op.table), {})[change.after.name] = (CHANGED, change.after)
    return found


def entity(table: Table, change: str | None = None, columns: dict[str, tuple[str, Column]] | None = None) -> Entity:
    """A table's key columns (and, in a plan, the columns it changes, dropped ones included)."""
    columns = columns or {}
    keys = _keys(table)
    new = change == ADDED
    shown = [Field(c.name, c.type, keys.get(c.name, ()), columns.get(c.name, (None,))[0])
             for c in table.columns if c.name in keys or c.name in columns or new]
    gone = [Field(name, column.type, (), DROPPED) for name, (mark, column) in columns.items() if mark == DROPPED and name not in table.columns_by_name]
    return Entity(table.qualified_name, tuple(shown + gone), change)


def _keys(table: Table) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for name in table.primary_key.columns if table.primary_key else ():
        found.setdefault(name, []).append("PK")
    for name in sorted({c for fk in table.foreign_keys for c in fk.columns}):
        found.setdefault(name, []).append("FK")
    for name in sorted({u.columns[0] for u in table.uniques if len(u.columns) == 1} | {i.columns[0] for i in table.indexes if i.unique and len(i.columns) == 1}):
        found.setdefault(name, []).append("UK")
    return {name: tuple(marks) for name, marks in found.items()}


def _relations(tables: Iterable[Table], shown: set[str]) -> tuple[Relation, ...]:
    found = []
    for table in tables:
        for fk in table.foreign_keys:
            parent = qualified((fk.referred_schema, fk.referred_table))
            if parent in shown:
                nullable = any(table.columns_by_name[c].nullable for c in fk.columns if c in table.columns_by_name)
                found.append(Relation(table.qualified_name, parent, fk.columns, nullable))
    return tuple(sorted(found, key=lambda r: (r.child, r.parent, r.columns)))


# --- Mermaid text ---------------------------------------------------------------------------------

_MARK_TEXT = {ADDED: "+ added", CHANGED: "~ changed", DROPPED: "- dropped"}


def mermaid(diagram: Diagram) -> str:
    """The diagram as a Mermaid `erDiagram` (names and types spelled as Mermaid accepts them)."""
    lines = ["erDiagram"]
    for item in diagram.entities:
        fields = ([f"        plan {item.change} \"{_MARK_TEXT[item.change]} table\""] if item.change else [])
        fields += [_field_line(f) for f in item.fields]
        lines += [f"    {_name(item.name)} {{", *fields, "    }"] if fields else [f"    {_name(item.name)}"]
    for relation in diagram.relations:
        parent_end = "|o" if relation.nullable else "||"  # a NULL key refers to no row
        lines.append(f"    {_name(relation.parent)} {parent_end}--o{{ {_name(relation.child)} : \"{', '.join(relation.columns)}\"")
    return "\n".join(lines) + "\n"


def _field_line(field: Field) -> str:
    keys = f" {', '.join(field.keys)}" if field.keys else ""
    comment = f" \"{_MARK_TEXT[field.change]}\"" if field.change else ""
    return f"        {_type(field.type)} {_name(field.name)}{keys}{comment}"


def _name(text: str) -> str:
    """Mermaid entity and attribute names: letters, digits, _ and - (a schema's dot becomes __)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text.replace(".", "__"))


def _type(text: str) -> str:
    """Mermaid attribute types: a letter first, then letters, digits, _, -, () and []."""
    spelled = re.sub(r"[^A-Za-z0-9_()\[\]-]", "_", text.replace(", ", "-").replace(",", "-").replace(" ", "_"))
    return spelled if spelled[:1].isalpha() else f"t_{spelled}"
