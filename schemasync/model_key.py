"""The target cache's key for one table: what `create_all` would send for it, described without compiling it.

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

import inspect
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import schema as sa_schema
from sqlalchemy.sql.elements import ClauseElement, TextClause

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
    cls = type(type_)
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
