"""The models' way to their target snapshot, one floor at a time.

    MetaData ─► model_key.cache_keys ─► tables built before with the same keys ─────────────┐
                                        (this machine's target_cache, then the database's  │
                                        last recorded target: state.recorded_target)       │
                                    └► the rest: devdb.build (scratch place, only those) ──┴► renames.declare ─► data_changes.declare ─► target Snapshot

Each step hands its result down to the next and none calls back up: the keys describe the models
(model_key.py), the caches answer per table by those keys (target_cache.py), the scratch build only
builds and reads back (devdb.py), and the declarations, which reflection cannot see, are carried
onto whatever came back: renames (renames.py), then fills and conversions (data_changes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from schemasync import data_changes, devdb, state
from schemasync.dialects import Dialect
from schemasync.dialects.base import Defer
from schemasync.errors import PlanError, PrivilegeError
from schemasync.model_key import cache_keys, table_name
from schemasync.renames import declare
from schemasync.snapshot import Snapshot, Table
from schemasync.target_cache import (
    Built,
    BuiltOn,
    TargetCache,
    TargetRecord,
    from_record,
    is_table_key,
    keys_digest,
    snapshot_of,
)

Keep = Callable[[str | None, str], bool]


@dataclass(frozen=True)
class BuiltTarget:
    """The target, what it was built from (recorded by apply: the database serves as the cache),
    and how many of its tables this run built (0: every one came from a cache)."""

    snapshot: Snapshot
    record: TargetRecord
    tables_built: int


def build_target(
    engine: sa.Engine,
    dialect: Dialect,
    metadata: sa.MetaData,
    keep: Keep,
    cache: TargetCache | None = None,
) -> Snapshot:
    """The normalised snapshot of the models' tables that `keep` accepts, as this server builds them
    (taken from `cache` where it has them; the database's record is not consulted)."""
    return build(engine, dialect, metadata, keep, cache, use_record=False).snapshot


def build(
    engine: sa.Engine,
    dialect: Dialect,
    metadata: sa.MetaData,
    keep: Keep,
    cache: TargetCache | None = None,
    use_record: bool = True,
    build_engine: sa.Engine | None = None,
    defer: Defer | None = None,
) -> BuiltTarget:
    """The target of the models' tables that `keep` accepts: each table taken from where it was built
    before with the same key (`cache`, then the database's record unless `use_record` is off), the
    others built in the scratch place on `build_engine` (the target's server when None: --dev-url),
    which `defer` may drop while the caller goes on."""
    devdb.declared_views(metadata, keep, dialect)  # an unsupported view is refused before anything is built
    kept = [t for t in metadata.tables.values() if keep(t.schema, t.name)]
    builder = build_engine or engine
    with builder.connect() as connection:  # the server's name for its default schema is known from here on
        built_on = _built_on(connection, dialect)
    default_schema = engine.dialect.default_schema_name
    keys = _as_built(cache_keys(metadata, keep, dialect), default_schema)
    identity = built_on.identity
    sources: dict[str, Callable[[], Built | None]] = {}
    if cache is not None:
        sources["cache"] = lambda: cache.load(identity, keys)
    if use_record:
        sources["record"] = lambda: _from_database(engine, identity)
    found, objects, fingerprint, served_by = _gather(sources, keys)
    kept_set = set(kept)
    missing = [t for t in metadata.sorted_tables if t in kept_set and _built_name(t, default_schema) not in found]
    if objects is None:  # a view, enum type or sequence changed (a view's key covers the tables it reads)
        snapshot = _full_build(builder, dialect, metadata, keep, default_schema, defer)
        tables_built = len(kept)
    elif missing:
        snapshot = _partial_build(builder, dialect, metadata, keep, default_schema, missing, found, objects, defer)
        tables_built = len(missing)
    else:
        snapshot = snapshot_of(dialect.name, found, objects)
        if fingerprint is not None and fingerprint[0] == keys_digest(keys):
            snapshot = snapshot.known_fingerprint(fingerprint[1])
        tables_built = 0
    # Kept on this machine when something was built, unless the database's record served the rest:
    # it serves the next run as well, and writing 1,000 tables costs half a second.
    if cache is not None and tables_built and served_by != {"record"}:
        cache.store(identity, keys, snapshot)
    record = TargetRecord(identity, keys, snapshot)
    return BuiltTarget(_declare(snapshot, kept, default_schema, dialect), record, tables_built)


def _gather(sources: Mapping[str, Callable[[], Built | None]], keys: Mapping[str, str]) -> tuple[dict[str, Table], Mapping | None, tuple[str, str] | None, set[str]]:
    """Tables by name from the sources in turn, each asked only while something is still missing;
    the schema-level objects from the first source whose keys for them all match; and which
    sources gave any of it."""
    wanted = sum(1 for name in keys if is_table_key(name))
    found: dict[str, Table] = {}
    objects = None
    served_by: set[str] = set()
    for name, source in sources.items():
        built = source()
        if built is None:
            continue
        matching = built.matching(keys)
        if len(matching) == wanted and objects is None and built.objects_match(keys):
            return matching, built.objects, built.fingerprint, {name}  # one source has it all
        if matching:
            served_by.add(name)
        found = {**matching, **found}
        if objects is None and built.objects_match(keys):
            objects = built.objects
            served_by.add(name)
        if len(found) == wanted and objects is not None:
            break
    return found, objects, None, served_by


def _from_database(engine: sa.Engine, identity: str) -> Built | None:
    """The last recorded target, when it was built the same way (read only when this machine's cache
    lacks something: a fresh CI runner)."""
    with engine.connect() as connection:
        recorded = state.recorded_target(connection)
    if recorded is None:
        return None
    stored, snapshot_after, fingerprint = recorded
    return from_record(stored, snapshot_after, fingerprint, identity)


def _full_build(engine: sa.Engine, dialect: Dialect, metadata: sa.MetaData, keep: Keep, default_schema: str | None, defer: Defer | None = None) -> Snapshot:
    """Every kept table, in creation order (foreign keys' targets first), and the declared views."""
    tables = [t for t in metadata.sorted_tables if keep(t.schema, t.name)]
    return devdb.build(engine, dialect, metadata, tables, keep, default_schema, defer=defer)


def _partial_build(
    engine: sa.Engine, dialect: Dialect, metadata: sa.MetaData, keep: Keep, default_schema: str | None,
    missing: list[sa.Table], found: dict[str, Table], objects: Mapping, defer: Defer | None = None,
) -> Snapshot:
    """Only the tables no cache had, beside stand-ins for the tables they reference; the rest, and
    the schema-level objects, as the caches had them. A build that fails this way (a stand-in the
    server will not take) is done whole instead: the whole build says what is wrong, if anything."""
    try:
        built = devdb.build(engine, dialect, metadata, missing, keep, default_schema, with_views=False, defer=defer)
    except PrivilegeError:
        raise
    except PlanError:
        return _full_build(engine, dialect, metadata, keep, default_schema, defer)
    return snapshot_of(dialect.name, {**found, **{t.qualified_name: t for t in built.tables}}, objects)


def _declare(snapshot: Snapshot, kept: list[sa.Table], default_schema: str | None, dialect: Dialect) -> Snapshot:
    """What the models declare that reflection cannot see: renames, then fills and conversions."""
    return data_changes.declare(declare(snapshot, kept, default_schema), kept, dialect.sa_dialect, default_schema)


def _built_name(table: sa.Table, default_schema: str | None) -> str:
    """A model table's name as the build reads it back: the default schema spelled out reads as none."""
    return str(table.name) if default_schema is not None and table.schema == default_schema else table_name(table)


def _as_built(keys: dict[str, str], default_schema: str | None) -> dict[str, str]:
    """The tables' keys by the names the build reads them back as: a table whose model spells out the
    default schema (`public.users`) comes back with none (`users`), and the caches check each table by it."""
    prefix = f"{default_schema}." if default_schema else None
    if prefix is None or not any(name.startswith(prefix) for name in keys):
        return keys
    return {name.removeprefix(prefix): key for name, key in keys.items()}


def _built_on(connection: sa.Connection, dialect: Dialect) -> BuiltOn:
    """What the build depends on besides the models: the dialect, the server's version, its build context."""
    server = ".".join(map(str, connection.dialect.server_version_info or ()))
    return BuiltOn(dialect.name, server, dialect.build_context(connection))
