"""Immutable, normalised pictures of a schema, with a canonical dict form and fingerprints.

A Snapshot is what reflection (of the live database, or of the models built in a scratch place)
produces after the dialect has normalised it. Two equal schemas give equal snapshots, so `diff`
can compare them field by field. Fields marked `compare=False` are carried for rendering only
(the server's own constraint names, SQLAlchemy type objects) and never reach a fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache, cached_property
from typing import Any, ClassVar, TypeVar

from schemasync.forms import (
    NOT_STORED,
    SERVER,
    SERVER_FORM,
    SERVER_NAME,
    WHEN_SET,
    WHEN_SET_FORM,
    Field,
    form,
    from_dict,
    plain,
    read,
    to_dict,
)

TableKey = tuple[str | None, str]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def key_order(key: TableKey) -> tuple[str, str]:
    """How (schema, name) keys sort everywhere: the default schema (None) first, then by name."""
    return (key[0] or "", key[1])


class SchemaObject:
    """A table, view, enum type or sequence: known by (schema, name), one namespace per schema."""

    __slots__ = ()
    name: str
    schema: str | None

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


def by_key(item: SchemaObject) -> tuple[str, str]:
    """The sort key of a table, view, enum type or sequence (`key_order` of its key)."""
    return key_order(item.key)


def changed_by_key(old: Mapping[K, V], new: Mapping[K, V], order: Callable[[K], Any]) -> list[tuple[K, V | None, V | None]]:
    """The keyed diff every kind of object shares: (key, old value, new value) for each key of
    either side whose values differ, sorted by `order`; None where a side lacks the key."""
    return [(key, old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys(), key=order) if old.get(key) != new.get(key)]



@dataclass(frozen=True, slots=True)  # slots: 130,000 of them at 5,000 tables (live and target)
class Column:
    """A column; `type` is the DDL text the dialect compiles, `default` the server's default text."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    autoincrement: bool = False
    comment: str | None = None
    type_object: Any = field(default=None, compare=False, repr=False, metadata=NOT_STORED)
    # Declared in the models (info={"schemasync": {"renamed_from": ...}}); an instruction, not schema.
    renamed_from: str | None = field(default=None, compare=False, metadata=NOT_STORED)
    # A generated column: its expression as the server reports it, and whether it is stored
    # (PostgreSQL STORED, MariaDB PERSISTENT/STORED, SQLite STORED) rather than computed on read.
    computed: str | None = field(default=None, metadata=WHEN_SET)
    persisted: bool = field(default=False, metadata=WHEN_SET)
    # PostgreSQL identity options that differ from a SERIAL's ("always=true start=5"; see
    # dialect_postgresql.normalize_column); None for no identity or one that behaves as SERIAL.
    identity: str | None = field(default=None, metadata=WHEN_SET)
    # Declared data changes (data_changes.py): the SQL expression that fills the column when a plan adds
    # it (or makes it NOT NULL), and the one that converts its values when a plan changes its type.
    backfill: str | None = field(default=None, compare=False, metadata=NOT_STORED)
    using: str | None = field(default=None, compare=False, metadata=NOT_STORED)


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    """A primary key; `name` is None when the server chose it (`db_name` keeps what it chose)."""

    columns: tuple[str, ...]
    name: str | None = None
    db_name: str | None = field(default=None, compare=False, metadata=SERVER_NAME)
    renamed_from: str | None = field(default=None, compare=False, metadata=NOT_STORED)

    @property
    def key(self) -> tuple[object, ...]:
        return ("primary_key",)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key constraint, with its referential actions."""

    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    referred_schema: str | None = None
    ondelete: str | None = None
    onupdate: str | None = None
    name: str | None = None
    db_name: str | None = field(default=None, compare=False, metadata=SERVER_NAME)
    renamed_from: str | None = field(default=None, compare=False, metadata=NOT_STORED)
    # DEFERRABLE / INITIALLY DEFERRED (PostgreSQL, SQLite); None: not deferrable, the default.
    deferrable: bool | None = field(default=None, metadata=WHEN_SET)
    initially: str | None = field(default=None, metadata=WHEN_SET)
    # MATCH FULL / PARTIAL (PostgreSQL); None: MATCH SIMPLE, the default.
    match: str | None = field(default=None, metadata=WHEN_SET)

    @property
    def key(self) -> tuple[object, ...]:
        if self.name:
            return ("name", self.name)
        return ("def", self.columns, self.referred_schema or "", self.referred_table, self.referred_columns)


@dataclass(frozen=True, slots=True)
class Unique:
    """A unique constraint (as opposed to a unique index; MySQL has only the latter)."""

    columns: tuple[str, ...]
    name: str | None = None
    db_name: str | None = field(default=None, compare=False, metadata=SERVER_NAME)
    renamed_from: str | None = field(default=None, compare=False, metadata=NOT_STORED)
    deferrable: bool | None = field(default=None, metadata=WHEN_SET)
    initially: str | None = field(default=None, metadata=WHEN_SET)
    # Dialect options the server reports, sorted (key, value) pairs, left out at their defaults
    # (PostgreSQL 15 `postgresql_nulls_not_distinct`, `postgresql_include`).
    options: tuple[tuple[str, Any], ...] = field(default=(), metadata=WHEN_SET)

    @property
    def key(self) -> tuple[object, ...]:
        return ("name", self.name) if self.name else ("def", self.columns)


@dataclass(frozen=True, slots=True)
class Check:
    """A check constraint; `sqltext` is the expression as the server reports it."""

    sqltext: str
    name: str | None = None
    db_name: str | None = field(default=None, compare=False, metadata=SERVER_NAME)
    renamed_from: str | None = field(default=None, compare=False, metadata=NOT_STORED)

    @property
    def key(self) -> tuple[object, ...]:
        return ("name", self.name) if self.name else ("def", self.sqltext)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A PostgreSQL exclusion constraint (`ExcludeConstraint`); `definition` is the server's own text
    (`EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (...) DEFERRABLE`), built by the same
    server on both sides, so compared as it is."""

    definition: str
    name: str | None = None
    db_name: str | None = field(default=None, compare=False, metadata=SERVER_NAME)

    @property
    def key(self) -> tuple[str, str]:
        return ("name", self.name) if self.name else ("def", self.definition)


@dataclass(frozen=True, slots=True)
class Index:
    """An index (plain or unique); indexes always have a name (`server_named`: one the server chose).

    `columns` are the plain columns among its key parts; when a part is an expression,
    `expressions` lists every part in order (a column part by its name, an expression as the
    server spells it). `where` is a partial index's predicate; `options` the dialect options
    (`postgresql_using`, `postgresql_include`, `postgresql_ops`, `mysql_length`, `mysql_prefix`,
    `column_sorting`), sorted (key, value) pairs with the server's defaults left out.
    """

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    renamed_from: str | None = field(default=None, compare=False, metadata=NOT_STORED)
    expressions: tuple[str, ...] = field(default=(), metadata=WHEN_SET)
    where: str | None = field(default=None, metadata=WHEN_SET)
    options: tuple[tuple[str, Any], ...] = field(default=(), metadata=WHEN_SET)
    # A unique index the models declared as an unnamed unique constraint (MySQL, where unique
    # constraints are indexes): `name` is only what the server chose, so it matches by definition.
    # Read from the models on every run (renames.declare), like `renamed_from`: not compared, so
    # it changes no fingerprint (rollback and recovery compare the live one with the recorded one).
    server_named: bool = field(default=False, compare=False, metadata=NOT_STORED)

    @property
    def parts(self) -> tuple[str, ...]:
        """The key parts in order: column names, or expressions' text."""
        return self.expressions or self.columns

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)

    @property
    def key(self) -> tuple[object, ...]:
        return ("name", self.name)


@dataclass(frozen=True)
class Table(SchemaObject):
    """A table and everything that hangs off it, in a canonical order."""

    CANONICAL_FIRST: ClassVar[tuple[str, ...]] = ("schema", "name", "comment")

    name: str
    columns: tuple[Column, ...]
    schema: str | None = None
    primary_key: PrimaryKey | None = None
    foreign_keys: tuple[ForeignKey, ...] = ()
    uniques: tuple[Unique, ...] = ()
    indexes: tuple[Index, ...] = ()
    checks: tuple[Check, ...] = ()
    comment: str | None = None
    # MySQL/MariaDB create an index behind each foreign key that has none; kept to drop it with the key.
    implicit_indexes: tuple[Index, ...] = field(default=(), compare=False, metadata=SERVER)
    # PostgreSQL indexes marked INVALID (a failed CREATE INDEX CONCURRENTLY): not part of the schema, dropped by the plan.
    invalid_indexes: tuple[Index, ...] = field(default=(), compare=False, metadata=NOT_STORED)
    # What reflection saw on this table but schemasync does not manage yet (expression indexes).
    unmanaged_parts: tuple[str, ...] = field(default=(), compare=False, metadata=NOT_STORED)
    renamed_from: str | None = field(default=None, compare=False, metadata=NOT_STORED)
    # Table options the server reports (MariaDB engine, charset; SQLite WITHOUT ROWID, STRICT,
    # AUTOINCREMENT), as sorted (key, value) pairs in SQLAlchemy's keyword names; defaults left out.
    options: tuple[tuple[str, Any], ...] = field(default=(), metadata=WHEN_SET)
    # Triggers on the table (SQLite: their SQL, re-created after a rebuild); not managed, not compared.
    triggers: tuple[str, ...] = field(default=(), compare=False, metadata=NOT_STORED)
    # PostgreSQL exclusion constraints; in the canonical form only when there are some.
    exclusions: tuple[Exclusion, ...] = field(default=(), metadata=WHEN_SET)

    @cached_property
    def columns_by_name(self) -> dict[str, Column]:
        return {column.name: column for column in self.columns}

    def referred_tables(self) -> set[TableKey]:
        """Tables this one's foreign keys point at (itself included when self-referencing)."""
        return {(fk.referred_schema, fk.referred_table) for fk in self.foreign_keys}


@dataclass(frozen=True)
class EnumType(SchemaObject):
    """A named enumerated type (PostgreSQL's CREATE TYPE ... AS ENUM): its values in their order."""

    CANONICAL_FIRST: ClassVar[tuple[str, ...]] = ("schema", "name")

    name: str
    values: tuple[str, ...]
    schema: str | None = None
    # Declared in the models (a column's info={"schemasync": {"renamed_values": {old: new}}}); an instruction, not schema.
    renamed_values: tuple[tuple[str, str], ...] = field(default=(), compare=False, metadata=NOT_STORED)


@dataclass(frozen=True)
class View(SchemaObject):
    """A view (or a PostgreSQL materialized view); `definition` is its SELECT as the server reports it, normalised."""

    CANONICAL_FIRST: ClassVar[tuple[str, ...]] = ("schema", "name")

    name: str
    definition: str
    schema: str | None = None
    materialized: bool = field(default=False, metadata=WHEN_SET)


@dataclass(frozen=True)
class SequenceDef(SchemaObject):
    """A sequence that stands alone (not the one behind a SERIAL or identity column), with its options."""

    CANONICAL_FIRST: ClassVar[tuple[str, ...]] = ("schema", "name")

    name: str
    schema: str | None = None
    data_type: str = "bigint"
    start: int = 1
    increment: int = 1
    min_value: int = 1
    max_value: int = 9223372036854775807
    cache: int = 1
    cycle: bool = False


@dataclass(frozen=True)
class Snapshot:
    """A whole normalised schema for one dialect."""

    dialect: str
    tables: tuple[Table, ...] = ()
    # Schema-level objects (PostgreSQL); every other dialect keeps them empty. Sorted by key.
    enums: tuple[EnumType, ...] = field(default=(), metadata=WHEN_SET)
    sequences: tuple[SequenceDef, ...] = field(default=(), metadata=WHEN_SET)
    # Sorted by (schema, name); tables and views share one namespace on every dialect.
    views: tuple[View, ...] = field(default=(), metadata=WHEN_SET)

    @cached_property
    def tables_by_key(self) -> dict[TableKey, Table]:
        return {table.key: table for table in self.tables}

    def table(self, key: TableKey) -> Table | None:
        return self.tables_by_key.get(key)

    @cached_property
    def views_by_key(self) -> dict[TableKey, View]:
        return {view.key: view for view in self.views}

    @cached_property
    def enums_by_key(self) -> dict[TableKey, EnumType]:
        return {enum.key: enum for enum in self.enums}

    @cached_property
    def sequences_by_key(self) -> dict[TableKey, SequenceDef]:
        return {sequence.key: sequence for sequence in self.sequences}

    def only(self, keys: set[TableKey]) -> Snapshot:
        """The same snapshot restricted to the given tables and views, and to the enum types and sequences
        whose `managed_key` is among `keys` (a plan's managed list names them beside its tables)."""
        return replace(
            self, tables=tuple(t for t in self.tables if t.key in keys), views=tuple(v for v in self.views if v.key in keys),
            enums=tuple(e for e in self.enums if managed_key(e) in keys), sequences=tuple(s for s in self.sequences if managed_key(s) in keys),
        )

    def object_keys(self) -> set[TableKey]:
        """The managed keys of this snapshot's enum types and sequences (see `managed_key`)."""
        objects: tuple[EnumType | SequenceDef, ...] = (*self.enums, *self.sequences)
        return {managed_key(item) for item in objects}

    def with_tables(self, tables: tuple[Table, ...]) -> Snapshot:
        """The same schema-level objects and views with other tables."""
        return replace(self, tables=tables)

    @property
    def schema_names(self) -> tuple[str, ...]:
        """The named schemas this schema's objects live in (the default schema is not named)."""
        found = {t.schema for t in self.tables} | {e.schema for e in self.enums} | {s.schema for s in self.sequences}
        return tuple(sorted(s for s in found if s is not None))

    def to_dict(self) -> dict[str, Any]:
        """The canonical form; made once per snapshot (a plan needs it twice), so do not change it."""
        return self._canonical

    @cached_property
    def _canonical(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        tables = tuple(sorted((table_from_dict(t) for t in data["tables"]), key=by_key))
        return with_objects(cls(data["dialect"], tables), data)

    def fingerprint(self) -> str:
        """A digest of the canonical form: equal schemas give equal fingerprints on any machine."""
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        if "_canonical" in self.__dict__:
            return fingerprint_of(self._canonical)
        # The digest fingerprint_of(self.to_dict()) gives, without making the canonical form first:
        # the same JSON text, hashed a table at a time (the whole text is 20 MB at 5,000 tables).
        objects = objects_to_dict(self)
        before = canonical_json({"dialect": self.dialect, **{k: v for k, v in objects.items() if k < "tables"}})
        after = {k: v for k, v in objects.items() if k > "tables"}
        hasher = hashlib.sha256(f'{before[:-1]},"tables":['.encode())
        for number, table in enumerate(self.tables):
            hasher.update((b"," if number else b"") + canonical_json(table_to_dict(table, columns_by_name=True)).encode())
        hasher.update(("]" + ("," + canonical_json(after)[1:] if after else "}")).encode())
        return "sha256:" + hasher.hexdigest()

    def known_fingerprint(self, fingerprint: str) -> Snapshot:
        """This snapshot, its fingerprint already known (the target cache stores it with the tables)."""
        self.__dict__["_fingerprint"] = fingerprint
        return self


def fields_of(item: Any) -> dict[str, Any]:
    """A snapshot value's fields by name, in their order (the values use slots: no `vars`)."""
    return {f.name: getattr(item, f.name) for f in fields(item)}


def server_name(item: Index | PrimaryKey | ForeignKey | Unique | Check | Exclusion) -> str | None:
    """The name the server knows an index or constraint by: `db_name` keeps one it chose itself."""
    return getattr(item, "db_name", None) or item.name


def canonical_json(data: Any) -> str:
    """The one JSON spelling used for every digest."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(data: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()


def fingerprint_of(snapshot: dict[str, Any]) -> str:
    """Digest of a snapshot dict. Column position is not part of a schema's identity (the diff
    ignores it too: no dialect reorders columns in place), so columns are taken by name."""
    tables = [{**t, "columns": sorted(t["columns"], key=lambda c: c["name"])} for t in snapshot["tables"]]
    return digest({**snapshot, "tables": tables})


# --- the canonical forms (forms.py: generic over the fields), by the names callers use -------------


def column_to_dict(column: Column) -> dict[str, Any]:
    return to_dict(column)


def view_to_dict(view: View) -> dict[str, Any]:
    return to_dict(view)


def table_to_dict(table: Table, columns_by_name: bool = False) -> dict[str, Any]:
    """The canonical dict of a table; `columns_by_name` orders its columns as fingerprints do."""
    data = to_dict(table)
    if columns_by_name:
        data["columns"] = sorted(data["columns"], key=lambda c: c["name"])
    return data


def table_from_dict(data: dict[str, Any]) -> Table:
    table: Table = from_dict(Table, data)
    return table


def objects_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The canonical form of a snapshot's enums, sequences and views; empty (no keys) when it has none."""
    return {f.name: plain(value) for f in form(Snapshot) if f.form == WHEN_SET_FORM and (value := getattr(snapshot, f.name))}


def with_objects(snapshot: Snapshot, data: dict[str, Any]) -> Snapshot:
    """`snapshot` with the enums, sequences and views of a canonical dict (none when it has no such keys)."""
    found = {f.name: read(f, data[f.name]) for f in form(Snapshot) if f.form == WHEN_SET_FORM and data.get(f.name)}
    if not found:
        return snapshot
    enums, sequences = (tuple(sorted(found.get(k, ()), key=by_key)) for k in ("enums", "sequences"))
    return replace(snapshot, enums=enums, sequences=sequences, views=tuple(sorted(found.get("views", ()), key=by_key)))


# --- the stored form (lock file, target cache): the canonical form plus the SERVER fields ----------


def table_to_stored(table: Table) -> dict[str, Any]:
    """The canonical table form plus, under "server_names", what is SERVER: per kind of item, the
    server's names where any differs from the item's own name; the table's SERVER lists where set."""
    data = to_dict(table)
    server: dict[str, Any] = {}
    for spec in form(Table):
        value = getattr(table, spec.name)
        if spec.form == SERVER_FORM and value != spec.default:
            server[spec.name] = plain(value)
        elif spec.item is not None and (named := _server_name_field(spec.item)) is not None:
            items = _as_items(value)
            names = [getattr(item, named.name) for item in items]
            if any(name != getattr(item, named.absent or "") for name, item in zip(names, items)):
                server[spec.name] = names
    return {**data, "server_names": server} if server else data


def table_from_stored(data: dict[str, Any]) -> Table:
    """A table from its stored form: the server's names go into the items' dicts before they are made."""
    server = data.get("server_names") or {}
    data = {k: v for k, v in data.items() if k != "server_names"}
    for spec in form(Table):
        if spec.form == SERVER_FORM:
            if spec.name in server:
                data[spec.name] = server[spec.name]
        elif spec.item is not None and (named := _server_name_field(spec.item)) is not None and data.get(spec.name):
            items = data[spec.name] if spec.many else [data[spec.name]]
            names = server.get(spec.name) or [item.get(named.absent) for item in items]
            named_items = [{**item, named.name: name} for item, name in zip(items, names)]
            data[spec.name] = named_items if spec.many else named_items[0]
    return table_from_dict(data)


@cache
def _server_name_field(cls: type) -> Field | None:
    """The one SERVER_NAME field of an item class (the stored form lists one name per item)."""
    found = [f for f in form(cls) if f.form == SERVER_FORM]
    if len(found) > 1 or not all(f.absent for f in found):
        raise TypeError(f"{cls.__name__}: the stored form keeps one server name (SERVER_NAME) per item")
    return found[0] if found else None


def _as_items(value: Any) -> tuple[Any, ...]:
    """A field's items: a tuple as it is, one optional item (a primary key) as a tuple of none or one."""
    return value if isinstance(value, tuple) else (() if value is None else (value,))


def managed_key(item: EnumType | SequenceDef) -> TableKey:
    """How a plan's managed list (schema_state.managed_tables) names an enum type or a sequence:
    "enum:name" / "sequence:name" in its schema, so "side.enum:shade" parses back to it."""
    kind = "enum" if isinstance(item, EnumType) else "sequence"
    return (item.schema, f"{kind}:{item.name}")
