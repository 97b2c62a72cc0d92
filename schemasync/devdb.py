"""The target side: build the models in a scratch place on the target server and reflect them back.

This is the approach Atlas calls a dev database. The server itself decides how the models'
types, defaults and constraint names are spelled, and the same reflection and normaliser read
both sides, so a freshly applied schema compares equal to its target on every dialect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.sql.util import find_tables

from schemasync.ddl import create_view_of
from schemasync.dialects import Dialect
from schemasync.errors import PlanError
from schemasync.lockfile import model_object_keys, model_table_digest
from schemasync.model_key import describe
from schemasync.reflect import reflect
from schemasync.snapshot import Snapshot, Table, digest
from schemasync.target_cache import TargetCache
from schemasync.view import View, views_of


def build_target(
    engine: sa.Engine,
    dialect: Dialect,
    metadata: sa.MetaData,
    keep: Callable[[str | None, str], bool],
    cache: TargetCache | None = None,
) -> Snapshot:
    """The normalised snapshot of the models' tables that `keep` accepts, as this server builds them
    (or as it built them last time, when `cache` has the same models for the same server)."""
    declared_views(metadata, keep, dialect)  # an unsupported view is refused before anything is built
    default = engine.dialect.default_schema_name
    if cache is None:
        tables = [t for t in metadata.sorted_tables if keep(t.schema, t.name)]
        return declare_value_renames(declare_renames(_build(engine, dialect, metadata, tables, keep), tables, default), tables, default)
    with engine.connect() as connection:
        server = ".".join(map(str, engine.dialect.server_version_info or ()))
        context = dialect.build_context(connection)
    key = cache.key(dialect.name, server, context, table_keys(metadata, keep, dialect))
    built = cache.load(key, dialect.name)
    if built is None:
        tables = [t for t in metadata.sorted_tables if keep(t.schema, t.name)]
        built = _build(engine, dialect, metadata, tables, keep)
        cache.store(key, built)
    kept = [t for t in metadata.tables.values() if keep(t.schema, t.name)]
    return declare_value_renames(declare_renames(built, kept, default), kept, default)


def table_keys(metadata: sa.MetaData, keep: Callable[[str | None, str], bool], dialect: Dialect) -> dict[str, str]:
    """Per kept table, what its DDL depends on: described where model_key can, else the compiled DDL's digest."""
    keys = {}
    for table in metadata.tables.values():
        if keep(table.schema, table.name):
            name = f"{table.schema}.{table.name}" if table.schema else str(table.name)
            described = describe(table, dialect.sa_dialect)
            if described is None:
                keys[name] = "ddl:" + model_table_digest(table, dialect)
            else:
                keys[name] = "described:" + hashlib.sha256(repr(described).encode()).hexdigest()
    for view in declared_views(metadata, keep, dialect):
        keys[f"view {view.qualified_name}"] = "ddl:" + view_digest(view, dialect)
    return {**keys, **model_object_keys(metadata, keep, dialect)}


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


def view_digest(view: View, dialect: Dialect) -> str:
    """What a declared view's cache key and lock digest depend on: its CREATE statement for this dialect."""
    try:
        return digest(str(create_view_of(view).compile(dialect=dialect.sa_dialect)))
    except sa.exc.SQLAlchemyError as error:
        raise PlanError(f"view {view.qualified_name} cannot be compiled for {dialect.name}: {first_line(error)}") from None


def _build(engine: sa.Engine, dialect: Dialect, metadata: sa.MetaData, tables: list[sa.Table], keep: Callable[[str | None, str], bool]) -> Snapshot:
    default = engine.dialect.default_schema_name
    named = {t.schema for t in tables} | {v.schema for v in declared_views(metadata, keep, dialect)} | _object_schemas(metadata)
    schemas = sorted({None if s == default else s for s in named} | {None}, key=lambda s: s or "")
    dialect.refuse_unsupported(tables)
    with dialect.scratch(engine, schemas, len(tables)) as (connection, mapping):
        # The default schema spelled out in the models (public, the URL's database) is built where no schema is.
        spelled = {default: mapping[None]} if default is not None and default in named else {}
        built = connection.execution_options(schema_translate_map={**mapping, **spelled})
        try:
            metadata.create_all(built, tables=tables, checkfirst=False)
            dialect.after_build(built, tables)
        except sa.exc.SQLAlchemyError as error:
            raise PlanError(f"the models cannot be built on this server: {first_line(error)}") from None
        # Where no schema is translated, none is named (SQLite would spell an identity map's None as `main.`).
        translated = {**mapping, **spelled} if any(k != v for k, v in mapping.items()) or spelled else None
        for view in declared_views(metadata, keep, dialect):
            try:
                built.execute(create_view_of(view), execution_options={"schema_translate_map": translated})
            except sa.exc.SQLAlchemyError as error:
                raise PlanError(f"view {view.qualified_name} cannot be built on this server: {first_line(error)}") from None
        reverse = {scratch: schema for schema, scratch in mapping.items()}
        return reflect(connection, dialect, reverse, keep)


def _object_schemas(metadata: sa.MetaData) -> set[str | None]:
    """Schemas the models' enum types and sequences name: the build creates those too (in scratch schemas)."""
    found: set[str | None] = {s.schema for s in metadata._sequences.values()}
    found |= {c.type.schema for t in metadata.tables.values() for c in t.columns if isinstance(c.type, sa.Enum)}
    return found


def renamed_from(item: sa.Table | sa.Column | sa.Index | sa.Constraint) -> str | None:
    """The contract's declaration: info={"schemasync": {"renamed_from": "old_name"}}.

    Read without touching `item.info` where the model never set it: SQLAlchemy makes an empty
    dict on first access and keeps it (80 MB over the 90,000 objects of 5,000 tables)."""
    info = vars(item).get("info")
    declared = (info.get("schemasync") or {}).get("renamed_from") if info else None
    return str(declared) if declared else None


def declare_renames(snapshot: Snapshot, tables: list[sa.Table], default_schema: str | None = None) -> Snapshot:
    """Carry the models' rename declarations onto the reflected target (reflection cannot see them);
    a model that spells out `default_schema` is read back with no schema."""
    by_key = {(None if t.schema == default_schema else t.schema, t.name): t for t in tables}
    if not any(renamed_from(item) for t in tables for item in (t, *t.columns, *t.indexes, *t.constraints)):
        return snapshot  # nothing declared: the same snapshot, with what it has computed already

    def annotate(table: Table) -> Table:
        model = by_key.get(table.key)
        if model is None:
            return table
        columns = tuple(replace(c, renamed_from=renamed_from(model.c[c.name])) if c.name in model.c else c for c in table.columns)
        # Indexes and constraints by name, whatever kind the server made of them (MySQL: a unique
        # constraint is a unique index).
        declared = {str(item.name): old for item in (*model.indexes, *model.constraints) if item.name and (old := renamed_from(item))}

        def mark(items: tuple) -> tuple:
            return tuple(replace(i, renamed_from=declared.get(i.name)) if i.name in declared else i for i in items)

        pk = table.primary_key
        return replace(
            table, columns=columns, renamed_from=renamed_from(model),
            primary_key=mark((pk,))[0] if pk else None, foreign_keys=mark(table.foreign_keys),
            uniques=mark(table.uniques), indexes=mark(table.indexes), checks=mark(table.checks),
        )

    return snapshot.with_tables(tuple(annotate(t) for t in snapshot.tables))


def declare_value_renames(snapshot: Snapshot, tables: list[sa.Table], default_schema: str | None = None) -> Snapshot:
    """Carry enum value renames, declared on a column of the type as
    info={"schemasync": {"renamed_values": {"old": "new"}}}, onto the target's enum types."""
    declared: dict[tuple[str | None, str], dict[str, str]] = {}
    for table in tables:
        for column in table.columns:
            info = vars(column).get("info") or {}  # not column.info: see renamed_from
            renames = (info.get("schemasync") or {}).get("renamed_values")
            if renames and isinstance(column.type, sa.Enum) and column.type.name:
                schema = None if column.type.schema == default_schema else column.type.schema
                declared.setdefault((schema, str(column.type.name)), {}).update({str(o): str(n) for o, n in renames.items()})
    if not declared or not snapshot.enums:
        return snapshot
    enums = tuple(replace(e, renamed_values=tuple(sorted(declared[e.key].items()))) if e.key in declared else e for e in snapshot.enums)
    return replace(snapshot, enums=enums)


def first_line(error: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy appends SQL and a help link)."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
