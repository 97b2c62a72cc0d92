"""The models' way to their target snapshot, one floor at a time.

    MetaData ─► model_key.cache_keys ─► target_cache (hit: the stored target) ─┐
                                    └► miss: devdb.build (scratch place) ─────┴► renames.declare ─► data_changes.declare ─► target Snapshot

Each step hands its result down to the next and none calls back up: the keys describe the models
(model_key.py), the cache answers per table by those keys (target_cache.py), the scratch build only
builds and reads back (devdb.py), and the declarations, which reflection cannot see, are carried
onto whatever came back: renames (renames.py), then fills and conversions (data_changes.py).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from schemasync import data_changes, devdb
from schemasync.dialects import Dialect
from schemasync.model_key import cache_keys
from schemasync.renames import declare
from schemasync.snapshot import Snapshot
from schemasync.target_cache import BuiltOn, TargetCache


def build_target(
    engine: sa.Engine,
    dialect: Dialect,
    metadata: sa.MetaData,
    keep: Callable[[str | None, str], bool],
    cache: TargetCache | None = None,
) -> Snapshot:
    """The normalised snapshot of the models' tables that `keep` accepts, as this server builds them
    (or as it built them last time, when `cache` has the same models for the same server)."""
    devdb.declared_views(metadata, keep, dialect)  # an unsupported view is refused before anything is built
    kept = [t for t in metadata.tables.values() if keep(t.schema, t.name)]
    if cache is None:
        built = _build(engine, dialect, metadata, keep)
        return _declare(built, kept, engine, dialect)
    built_on = _built_on(engine, dialect)  # connects: the server's name for its default schema is known from here on
    keys = _as_built(cache_keys(metadata, keep, dialect), engine.dialect.default_schema_name)
    cached = cache.load(built_on, keys)
    if cached is None:
        cached = _build(engine, dialect, metadata, keep)
        cache.store(built_on, keys, cached)
    return _declare(cached, kept, engine, dialect)


def _declare(snapshot: Snapshot, kept: list[sa.Table], engine: sa.Engine, dialect: Dialect) -> Snapshot:
    """What the models declare that reflection cannot see: renames, then fills and conversions."""
    default_schema = engine.dialect.default_schema_name
    return data_changes.declare(declare(snapshot, kept, default_schema), kept, dialect.sa_dialect, default_schema)


def _as_built(keys: dict[str, str], default_schema: str | None) -> dict[str, str]:
    """The tables' keys by the names the build reads them back as: a table whose model spells out the
    default schema (`public.users`) comes back with none (`users`), and the cache checks each table by it."""
    prefix = f"{default_schema}." if default_schema else None
    if prefix is None or not any(name.startswith(prefix) for name in keys):
        return keys
    return {name.removeprefix(prefix): key for name, key in keys.items()}


def _build(engine: sa.Engine, dialect: Dialect, metadata: sa.MetaData, keep: Callable[[str | None, str], bool]) -> Snapshot:
    """Every kept table, in creation order (foreign keys' targets first), built in the scratch place."""
    return devdb.build(engine, dialect, metadata, [t for t in metadata.sorted_tables if keep(t.schema, t.name)], keep)


def _built_on(engine: sa.Engine, dialect: Dialect) -> BuiltOn:
    """What the build depends on besides the models: the dialect, the server's version, its build context."""
    with engine.connect() as connection:
        server = ".".join(map(str, engine.dialect.server_version_info or ()))
        return BuiltOn(dialect.name, server, dialect.build_context(connection))
