"""The models' keys: per table, view, enum type and sequence, a value that changes when what the
server would build for it changes. One room for both kinds the models' way to a target needs:

- `cache_keys`: the target cache's keys (target_cache.py), per table; fast, this machine only.
- `lock_digests`: the lock file's digests (lockfile.py), per table; the CREATE statements compiled
  offline, so the same on every machine: `check --against` needs no server.

The cache key for one table is what `create_all` would send for it, described without compiling it.

Compiling every table's CREATE statements to key the cache costs more than the rest of an in-sync
plan (about 0.5 s per 1,000 tables, most of it SQLAlchemy adapting each column's type to the
dialect). The DDL is a function of the SQLAlchemy version, the dialect and the state of the
objects it is compiled from, so for the objects SQLAlchemy itself defines that state is described
directly: names and their quoting, each type's class and attributes, nullability, keys,
autoincrement, server defaults, comments, constraints in creation order, indexes, dialect options
and the naming convention. Clause elements (a `func.now()` default, a CHECK built from columns) are
compiled alone, which is cheap.

Anything outside that (a user-defined or decorated type, a construct with its own `@compiles`, a
computed or identity column, a sequence, an unknown option value, a `ddl_if()`) makes `describe` return None,
and the caller compiles that table's DDL as before. tests/test_model_key.py checks on every model
the suite has, and on generated pairs of schemas, that two equal descriptions always compile to
the same DDL.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import schema as sa_schema
from sqlalchemy.sql.elements import ClauseElement, TextClause
from sqlalchemy.sql.util import find_tables

from schemasync.ddl import create_view_of, created_on
from schemasync.dialects import Dialect
from schemasync.errors import ModelsError, PlanError, first_line
from schemasync.snapshot import digest
from schemasync.view import View, views_of

SIMPLE = (str, int, float, bool, type(None))
# Type attributes that are bookkeeping, not DDL: event hooks, lookups derived from `enums`.
_TYPE_BOOKKEEPING = frozenset({"dispatch", "_create_events", "metadata", "_valid_lookup", "_object_lookup", "_sort_key_function", "enum_class", "values_callable"})
# The elements create_all compiles: a `@compiles` hook on any of them changes what they render.
_DDL_CLASSES = (
    sa_schema.CreateTable, sa_schema.CreateColumn, sa_schema.CreateIndex, sa_schema.AddConstraint, sa_schema.SetTableComment,
    sa_schema.SetColumnComment, sa.PrimaryKeyConstraint, sa.UniqueConstraint, sa.ForeignKeyConstraint, sa.CheckConstraint,
    sa.Index, sa.Column, sa.Table, sa_schema.DefaultClause,
)
_CONSTRAINTS = {sa.PrimaryKeyConstraint: "primary_key", sa.UniqueConstraint: "unique", sa.ForeignKeyConstraint: "foreign_key", sa.CheckConstraint: "check"}


Keep = Callable[[str | None, str], bool]


def cache_keys(metadata: sa.MetaData, keep: Keep, dialect: Dialect) -> dict[str, str]:
    """Per kept table, what the server builds for it depends on: its DDL (described where
    `describe` can, else the compiled DDL's digest) and the tables its foreign keys name (a table is
    built beside stand-ins for them: devdb.build); then the views, each with the tables it reads,
    and the schema-level objects."""
    own = {table_name(t): _cache_key(t, dialect) for t in metadata.tables.values() if keep(t.schema, t.name)}
    keys = {table_name(t): _with_referenced(t, own) for t in metadata.tables.values() if keep(t.schema, t.name)}
    views = {f"view {v.qualified_name}": "ddl:" + digest([view_digest(v, dialect), _read_by(v, own)]) for v in _kept_views(metadata, keep)}
    return {**keys, **views, **object_keys(metadata, keep, dialect)}


def referenced_names(table: sa.Table) -> list[str]:
    """The tables (as keys name them) that the table's foreign keys point at, itself left out."""
    own = table_name(table)
    return sorted({name for fk in table.foreign_keys if (name := fk.target_fullname.rpartition(".")[0]) != own})


def _with_referenced(table: sa.Table, own: dict[str, str]) -> str:
    referenced = referenced_names(table)
    if not referenced:
        return own[table_name(table)]
    return "refs:" + digest([own[table_name(table)], [[name, own.get(name)] for name in referenced]])


def _read_by(view: View, own: dict[str, str]) -> list[list[str | None]]:
    """The keys of the tables a view reads: what the server reads back for a view depends on them."""
    read = {table_name(t) for t in find_tables(view.selectable, include_aliases=True) if isinstance(t, sa.Table)}
    return [[name, own.get(name)] for name in sorted(read)]


def lock_digests(metadata: sa.MetaData, keep: Keep, dialect: Dialect) -> dict[str, str]:
    """Per kept table, a digest of its CREATE statements compiled offline for `dialect`; then the
    views and the schema-level objects. Python-side defaults and rename declarations are not schema,
    so they are not in it."""
    digests = {table_name(t): ddl_digest(t, dialect) for t in metadata.tables.values() if keep(t.schema, t.name)}
    views = {f"view {v.qualified_name}": view_digest(v, dialect) for v in _kept_views(metadata, keep)}
    return {**digests, **views, **object_keys(metadata, keep, dialect)}


def models_digest(digests: dict[str, str]) -> str:
    """One digest of the models, from their per-table digests."""
    return digest(sorted(digests.items()))


def changed_tables(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """What differs between the models a lock was made from and the models now, table by table."""
    found = [f"{name} (new)" for name in sorted(set(current) - set(recorded))]
    found += [f"{name} (removed)" for name in sorted(set(recorded) - set(current))]
    found += [f"{name} (changed)" for name in sorted(set(recorded) & set(current)) if recorded[name] != current[name]]
    return found


def table_name(table: sa.Table) -> str:
    """How keys name a table: `schema.name` (a plain str, not SQLAlchemy's quoted_name)."""
    return f"{table.schema}.{table.name}" if table.schema else str(table.name)


def _cache_key(table: sa.Table, dialect: Dialect) -> str:
    described = describe(table, dialect.sa_dialect)
    if described is None:
        return "ddl:" + ddl_digest(table, dialect)
    return "described:" + hashlib.sha256(repr(described).encode()).hexdigest()


def _kept_views(metadata: sa.MetaData, keep: Keep) -> list[View]:
    return [v for v in views_of(metadata).values() if keep(v.schema, v.name)]


def ddl_digest(table: sa.Table, dialect: Dialect) -> str:
    """A digest of the table's CREATE statements compiled for `dialect` (no server), its comments and
    what the dialect adds (`Dialect.model_key_extras`)."""
    if not created_on(table, dialect.sa_dialect):
        return digest(["not created on this dialect (ddl_if)"])
    try:
        # CREATE TABLE leaves out the constraints whose ddl_if() excludes this dialect; indexes are left out here.
        statements = [str(sa_schema.CreateTable(table).compile(dialect=dialect.sa_dialect))]
        statements += sorted(str(sa_schema.CreateIndex(i).compile(dialect=dialect.sa_dialect)) for i in table.indexes if created_on(i, dialect.sa_dialect))
    except sa.exc.SQLAlchemyError as error:
        raise ModelsError(f"table {table.name} cannot be compiled for {dialect.name}: {str(error).splitlines()[0]}") from None
    found: list[Any] = [statements, table.comment, [[c.name, c.comment] for c in table.columns if c.comment]]
    extras = dialect.model_key_extras(table)
    return digest(found + [extras] if extras else found)


def view_digest(view: View, dialect: Dialect) -> str:
    """What a declared view's keys depend on: its CREATE statement for this dialect."""
    try:
        return digest(str(create_view_of(view).compile(dialect=dialect.sa_dialect)))
    except sa.exc.SQLAlchemyError as error:
        raise PlanError(f"view {view.qualified_name} cannot be compiled for {dialect.name}: {first_line(error)}") from None


def object_keys(metadata: sa.MetaData, keep: Keep, dialect: Dialect) -> dict[str, str]:
    """What the models say about schema-level objects the tables' DDL does not spell: each enum
    type's values (CREATE TABLE names only the type) and each sequence's options, as digests
    (where the dialect manages such objects: `Dialect.schema_objects`)."""
    found: dict[str, Any] = {}
    if not dialect.schema_objects:
        return {}
    for table in metadata.tables.values():
        if keep(table.schema, table.name):
            for column in table.columns:
                kind = column.type
                if isinstance(kind, sa.Enum) and kind.native_enum and kind.name:
                    found[f"enum:{kind.schema or ''}.{kind.name}"] = list(kind.enums)
    for sequence in metadata._sequences.values():
        if keep(sequence.schema, sequence.name):
            options = [sequence.start, sequence.increment, sequence.minvalue, sequence.maxvalue, sequence.cache, sequence.cycle]
            found[f"sequence:{sequence.schema or ''}.{sequence.name}"] = [*map(repr, options), repr(sequence.data_type)]
    return {name: digest(value) for name, value in sorted(found.items())}


# --- describing a table without compiling it ------------------------------------------------------


class Undescribed(Exception):
    """Something in the table that only compiling it can account for."""


def describe(table: sa.Table, dialect: sa.engine.Dialect) -> tuple | None:
    """A value equal for two tables only if their DDL is (None: compile this one instead)."""
    if _hooked(tuple(_DDL_CLASSES)) or _conditional(table):
        return None
    try:
        return (
            "table",
            _name(table.name),
            table.schema,
            table.comment,
            _options(table, dialect),
            tuple(table._prefixes),
            _conventions(table.metadata),
            str(table.autoincrement_column.name) if table.autoincrement_column is not None else None,
            tuple(_column(c, dialect) for c in table.columns),
            tuple(_constraint(c, dialect) for c in sorted(table.constraints, key=lambda c: c._creation_order)),
            tuple(_index(i, dialect) for i in sorted(table.indexes, key=lambda i: str(i.name))),
        )
    except Undescribed:
        return None


def _conditional(table: sa.Table) -> bool:
    """A `ddl_if()` on the table, an index or a constraint: what is created depends on evaluating it."""
    return any(vars(item).get("_ddl_if") is not None for item in (table, *table.indexes, *table.constraints))


@cache
def _hooked(classes: tuple[type, ...]) -> bool:
    """Whether any of these classes (or a base) has a `@compiles` override (sqlalchemy.ext.compiler)."""
    return any("_compiler_dispatcher" in vars(base) for cls in classes for base in cls.__mro__)


def _name(name: Any) -> tuple:
    """A name and its quoting (`quoted_name.quote`), which the DDL follows."""
    if name is None or isinstance(name, str):
        return (None if name is None else str(name), getattr(name, "quote", None), type(name).__name__)
    raise Undescribed(name)  # a naming-convention placeholder that is not a string


def _options(item: Any, dialect: sa.engine.Dialect) -> tuple:
    """Dialect options given (`mysql_engine=...`, `postgresql_where=...`); most items have none.

    SQLAlchemy keeps them in a memoized `dialect_options` made when options are given; asking an
    item without any for it would make (and keep) one on each of 100,000 objects at 5,000 tables.
    """
    if _OPTIONS_MEMOIZED and "dialect_options" not in vars(item):
        return ()
    return tuple(sorted((key, _value(value, dialect)) for key, value in item.dialect_kwargs.items()))


def _options_are_memoized() -> bool:
    """Whether this SQLAlchemy stores given options where `_options` looks (else it asks every item)."""
    given, plain = sa.Index("probe", "x", postgresql_using="gin"), sa.Index("probe", "x")
    return bool(vars(given).get("dialect_options")) and "dialect_options" not in vars(plain)


_OPTIONS_MEMOIZED = _options_are_memoized()


def _value(value: Any, dialect: sa.engine.Dialect) -> Any:
    if isinstance(value, SIMPLE):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_value(v, dialect) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _value(v, dialect)) for k, v in value.items()))
    if isinstance(value, sa.types.TypeEngine):
        return _type(value, dialect)
    if isinstance(value, sa.Column):
        return ("column", _name(value.name))
    if isinstance(value, ClauseElement):
        return _clause(value, dialect)
    raise Undescribed(value)


def _clause(element: ClauseElement, dialect: sa.engine.Dialect) -> tuple:
    """A SQL expression as the dialect renders it, literals inline (as in DDL)."""
    if isinstance(element, TextClause):
        return ("text", element.text)
    return ("sql", str(element.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))


def _type(type_: sa.types.TypeEngine, dialect: sa.engine.Dialect) -> tuple:
    cls: type = type(type_)  # plain `type`: mypy does not see a TypeEngine class as Hashable (@cache's key)
    if not cls.__module__.startswith("sqlalchemy.") or isinstance(type_, (sa.types.TypeDecorator, sa.types.UserDefinedType)) or _hooked((cls,)):
        raise Undescribed(type_)
    state = tuple(sorted((key, _value(value, dialect)) for key, value in vars(type_).items() if key not in _TYPE_BOOKKEEPING and not _memoized(cls, key)))
    return (cls.__module__, cls.__qualname__, state)


@cache
def _memoized(cls: type, key: str) -> bool:
    """An instance attribute that shadows a descriptor of its class is that descriptor's cached value
    (SQLAlchemy's memoized properties, e.g. `_type_affinity` once a compile asked for it): not state."""
    return hasattr(inspect.getattr_static(cls, key, None), "__get__")


def _default(default: Any, dialect: sa.engine.Dialect) -> tuple | None:
    """A server default or server on-update value."""
    if default is None:
        return None
    if type(default) is sa_schema.FetchedValue:
        return ("fetched", default.for_update)
    if type(default) is not sa_schema.DefaultClause:
        raise Undescribed(default)
    arg = default.arg
    return ("default", default.for_update, arg if isinstance(arg, str) else _clause(arg, dialect))


def _column(column: sa.Column, dialect: sa.engine.Dialect) -> tuple:
    if type(column) is not sa.Column or column.computed is not None or column.identity is not None:
        raise Undescribed(column)
    python_default = column.default
    if python_default is not None and not isinstance(python_default, sa_schema.ColumnDefault):
        raise Undescribed(python_default)  # a Sequence: its own DDL (a Python-side default has none)
    return (
        _name(column.name),
        _type(column.type, dialect),
        column.nullable,
        column.primary_key,
        column.autoincrement,
        python_default is None,
        _default(column.server_default, dialect),
        _default(column.server_onupdate, dialect),
        column.comment,
        column.system,
        _options(column, dialect),
        tuple(_constraint(c, dialect) for c in sorted(column.constraints, key=lambda c: c._creation_order)) if column.constraints else (),
    )


def _constraint(constraint: Any, dialect: sa.engine.Dialect) -> tuple:
    kind = _CONSTRAINTS.get(type(constraint))
    if kind is None or getattr(constraint, "_type_bound", False):
        raise Undescribed(constraint)  # another kind, or one a type creates with events
    common = (kind, _name(constraint.name), constraint.deferrable, constraint.initially, _options(constraint, dialect))
    if kind == "check":
        return (*common, _clause(constraint.sqltext, dialect))
    if kind == "foreign_key":
        elements = tuple((fk.parent.name, fk.target_fullname, fk.link_to_name) for fk in constraint.elements)
        return (*common, elements, constraint.ondelete, constraint.onupdate, constraint.match, constraint.use_alter)
    columns = tuple(str(c.name) for c in constraint.columns)
    return (*common, columns, getattr(constraint, "_implicit_generated", False))


def _index(index: sa.Index, dialect: sa.engine.Dialect) -> tuple:
    if type(index) is not sa.Index:
        raise Undescribed(index)
    expressions = tuple(("column", str(e.name)) if isinstance(e, sa.Column) else _value(e, dialect) for e in index.expressions)
    return ("index", _name(index.name), index.unique, expressions, _options(index, dialect))


def _conventions(metadata: sa.MetaData) -> tuple:
    """Constraint names come from the naming convention when the models give none."""
    described = []
    for key, value in metadata.naming_convention.items():
        if not isinstance(value, str):
            raise Undescribed(value)  # a callable token: its names are code
        described.append((key if isinstance(key, str) else f"{key.__module__}.{key.__qualname__}", value))
    return tuple(sorted(described))
