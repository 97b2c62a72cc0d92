"""The scratch build: the models built in a scratch place on the target server and reflected back.

This is the approach Atlas calls a dev database. The server itself decides how the models'
types, defaults and constraint names are spelled, and the same reflection and normaliser read
both sides, so a freshly applied schema compares equal to its target on every dialect.
Whether a build is needed at all (the target cache) is decided above, in model_target.py.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.sql.util import find_tables

from schemasync.ddl import create_view_of
from schemasync.dialects import Dialect
from schemasync.errors import PlanError, first_line
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


def build(engine: sa.Engine, dialect: Dialect, metadata: sa.MetaData, tables: list[sa.Table], keep: Callable[[str | None, str], bool]) -> Snapshot:
    """`tables` (of `metadata`, in creation order) and the declared views `keep` accepts, built in the
    dialect's scratch place and reflected back with the reader that reads the live side. The default
    schema spelled out in the models (`engine.dialect.default_schema_name`: public, the URL's
    database) is built where no schema is, and read back as none."""
    default = engine.dialect.default_schema_name
    named = {t.schema for t in tables} | {v.schema for v in declared_views(metadata, keep, dialect)} | _object_schemas(metadata)
    schemas = sorted({None if s == default else s for s in named} | {None}, key=lambda s: s or "")
    dialect.refuse_unsupported(tables)
    with dialect.scratch(engine, schemas, len(tables)) as (connection, mapping):
        # The default schema spelled out in the models (public, the URL's database) is built where no schema is.
        spelled: dict[str | None, str | None] = {default: mapping[None]} if default is not None and default in named else {}
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
