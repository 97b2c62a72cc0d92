"""The scratch build: the models built in a scratch place on the target server and reflected back.

This is the approach Atlas calls a dev database. The server itself decides how the models'
types, defaults and constraint names are spelled, and the same reflection and normaliser read
both sides, so a freshly applied schema compares equal to its target on every dialect.
Whether a build is needed at all (the target cache) is decided above, in model_target.py.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.mock import MockConnection
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateTable,
    SetColumnComment,
    SetTableComment,
)
from sqlalchemy.sql.util import find_tables

from schemasync.ddl import create_view_of
from schemasync.dialects import Dialect
from schemasync.dialects.base import BuildStatement, Defer
from schemasync.errors import PlanError, PrivilegeError, first_line
from schemasync.reflect import reflect
from schemasync.snapshot import Snapshot
from schemasync.view import View, views_of


def declared_views(metadata: sa.MetaData, keep: Callable[[str | None, str], bool], dialect: Dialect) -> list[View]:
    """The models' views that `keep` accepts, each after the views it reads; one this server cannot make is refused."""
    views = [v for v in views_of(metadata).values() if keep(v.schema, v.name)]
    for view in views:
        if view.materialized and not dialect.materialized_views:
            raise PlanError(f"view {view.qualified_name} is materialized, which only PostgreSQL has (not {dialect.name})")
    reads = {v.key: {o.key for o in views if o is not v and o.table in find_tables(v.selectable, include_aliases=True)} for v in views}
    ordered: list[View] = []
    while len(ordered) < len(views):
        ready = [v for v in views if v not in ordered and reads[v.key] <= {o.key for o in ordered}]
        if not ready:
            raise PlanError(f"views read each other in a cycle: {', '.join(sorted(v.qualified_name for v in views if v not in ordered))}")
        ordered += sorted(ready, key=lambda v: (v.schema or "", v.name))
    return ordered


def build(
    engine: sa.Engine, dialect: Dialect, metadata: sa.MetaData, tables: list[sa.Table], keep: Callable[[str | None, str], bool],
    default_schema: str | None = None, with_views: bool = True, defer: Defer | None = None,
) -> Snapshot:
    """`tables` (of `metadata`, in creation order) and, `with_views`, the declared views `keep`
    accepts, built in the dialect's scratch place and reflected back with the reader that reads the
    live side. A table another one's foreign key names that is not built is stood in for by a
    `stand_in` (its referenced columns and key), never read back: so a few changed tables can be
    built alone. The default schema spelled out in the models (`default_schema`, the target's name
    for none: public, the URL's database) is built where no schema is, and read back as none.
    `defer`: how the scratch place may be dropped while the caller goes on (Dialect.scratch)."""
    default = default_schema
    views = declared_views(metadata, keep, dialect) if with_views else []
    stand_ins = stand_ins_for(tables)
    named = {t.schema for t in tables} | {t.schema for t in stand_ins} | {v.schema for v in views} | _object_schemas(metadata)
    schemas = sorted({None if s == default else s for s in named} | {None}, key=lambda s: s or "")
    dialect.refuse_unsupported(tables)
    try:
        with dialect.scratch(engine, schemas, len(tables), defer) as (connection, mapping):
            # The default schema spelled out in the models (public, the URL's database) is built where no schema is.
            spelled: dict[str | None, str | None] = {default: mapping[None]} if default is not None and default in named else {}
            built = connection.execution_options(schema_translate_map={**mapping, **spelled})
            # Where no schema is translated, none is named (SQLite would spell an identity map's None as `main.`).
            translated = {**mapping, **spelled} if any(k != v for k, v in mapping.items()) or spelled else None
            try:
                for stand_in in stand_ins:
                    built.execute(CreateTable(stand_in))
                apart = dialect.builds_keys_apart(len(tables)) and KEYS_APART_POSSIBLE
                dialect.run_build_script(connection, engine, build_script(connection, metadata, tables, translated, apart), apart)
                dialect.after_build(built, tables)
            except sa.exc.SQLAlchemyError as error:
                raise build_error(dialect, error) from None
            for view in views:
                try:
                    built.execute(create_view_of(view), execution_options={"schema_translate_map": translated})
                except sa.exc.SQLAlchemyError as error:
                    raise PlanError(f"view {view.qualified_name} cannot be built on this server: {first_line(error)}") from None
            reverse = {scratch: schema for schema, scratch in mapping.items()}
            stood_in = {(None if t.schema == default else t.schema, t.name) for t in stand_ins}
            return reflect(connection, dialect, reverse, lambda schema, name: (schema, name) not in stood_in and keep(schema, name))
    except sa.exc.SQLAlchemyError as error:
        if not dialect.is_permission_denied(error):
            raise
        raise build_error(dialect, error) from None  # making the scratch place itself (CREATE SCHEMA / DATABASE)


# AddConstraint(isolate_from_table=False) (SQLAlchemy 2.0.39+) adds a key without marking it, in
# the models, as one that CREATE TABLE leaves out; without it the keys stay inside CREATE TABLE.
KEYS_APART_POSSIBLE = "isolate_from_table" in inspect.signature(AddConstraint.__init__).parameters


def build_script(connection: sa.Connection, metadata: sa.MetaData, tables: list[sa.Table], translate: dict[str | None, str | None] | None,
                 keys_apart: bool = False) -> list[BuildStatement]:
    """What `create_all` would send for `tables`, in its order, as SQL text for this server (with the
    scratch place's schema names): captured rather than run, so that the dialect can send it in
    fewer round trips (Dialect.run_build_script). `keys_apart`: each table made without the foreign
    keys its CREATE TABLE would hold, which follow every table as ALTER TABLE ... ADD (schema-wide
    statements), in the same order."""
    captured: list[Any] = []
    metadata.create_all(MockConnection(connection.dialect, lambda element, *args, **kwargs: captured.append(element)), tables=tables, checkfirst=False)
    script = []
    keys: list[BuildStatement] = []

    def compiled(element: Any) -> Any:
        return element.compile(dialect=connection.dialect, schema_translate_map=translate, render_schema_translate=translate is not None)

    for element in captured:
        if keys_apart and isinstance(element, CreateTable):
            bare = compiled(CreateTable(element.element, include_foreign_key_constraints=(), if_not_exists=element.if_not_exists))
            script.append(BuildStatement(str(bare), element.element))
            keys += [BuildStatement(str(compiled(AddConstraint(key, isolate_from_table=False)))) for key in _inline_keys(element, bare)]
            continue
        sql = str(compiled(element))
        target: Any = getattr(element, "element", None)
        if isinstance(element, (CreateTable, SetTableComment)):
            script.append(BuildStatement(sql, target))
        elif isinstance(element, CreateIndex):
            script.append(BuildStatement(sql, target.table, target))
        elif isinstance(element, SetColumnComment):
            script.append(BuildStatement(sql, target.table))
        else:
            script.append(BuildStatement(sql))
    return script + keys


def _inline_keys(element: CreateTable, compiler: Any) -> list[sa.ForeignKeyConstraint]:
    """The foreign keys `element` (a CREATE TABLE from create_all) would hold, in the order it
    would write them: those create_all did not leave for after the tables (use_alter, cycles) and
    whose ddl_if() lets them be made here."""
    table = element.element
    chosen = table.foreign_key_constraints if element.include_foreign_key_constraints is None else set(element.include_foreign_key_constraints)
    return sorted(
        (key for key in chosen if not (key.use_alter and compiler.dialect.supports_alter) and key._should_create_for_compiler(compiler)),
        key=lambda key: key._creation_order,
    )


def build_error(dialect: Dialect, error: sa.exc.SQLAlchemyError) -> PlanError:
    """A failed build: a missing privilege says which and the ways out; anything else is the models'."""
    if dialect.is_permission_denied(error):
        return PrivilegeError(
            f"building the models needs {dialect.scratch_privilege}, which this role lacks ({first_line(error)}): "
            "grant it, or name a scratch database to build in with --dev-url URL (config dev_url)"
        )
    return PlanError(f"the models cannot be built on this server: {first_line(error)}")


def stand_ins_for(tables: list[sa.Table]) -> list[sa.Table]:
    """For each table outside `tables` that their foreign keys name, a table of the same name with
    only the columns they reference (same types) and a key over each set of them: what a foreign key
    needs to be created (MariaDB: the types and an index; PostgreSQL: a unique key)."""
    building = set(tables)
    referenced: dict[sa.Table, list[tuple[sa.Column, ...]]] = {}
    for table in tables:
        for constraint in table.foreign_key_constraints:
            try:
                columns = tuple(element.column for element in constraint.elements)
            except sa.exc.NoReferencedTableError:
                continue  # create_all says what is wrong with it
            target = columns[0].table
            if target not in building and isinstance(target, sa.Table) and columns not in referenced.setdefault(target, []):
                referenced[target].append(columns)
    stand_ins = []
    scratch = sa.MetaData()
    for target, keys in referenced.items():
        names = list(dict.fromkeys(c.name for key in keys for c in key))
        copies = [sa.Column(name, target.c[name].type, nullable=False) for name in names]
        primary = tuple(c.name for c in target.primary_key.columns)
        constraints: list[sa.Constraint] = [
            sa.PrimaryKeyConstraint(*[c.name for c in key]) if tuple(c.name for c in key) == primary else sa.UniqueConstraint(*[c.name for c in key])
            for key in keys
        ]
        options = {k: v for k, v in target.dialect_kwargs.items() if k.split("_", 1)[1] in _STAND_IN_OPTIONS}
        stand_ins.append(sa.Table(target.name, scratch, *copies, *constraints, schema=target.schema, **options))
    return stand_ins


# Table options that decide whether a foreign key may reference the stand-in (its columns' character set).
_STAND_IN_OPTIONS = {"engine", "charset", "collate", "default_charset", "default_collate", "character_set"}


def _object_schemas(metadata: sa.MetaData) -> set[str | None]:
    """Schemas the models' enum types and sequences name: the build creates those too (in scratch schemas)."""
    found: set[str | None] = {s.schema for s in metadata._sequences.values()}
    found |= {c.type.schema for t in metadata.tables.values() for c in t.columns if isinstance(c.type, sa.Enum)}
    return found
