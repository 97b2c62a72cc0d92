"""Property: any schema in the core scope, and any chain of edits to it, converges on every dialect.

Hypothesis draws a small schema (1-4 tables, the core column types, defaults, comments, keys,
foreign keys, uniques, indexes, checks) and then a few edits, each producing the next schema.
Every schema is applied in turn (`apply --allow-destructive --yes`); after each apply the plan
must be empty and `check` must report the database in sync. Counterexamples it found live on as
explicit tests in test_regressions.py.

The schemas are plain frozen values (`Schema`, `Tab`, `Col`, ...) so that shrunk counterexamples
print readably; `to_metadata` turns one into the real SQLAlchemy MetaData handed to schemasync.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql

from tests import harness
from tests.capabilities import supports
from tests.conftest import Project

# Fewer examples on the servers: each step builds the models in a scratch place there. Longer hunts
# (nightly, or after touching the pipeline): SCHEMASYNC_CONVERGENCE_SCALE=20 runs twenty times as many.
SCALE = float(os.environ.get("SCHEMASYNC_CONVERGENCE_SCALE", "1"))
EXAMPLES = {dialect: max(1, round(n * SCALE)) for dialect, n in {"sqlite": 150, "postgresql": 40, "mysql": 40}.items()}
MAX_APPLIES = 3
MAX_EDITS_PER_APPLY = 3

INTEGERS = ("Integer", "BigInteger", "SmallInteger")
NUMBERS = (*INTEGERS, "Numeric", "Float")
CORE_KINDS = (*NUMBERS, "String", "Text", "Boolean", "Date", "DateTime")
KINDS = CORE_KINDS  # what a schema drawn without a dialect uses (the catalog and model-key tests)
# Drawn for a dialect (`schemas(dialect)`): the rest of SQLAlchemy's generic types, everywhere...
WIDE_KINDS = ("Unicode", "Double", "Time", "DateTimeTZ", "Uuid", "LargeBinary", "JSON", "Interval", "Enum")
# ... and each dialect's own types, where the capability says the dialect has them.
DIALECT_KINDS = {
    "jsonb_columns": ("pg.JSONB",),
    "array_columns": ("pg.ARRAY",),
    "network_address_columns": ("pg.INET", "pg.CIDR"),
    "unsigned_integers": ("my.UNSIGNED",),
    "enum_and_set_columns": ("my.SET", "my.TINYINT", "my.MEDIUMINT", "my.YEAR", "my.LONGTEXT", "my.DATETIME6"),
}
# Type changes stay inside a family, or go to or from text: PostgreSQL has no cast from, say, date
# to integer or boolean to bigint, so such a change is not one any tool can make in place. A kind
# not listed is a family of its own (changed only to text, never from it).
FAMILIES = {**dict.fromkeys(NUMBERS, "number"), "String": "text", "Text": "text", "Boolean": "boolean", "Date": "time", "DateTime": "time",
            "Unicode": "text", "Double": "number", "DateTimeTZ": "time"}
# Kinds neither MySQL (no prefix length) nor PostgreSQL (json has no equality) indexes plainly.
UNINDEXABLE = {"Text", "LargeBinary", "JSON", "my.LONGTEXT"}
ACTIONS = (None, "CASCADE", "SET NULL", "RESTRICT")
COMMENTS = ("a comment", "it's quoted", "100% sure")
WIDE_COMMENTS = ("ünïcödé", "semi; colon", 'double "quotes"', "back\\slash")
ENUM_VALUES = ("a", "b", "c", "it's", "Mixed Case")
SIDE = "side"  # the named schema some tables live in, where the dialect has them
# Table-level dialect kwargs, by the capability that has them (STRICT is left to
# test_convergence_indexes: it refuses VARCHAR; MyISAM too: it drops foreign keys silently; and
# another charset or collation: MariaDB refuses a foreign key between string columns of two, errno 150).
TABLE_OPTIONS: dict[str, tuple[tuple[tuple[str, object], ...], ...]] = {
    "strict_tables": ((("sqlite_with_rowid", False),),),
    "storage_engines": ((("mysql_engine", "InnoDB"),), (("mysql_row_format", "DYNAMIC"),)),
}

# A server default is (how it is written in the model, its text): "text" -> server_default=text(v),
# "literal" -> server_default=v (SQLAlchemy quotes it), "bool" -> sa.true()/sa.false().
# TEXT defaults need MariaDB (MySQL 8 only takes expression defaults on TEXT); the servers here are MariaDB.
DEFAULTS: dict[str, tuple[tuple[str, str], ...]] = {
    **dict.fromkeys(INTEGERS, (("text", "0"), ("literal", "5"))),
    "Numeric": (("text", "0"), ("literal", "1.5")),
    "Float": (("text", "0"), ("literal", "1.5")),
    "String": (("literal", "abc"), ("literal", ""), ("literal", "it's")),
    "Text": (("literal", "abc"), ("literal", "")),
    "Boolean": (("bool", "false"), ("bool", "true")),
    "Date": (("literal", "2020-01-01"),),
    "DateTime": (("literal", "2020-01-01 00:00:00"), ("text", "CURRENT_TIMESTAMP"), ("func", "now")),
}
# The widened kinds' defaults (server_default=sa.func.now() is "func"); Enum's are its values.
WIDE_DEFAULTS: dict[str, tuple[tuple[str, str], ...]] = {
    **dict.fromkeys(INTEGERS, (("text", "-1"),)),
    "Numeric": (("literal", "-2.5"),),
    "String": (("literal", "50% off"), ("text", "'x'")),
    "Boolean": (("text", "true"), ("literal", "1")),
    "Unicode": (("literal", "abc"), ("literal", "ünï")),
    "Double": (("text", "0"), ("literal", "2.5")),
    "Time": (("literal", "12:30:00"),),
    "DateTimeTZ": (("func", "now"),),
    "pg.JSONB": (("text", "'{}'::jsonb"),),
    "pg.ARRAY": (("text", "'{}'"),),
    "pg.INET": (("literal", "127.0.0.1"),),
    "my.UNSIGNED": (("text", "0"),),
    "my.SET": (("literal", "a"), ("literal", "a,b")),
    "my.TINYINT": (("text", "1"),),
    "my.MEDIUMINT": (("literal", "7"),),
    "my.YEAR": (("literal", "2020"),),
    "my.DATETIME6": (("func", "now"),),
}


# --- the schema as a value -------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    name: str
    kind: str
    size: tuple[int, ...] = ()  # String(n), Numeric(p, s)
    nullable: bool = True
    default: tuple[str, str] | None = None
    comment: str | None = None
    values: tuple[str, ...] = ()  # Enum
    native: bool = True  # Enum: a native type (PostgreSQL's CREATE TYPE, MariaDB's ENUM) or VARCHAR
    constraint: bool = False  # Enum, Boolean: create_constraint=True (a CHECK where the type is emulated)
    computed: tuple[str, bool] | None = None  # Computed(f"{column} * 2", persisted=...)
    identity: tuple[bool, int] | None = None  # the key's Identity(always=, start=)


@dataclass(frozen=True)
class FK:
    name: str | None
    columns: tuple[str, ...]
    referred: str
    referred_columns: tuple[str, ...]
    ondelete: str | None = None
    onupdate: str | None = None


@dataclass(frozen=True)
class Uniq:
    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Idx:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None  # "<column> IS NOT NULL" (partial: postgresql_where / sqlite_where)
    desc: tuple[str, ...] = ()  # columns in descending order
    lower: tuple[str, ...] = ()  # columns indexed as lower(column) (expression parts)


@dataclass(frozen=True)
class Chk:
    name: str | None
    column: str


@dataclass(frozen=True)
class Tab:
    name: str
    columns: tuple[Col, ...]
    pk: tuple[str, ...]
    fks: tuple[FK, ...] = ()
    uniques: tuple[Uniq, ...] = ()
    indexes: tuple[Idx, ...] = ()
    checks: tuple[Chk, ...] = ()
    comment: str | None = None
    schema: str | None = None  # a named schema (PostgreSQL)
    options: tuple[tuple[str, object], ...] = ()  # dialect kwargs of the table (TABLE_OPTIONS)

    def col(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)

    def fk_columns(self) -> set[str]:
        return {c for fk in self.fks for c in fk.columns}

    def fixed_columns(self) -> set[str]:
        """Columns a generated column reads or an index lowers: their type stays (the server refuses)."""
        return {c.computed[0] for c in self.columns if c.computed} | {n for i in self.indexes for n in i.lower}

    def plain_columns(self) -> list[Col]:
        """Columns that are neither key, foreign key, generated nor read by one: free to change type."""
        fixed = self.pk + tuple(self.fk_columns()) + tuple(self.fixed_columns())
        return [c for c in self.columns if c.name not in fixed and not c.computed]

    def reference(self, column: str) -> str:
        """How a ForeignKey names one of this table's columns."""
        return ".".join(p for p in (self.schema, self.name, column) if p)


@dataclass(frozen=True)
class Schema:
    """Tables in creation order (foreign keys point only at earlier tables); `serial` makes fresh names."""

    tables: tuple[Tab, ...]
    serial: int = 0
    dialect: str | None = None  # the dialect drawn for (None: the core types, every dialect alike)
    issued: tuple[str, ...] = field(default=(), repr=False)
    # Each column's type as last applied: what a type change in the next plan casts from.
    applied_kinds: tuple[tuple[str, str, str], ...] = field(default=(), repr=False)

    def applied_kind(self, table: str, column: Col) -> str:
        return next((k for t, c, k in self.applied_kinds if (t, c) == (table, column.name)), column.kind)

    def with_table(self, table: Tab) -> Schema:
        return replace(self, tables=tuple(table if t.name == table.name else t for t in self.tables))

    def has(self, capability: str) -> bool:
        """Whether the dialect drawn for has the capability (never, for a schema drawn for none)."""
        return self.dialect is not None and supports(self.dialect, capability)

    def kinds(self) -> tuple[str, ...]:
        if self.dialect is None:
            return CORE_KINDS
        own = tuple(k for capability, kinds in DIALECT_KINDS.items() if self.has(capability) for k in kinds)
        return CORE_KINDS + WIDE_KINDS + own

    def defaults(self, kind: str) -> tuple[tuple[str, str], ...]:
        return DEFAULTS.get(kind, ()) + (WIDE_DEFAULTS.get(kind, ()) if self.dialect else ())


def fresh(schema: Schema, prefix: str) -> tuple[Schema, str]:
    """A name never used before in this schema's history."""
    name = f"{prefix}{schema.serial}"
    return replace(schema, serial=schema.serial + 1, issued=schema.issued + (name,)), name


def names_in_use(tables: tuple[Tab, ...]) -> set[str]:
    found = {t.name for t in tables}
    for tab in tables:
        found |= {i.name for i in tab.indexes} | {x.name for x in tab.uniques + tab.checks + tab.fks if x.name}
    return found


def named(draw: st.DrawFn, schema: Schema, prefix: str, tab: Tab | None = None) -> tuple[Schema, str]:
    """Usually a fresh name; sometimes one a dropped object had, so names move between objects and tables.

    Only names no object in the schema holds: index, unique and foreign key names are global on
    some servers (PostgreSQL relations, SQLite indexes, MySQL foreign keys).
    """
    in_use = names_in_use(schema.tables + ((tab,) if tab else ()))  # `tab`: the table being built
    retired = [n for n in schema.issued if n.startswith(prefix) and n[len(prefix):].isdigit() and n not in in_use]
    if retired and draw(st.booleans()):
        return schema, draw(st.sampled_from(retired))
    return fresh(schema, prefix)


# --- to SQLAlchemy ---------------------------------------------------------------------------------


SPECIFIC: dict[str, Callable[[], sa.types.TypeEngine]] = {
    "DateTimeTZ": lambda: sa.DateTime(timezone=True),
    "pg.JSONB": postgresql.JSONB,
    "pg.ARRAY": lambda: postgresql.ARRAY(sa.Integer),
    "pg.INET": postgresql.INET,
    "pg.CIDR": postgresql.CIDR,
    "my.UNSIGNED": lambda: mysql.INTEGER(unsigned=True),
    "my.SET": lambda: mysql.SET("a", "b", "c"),
    "my.TINYINT": mysql.TINYINT,
    "my.MEDIUMINT": mysql.MEDIUMINT,
    "my.YEAR": mysql.YEAR,
    "my.LONGTEXT": mysql.LONGTEXT,
    "my.DATETIME6": lambda: mysql.DATETIME(fsp=6),
}


def sa_type(column: Col) -> sa.types.TypeEngine:
    if column.kind in ("String", "Unicode"):
        return getattr(sa, column.kind)(column.size[0])
    if column.kind == "Numeric":
        return sa.Numeric(*column.size)
    if column.kind == "Enum":
        return sa.Enum(*column.values, name=f"en_{column.name}", native_enum=column.native, create_constraint=column.constraint)
    if column.kind == "Boolean":
        return sa.Boolean(create_constraint=column.constraint)
    if column.kind in SPECIFIC:
        return SPECIFIC[column.kind]()
    return getattr(sa, column.kind)()


def server_default(default: tuple[str, str] | None) -> object:
    if default is None:
        return None
    form, value = default
    if form == "bool":
        return sa.true() if value == "true" else sa.false()
    if form == "func":
        return getattr(sa.func, value)()
    return sa.text(value) if form == "text" else value


def sa_column(tab: Tab, c: Col) -> sa.Column:
    extra: list[sa.schema.SchemaItem] = []
    if c.computed:
        extra.append(sa.Computed(f"{c.computed[0]} * 2", persisted=c.computed[1]))
    if c.identity:
        extra.append(sa.Identity(always=c.identity[0], start=c.identity[1]))
    return sa.Column(c.name, sa_type(c), *extra, primary_key=c.name in tab.pk, nullable=c.nullable and c.name not in tab.pk,
                     server_default=server_default(c.default), comment=c.comment)


def sa_index(table: sa.Table, index: Idx) -> sa.Index:
    parts = []
    for name in index.columns:
        part = sa.func.lower(table.c[name]) if name in index.lower else table.c[name]
        parts.append(part.desc() if name in index.desc else part)
    where = {"postgresql_where": sa.text(index.where), "sqlite_where": sa.text(index.where)} if index.where else {}
    return sa.Index(index.name, *parts, unique=index.unique, **where)


def to_metadata(schema: Schema) -> sa.MetaData:
    """The models, as a user would write them in Core."""
    metadata = sa.MetaData()
    by_name = {t.name: t for t in schema.tables}
    for tab in schema.tables:
        columns = [sa_column(tab, c) for c in tab.columns]
        constraints: list[sa.schema.Constraint] = [
            sa.ForeignKeyConstraint(list(fk.columns), [by_name[fk.referred].reference(c) for c in fk.referred_columns], name=fk.name,
                                    ondelete=fk.ondelete, onupdate=fk.onupdate)
            for fk in tab.fks
        ]
        constraints += [sa.UniqueConstraint(*u.columns, name=u.name) for u in tab.uniques]
        constraints += [sa.CheckConstraint(f"{c.column} > 0", name=c.name) for c in tab.checks]
        table = sa.Table(tab.name, metadata, *columns, *constraints, comment=tab.comment, schema=tab.schema, **dict(tab.options))
        for index in tab.indexes:
            sa_index(table, index)
    return metadata


# --- strategies ------------------------------------------------------------------------------------


def sizes(kind: str) -> st.SearchStrategy[tuple[int, ...]]:
    if kind in ("String", "Unicode"):
        return st.sampled_from([10, 20, 50, 200]).map(lambda n: (n,))
    if kind == "Numeric":
        return st.tuples(st.integers(5, 12), st.integers(0, 4))
    return st.just(())


def defaults(kind: str, schema: Schema | None = None, values: tuple[str, ...] = ()) -> st.SearchStrategy[tuple[str, str] | None]:
    """No default, or one of the kind's (an Enum's: one of its values)."""
    choices = tuple(("literal", v) for v in values) if kind == "Enum" else (schema.defaults(kind) if schema else DEFAULTS[kind])
    return st.one_of(st.none(), st.sampled_from(choices)) if choices else st.none()


@st.composite
def typed(draw: st.DrawFn, column: Col, schema: Schema, kinds: tuple[str, ...]) -> Col:
    """The column as one of `kinds`: its size, enum values, constraint flag and a default drawn to fit."""
    kind = draw(st.sampled_from(kinds))
    values = tuple(draw(st.lists(st.sampled_from(ENUM_VALUES), min_size=1, max_size=3, unique=True))) if kind == "Enum" else ()
    default = column.default if column.default in schema.defaults(kind) else draw(defaults(kind, schema, values))
    return replace(column, kind=kind, size=draw(sizes(kind)), default=default, values=values,
                   native=draw(st.booleans()) if kind == "Enum" else True,
                   constraint=kind in ("Enum", "Boolean") and schema.dialect is not None and draw(st.booleans()))


@st.composite
def columns(draw: st.DrawFn, name: str, schema: Schema | None = None) -> Col:
    if schema is None or schema.dialect is None:
        kind = draw(st.sampled_from(KINDS))
        return Col(name, kind, draw(sizes(kind)), draw(st.booleans()), draw(defaults(kind)), draw(st.none() | st.sampled_from(COMMENTS)))
    column = draw(typed(Col(name, "Integer", nullable=draw(st.booleans())), schema, schema.kinds()))
    return replace(column, comment=draw(st.none() | st.sampled_from(COMMENTS + WIDE_COMMENTS)))


def add_computed(draw: st.DrawFn, schema: Schema, tab: Tab) -> tuple[Schema, Tab]:
    """A generated column reading a plain integer column (never a key: MariaDB refuses AUTO_INCREMENT
    and foreign key columns there); stored where the dialect has no virtual ones."""
    sources = [c.name for c in tab.plain_columns() if c.kind in INTEGERS]
    if not sources:
        return schema, tab
    schema, name = fresh(schema, "c")
    persisted = not schema.has("virtual_generated_columns") or draw(st.booleans())
    column = Col(name, "BigInteger", computed=(draw(st.sampled_from(sources)), persisted), comment=draw(st.none() | st.sampled_from(COMMENTS)))
    return schema, replace(tab, columns=tab.columns + (column,))


def indexable(column: Col) -> bool:
    """MySQL cannot index TEXT or BLOB without a prefix length, which is out of the core scope; PostgreSQL's json has no equality."""
    return column.kind not in UNINDEXABLE


def add_foreign_key(draw: st.DrawFn, schema: Schema, tab: Tab, earlier: list[Tab]) -> tuple[Schema, Tab]:
    """New columns typed like the referred primary key, and the key itself."""
    parent = draw(st.sampled_from(earlier))
    action = draw(st.sampled_from(ACTIONS))
    update = draw(st.sampled_from(ACTIONS))
    names = []
    new_columns = []
    for pk_name in parent.pk:
        schema, name = fresh(schema, "c")
        pk_col = parent.col(pk_name)
        # SET NULL needs a nullable column (MySQL refuses the key otherwise).
        nullable = "SET NULL" in (action, update) or draw(st.booleans())
        new_columns.append(Col(name, pk_col.kind, pk_col.size, nullable))
        names.append(name)
    schema, fk_name = named(draw, schema, "fk", tab)
    fk = FK(draw(st.sampled_from([fk_name, None])), tuple(names), parent.name, parent.pk, action, update)
    return schema, replace(tab, columns=tab.columns + tuple(new_columns), fks=tab.fks + (fk,))


def pick_columns(draw: st.DrawFn, tab: Tab) -> tuple[str, ...] | None:
    """Columns for an index or unique; often a foreign key's, where MySQL's implicit indexes interfere."""
    candidates = [c.name for c in tab.columns if indexable(c)]
    if not candidates:
        return None
    if tab.fks and draw(st.booleans()):
        leading = draw(st.sampled_from(tab.fks)).columns
        rest = [c for c in candidates if c not in leading]
        return leading + tuple(draw(st.lists(st.sampled_from(rest), max_size=1, unique=True))) if rest else leading
    return tuple(draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=min(3, len(candidates)), unique=True)))


def add_index(draw: st.DrawFn, schema: Schema, tab: Tab) -> tuple[Schema, Tab]:
    """A plain or unique index; for a dialect, maybe partial, with descending or lower(...) parts."""
    chosen = pick_columns(draw, tab)
    if chosen is None:
        return schema, tab
    schema, name = named(draw, schema, "ix", tab)
    index = Idx(name, chosen, draw(st.booleans()))
    if schema.has("partial_indexes") and draw(st.integers(0, 3)) == 0:
        index = replace(index, where=f"{draw(st.sampled_from(chosen))} IS NOT NULL")
    if schema.has("descending_indexes"):
        index = replace(index, desc=tuple(c for c in chosen if draw(st.integers(0, 3)) == 0))
    if schema.has("expression_indexes"):
        texts = [c for c in chosen if tab.col(c).kind in ("String", "Unicode") and c not in tab.fk_columns() and c not in tab.pk]
        index = replace(index, lower=tuple(c for c in texts if draw(st.integers(0, 2)) == 0))
    return schema, replace(tab, indexes=tab.indexes + (index,))


def add_unique(draw: st.DrawFn, schema: Schema, tab: Tab) -> tuple[Schema, Tab]:
    chosen = pick_columns(draw, tab)
    if chosen is None:
        return schema, tab
    schema, name = named(draw, schema, "uq", tab)
    return schema, replace(tab, uniques=tab.uniques + (Uniq(draw(st.sampled_from([name, None])), chosen),))


def add_check(draw: st.DrawFn, schema: Schema, tab: Tab) -> tuple[Schema, Tab]:
    # Not on the primary key, nor on foreign key columns: MariaDB refuses a CHECK on an
    # AUTO_INCREMENT column and on a column an ON UPDATE/DELETE action may change (error 1901).
    numeric = [c.name for c in tab.plain_columns() if c.kind in NUMBERS]
    if not numeric:
        return schema, tab
    schema, name = named(draw, schema, "ck", tab)
    check = Chk(draw(st.sampled_from([name, None])), draw(st.sampled_from(numeric)))
    return schema, replace(tab, checks=tab.checks + (check,))


def new_table(draw: st.DrawFn, schema: Schema) -> tuple[Schema, Tab]:
    """A table with a primary key (usually `id`, sometimes composite), some columns and constraints."""
    earlier = list(schema.tables)
    # Sometimes a dropped table's name: the table then changes its primary key (maybe to a new
    # autoincrement `id`) under the foreign keys of others, in one plan (issue 16).
    schema, name = named(draw, schema, "t")
    if draw(st.integers(0, 3)) == 0:
        schema, k1 = fresh(schema, "k")
        schema, k2 = fresh(schema, "k")
        pk_columns = (Col(k1, "Integer", nullable=False), Col(k2, "String", (10,), nullable=False))
    else:
        identity = draw(st.none() | st.tuples(st.booleans(), st.integers(1, 100))) if schema.has("identity_columns") else None
        pk_columns = (Col("id", draw(st.sampled_from(["Integer", "Integer", "BigInteger"])), nullable=False, identity=identity),)
    in_schema = schema.has("named_schemas") and draw(st.integers(0, 3)) == 0
    tab = Tab(name, pk_columns, tuple(c.name for c in pk_columns), comment=draw(st.none() | st.sampled_from(COMMENTS)),
              schema=SIDE if in_schema else None, options=draw(table_options(schema)))
    for _ in range(draw(st.integers(0, 4))):
        schema, column_name = fresh(schema, "c")
        tab = replace(tab, columns=tab.columns + (draw(columns(column_name, schema)),))
    if schema.dialect and draw(st.booleans()):
        schema, tab = add_computed(draw, schema, tab)
    if earlier:
        for _ in range(draw(st.integers(0, 2))):
            schema, tab = add_foreign_key(draw, schema, tab, earlier)
    for adder in (add_unique, add_index, add_check):
        for _ in range(draw(st.integers(0, 2))):
            schema, tab = adder(draw, schema, tab)
    return schema, tab


@st.composite
def schemas(draw: st.DrawFn, dialect: str | None = None) -> Schema:
    """1-4 tables; drawn for a dialect, with the whole surface it has (types, defaults, generated
    columns, identity, named schemas, index options), else the core types every dialect shares."""
    schema = Schema((), dialect=dialect)
    for _ in range(draw(st.integers(1, 4))):
        schema, tab = new_table(draw, schema)
        schema = replace(schema, tables=schema.tables + (tab,))
    return schema


# --- edits: each takes a schema and returns the next one (the same one when it has nothing to act on)


Edit = Callable[[st.DrawFn, Schema], Schema]


def without_column(tab: Tab, name: str) -> Tab:
    """Drop a column and everything built on it (generated columns reading it too), as a user would have to."""
    for column in tab.columns:
        if column.computed and column.computed[0] == name:
            tab = without_column(tab, column.name)
    return replace(
        tab,
        columns=tuple(c for c in tab.columns if c.name != name),
        fks=tuple(fk for fk in tab.fks if name not in fk.columns),
        uniques=tuple(u for u in tab.uniques if name not in u.columns),
        indexes=tuple(i for i in tab.indexes if name not in i.columns),
        checks=tuple(c for c in tab.checks if c.column != name),
    )


def with_column(tab: Tab, column: Col) -> Tab:
    return replace(tab, columns=tuple(column if c.name == column.name else c for c in tab.columns))


def pick_column(draw: st.DrawFn, schema: Schema, eligible: Callable[[Tab], list[Col]]) -> tuple[Tab, Col] | None:
    """A column among those `eligible` in any table, so that an edit rarely has nothing to act on."""
    candidates = [(tab, column) for tab in schema.tables for column in eligible(tab)]
    return draw(st.sampled_from(candidates)) if candidates else None


def non_key_columns(tab: Tab) -> list[Col]:
    return [c for c in tab.columns if c.name not in tab.pk]


def stored_columns(tab: Tab) -> list[Col]:
    """Non-key columns that are not generated: they take defaults and NOT NULL (MariaDB's generated ones take neither)."""
    return [c for c in non_key_columns(tab) if not c.computed]


def edit_add_table(draw: st.DrawFn, schema: Schema) -> Schema:
    schema, tab = new_table(draw, schema)
    return replace(schema, tables=schema.tables + (tab,))


def edit_drop_table(draw: st.DrawFn, schema: Schema) -> Schema:
    gone = draw(st.sampled_from(schema.tables)).name
    kept = tuple(replace(t, fks=tuple(fk for fk in t.fks if fk.referred != gone)) for t in schema.tables if t.name != gone)
    return replace(schema, tables=kept)


def edit_add_column(draw: st.DrawFn, schema: Schema) -> Schema:
    tab = draw(st.sampled_from(schema.tables))
    if schema.dialect and draw(st.integers(0, 3)) == 0:
        schema, tab = add_computed(draw, schema, tab)
        return schema.with_table(tab)
    schema, name = fresh(schema, "c")
    return schema.with_table(replace(tab, columns=tab.columns + (draw(columns(name, schema)),)))


def edit_drop_column(draw: st.DrawFn, schema: Schema) -> Schema:
    picked = pick_column(draw, schema, non_key_columns)
    if not picked:
        return schema
    tab, column = picked
    return schema.with_table(without_column(tab, column.name))


def changed_type(draw: st.DrawFn, column: Col, tab: Tab, cast_from: str, schema: Schema | None = None) -> Col:
    """Another type of the same family or text (widening included); the default follows if it must.

    `cast_from` is the type as last applied: two edits in one plan (date -> text -> integer) are
    one change for the server (date -> integer), which must be castable too.
    """
    used = any(column.name in x.columns for x in tab.indexes + tab.uniques)
    everything = schema.kinds() if schema else KINDS
    family = FAMILIES.get(cast_from, cast_from)
    if family == "text":
        kinds = [k for k in everything if k in CORE_KINDS or FAMILIES.get(k) == "text"]
    else:
        kinds = [k for k in everything if FAMILIES.get(k, k) in (family, "text")]
    kinds = [k for k in kinds if not (used and k in UNINDEXABLE)]
    if schema is not None and schema.dialect is not None:
        return draw(typed(column, schema, tuple(kinds)))
    kind = draw(st.sampled_from(kinds))
    size = draw(sizes(kind))
    default = column.default if column.default in DEFAULTS[kind] else draw(defaults(kind))
    return replace(column, kind=kind, size=size, default=default)


def edit_change_type(draw: st.DrawFn, schema: Schema) -> Schema:
    picked = pick_column(draw, schema, Tab.plain_columns)
    if not picked:
        return schema
    tab, column = picked
    new = changed_type(draw, column, tab, schema.applied_kind(tab.name, column), schema)
    tab = with_column(tab, new)
    if new.kind not in NUMBERS:
        # "c > 0" on a string column is not valid SQL on PostgreSQL: the user would drop the check.
        tab = replace(tab, checks=tuple(c for c in tab.checks if c.column != column.name))
    return schema.with_table(tab)


def edit_change_key_type(draw: st.DrawFn, schema: Schema) -> Schema:
    """Change an `id` between integer types, with every column that references it (MySQL needs them equal)."""
    candidates = [t for t in schema.tables if t.pk == ("id",)]
    if not candidates:
        return schema
    parent = draw(st.sampled_from(candidates))
    kind = draw(st.sampled_from([k for k in INTEGERS if k != parent.col("id").kind]))
    tables = []
    for tab in schema.tables:
        names = {c for fk in tab.fks if fk.referred == parent.name for c in fk.columns}
        names |= {"id"} if tab.name == parent.name else set()
        tables.append(replace(tab, columns=tuple(replace(c, kind=kind) if c.name in names else c for c in tab.columns)))
    return replace(schema, tables=tuple(tables))


def nullable_columns_to_toggle(tab: Tab) -> list[Col]:
    """Not the columns of a SET NULL foreign key while they are nullable: the key needs them so."""
    set_null = {c for fk in tab.fks if "SET NULL" in (fk.ondelete, fk.onupdate) for c in fk.columns}
    return [c for c in stored_columns(tab) if not (c.name in set_null and c.nullable)]


def edit_toggle_nullable(draw: st.DrawFn, schema: Schema) -> Schema:
    picked = pick_column(draw, schema, nullable_columns_to_toggle)
    if not picked:
        return schema
    tab, column = picked
    return schema.with_table(with_column(tab, replace(column, nullable=not column.nullable)))


def edit_change_default(draw: st.DrawFn, schema: Schema) -> Schema:
    picked = pick_column(draw, schema, stored_columns)
    if not picked:
        return schema
    tab, column = picked
    return schema.with_table(with_column(tab, replace(column, default=draw(defaults(column.kind, schema, column.values)))))


def edit_change_comment(draw: st.DrawFn, schema: Schema) -> Schema:
    tab, column = draw(st.sampled_from([(t, c) for t in schema.tables for c in t.columns]))
    return schema.with_table(with_column(tab, replace(column, comment=draw(st.none() | st.sampled_from(COMMENTS)))))


def table_options(schema: Schema) -> st.SearchStrategy[tuple[tuple[str, object], ...]]:
    """None, or one set of the dialect's table kwargs."""
    choices = [o for capability, options in TABLE_OPTIONS.items() if schema.has(capability) for o in options]
    return st.just(()) | st.sampled_from(choices) if choices else st.just(())


def edit_table_options(draw: st.DrawFn, schema: Schema) -> Schema:
    tab = draw(st.sampled_from(schema.tables))
    return schema.with_table(replace(tab, options=draw(table_options(schema))))


def edit_table_comment(draw: st.DrawFn, schema: Schema) -> Schema:
    tab = draw(st.sampled_from(schema.tables))
    return schema.with_table(replace(tab, comment=draw(st.none() | st.sampled_from(COMMENTS))))


def adding(adder: Callable[[st.DrawFn, Schema, Tab], tuple[Schema, Tab]]) -> Edit:
    def edit(draw: st.DrawFn, schema: Schema) -> Schema:
        schema, tab = adder(draw, schema, draw(st.sampled_from(schema.tables)))
        return schema.with_table(tab)

    edit.__name__ = f"edit_{adder.__name__}"
    return edit


def edit_add_fk(draw: st.DrawFn, schema: Schema) -> Schema:
    if len(schema.tables) < 2:
        return schema
    position = draw(st.integers(1, len(schema.tables) - 1))
    schema, tab = add_foreign_key(draw, schema, schema.tables[position], list(schema.tables[:position]))
    return schema.with_table(tab)


def dropping(field: str) -> Edit:
    def edit(draw: st.DrawFn, schema: Schema) -> Schema:
        candidates = [(tab, item) for tab in schema.tables for item in getattr(tab, field)]
        if not candidates:
            return schema
        tab, gone = draw(st.sampled_from(candidates))
        return schema.with_table(replace(tab, **{field: tuple(i for i in getattr(tab, field) if i is not gone)}))

    edit.__name__ = f"edit_drop_{field}"
    return edit


def edit_fk_actions(draw: st.DrawFn, schema: Schema) -> Schema:
    """New ON DELETE / ON UPDATE for an existing key (SET NULL only where the columns are nullable)."""
    candidates = [(tab, fk) for tab in schema.tables for fk in tab.fks]
    if not candidates:
        return schema
    tab, fk = draw(st.sampled_from(candidates))
    nullable = all(tab.col(c).nullable for c in fk.columns)
    actions = [a for a in ACTIONS if nullable or a != "SET NULL"]
    new = replace(fk, ondelete=draw(st.sampled_from(actions)), onupdate=draw(st.sampled_from(actions)))
    return schema.with_table(replace(tab, fks=tuple(new if f is fk else f for f in tab.fks)))


def renaming(field: str) -> Edit:
    """Name an unnamed constraint, or let the server name a named one."""

    def edit(draw: st.DrawFn, schema: Schema) -> Schema:
        candidates = [(tab, item) for tab in schema.tables for item in getattr(tab, field)]
        if not candidates:
            return schema
        tab, item = draw(st.sampled_from(candidates))
        schema, name = named(draw, schema, {"fks": "fk", "uniques": "uq", "checks": "ck"}[field])
        new = replace(item, name=None if item.name else name)
        return schema.with_table(replace(tab, **{field: tuple(new if i is item else i for i in getattr(tab, field))}))

    edit.__name__ = f"edit_rename_{field}"
    return edit


EDITS: tuple[Edit, ...] = (
    edit_change_type,
    edit_add_table,
    edit_drop_table,
    edit_add_column,
    edit_drop_column,
    edit_change_key_type,
    edit_toggle_nullable,
    edit_change_default,
    edit_change_comment,
    edit_table_comment,
    edit_table_options,
    adding(add_index),
    dropping("indexes"),
    adding(add_unique),
    dropping("uniques"),
    edit_add_fk,
    dropping("fks"),
    adding(add_check),
    dropping("checks"),
    edit_fk_actions,
    renaming("fks"),
    renaming("uniques"),
    renaming("checks"),
)


@st.composite
def edited(draw: st.DrawFn, schema: Schema) -> Schema:
    """A few edits at once (so their steps meet in one plan); an emptied schema gets a new table."""
    schema = replace(schema, applied_kinds=tuple((t.name, c.name, c.kind) for t in schema.tables for c in t.columns))
    for _ in range(draw(st.integers(1, MAX_EDITS_PER_APPLY))):
        schema = draw(st.sampled_from(EDITS))(draw, schema)
        if not schema.tables:
            schema = edit_add_table(draw, schema)
    return schema


# --- running it ------------------------------------------------------------------------------------


def reset(url: str) -> None:
    """Drop every table (schema_state and backups included) so each example starts from an empty database."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SIDE} CASCADE")
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
                return
            if engine.dialect.name == "mysql":
                connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
            else:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            quote = engine.dialect.identifier_preparer.quote
            for name in sa.inspect(connection).get_table_names():
                connection.exec_driver_sql(f"DROP TABLE {quote(name)}")
    finally:
        engine.dispose()


def converge(project: Project, schema: Schema) -> None:
    """Apply the schema (dropping what it drops, most of its tables too), then insist that plan is empty and check is in sync."""
    harness.converge(project, to_metadata(schema), "--allow-destructive", "--allow-mass-drop")


@pytest.mark.slow
def test_random_schemas_and_edits_converge(project: Project) -> None:
    """Apply a random schema then random edits to it: after every apply, nothing is left to do."""

    @settings(max_examples=EXAMPLES[project.db.dialect], deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        reset(project.db.url)
        schema = data.draw(schemas(project.db.dialect), label="schema")
        converge(project, schema)
        for number in range(data.draw(st.integers(1, MAX_APPLIES), label="edits")):
            schema = data.draw(edited(schema), label=f"edit {number + 1}")
            converge(project, schema)

    run()
