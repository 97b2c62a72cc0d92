"""Lock files and offline plans: the models' normalised schema as a file to commit, and plans
made from it with no server (see docs/ci.md for what needs a server and what does not).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import sqlalchemy as sa

from schemasync import data_changes, lockfile
from schemasync.config import Settings
from schemasync.database import database_errors, load_models, open_target, parse_url
from schemasync.dialects import Dialect, dialect_for, offline_dialect, supported
from schemasync.errors import ConfigError
from schemasync.lockfile import LockStatus
from schemasync.model_key import changed_tables, lock_digests, models_digest
from schemasync.model_target import build_target
from schemasync.models import ignored, named_schemas
from schemasync.plan import make_plan
from schemasync.renames import declare
from schemasync.scope import Scope
from schemasync.snapshot import Snapshot
from schemasync.workflow import PlanReport


@dataclass(frozen=True)
class SnapshotReport:
    path: Path
    source: str
    dialect: str
    tables: int
    fingerprint: str
    kept_dialects: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockCheckReport:
    """`check --against LOCK`: whether the lock file is up to date with the models (no server)."""

    path: str
    statuses: tuple[LockStatus, ...]

    @property
    def in_sync(self) -> bool:
        return all(status.ok for status in self.statuses)


def snapshot(settings: Settings, out: Path, live: bool = False, dialect_name: str | None = None) -> SnapshotReport:
    """Write the normalised schema of the models (built on a server, or in memory for SQLite) or of
    the live database to a lock file; a models lock keeps other dialects made from the same models."""
    if live:
        with open_target(settings) as target, database_errors(target):
            with target.engine.connect() as connection:
                taken = target.read_live(connection)
        lock = lockfile.LockFile(lockfile.DATABASE, {taken.dialect: lockfile.LockEntry(taken)})
    else:
        metadata = load_models(settings)
        scope = models_scope(settings, metadata)
        taken = _models_snapshot(settings, metadata, scope, dialect_name)
        digests = lock_digests(metadata, scope.keep, offline_dialect(taken.dialect))
        entry = lockfile.LockEntry(taken, models_digest(digests), digests)
        existing = _readable_lock(out)

        def up_to_date(name: str, old: lockfile.LockEntry) -> bool:
            return old.model_tables == lock_digests(metadata, scope.keep, offline_dialect(name))

        lock = (existing or lockfile.LockFile(lockfile.MODELS, {})).with_entry(taken.dialect, entry, up_to_date)
    lockfile.write(out, lock)
    others = tuple(sorted(d for d in lock.entries if d != taken.dialect))
    return SnapshotReport(out, lock.source, taken.dialect, len(taken.tables), taken.fingerprint(), others)


def _readable_lock(path: Path) -> lockfile.LockFile | None:
    """An existing lock to merge into; one that cannot be read is simply replaced."""
    try:
        return lockfile.read_if_exists(path)
    except ConfigError:
        return None


def _models_snapshot(settings: Settings, metadata: sa.MetaData, scope: Scope, dialect_name: str | None) -> Snapshot:
    """The models as a server of the dialect builds them; SQLite needs no server (in memory)."""
    url_dialect = parse_url(settings.database_url).get_backend_name() if settings.database_url else None
    if dialect_name and dialect_name != url_dialect:
        dialect = offline_dialect(dialect_name)
        return _build_offline(dialect, metadata, scope)
    with open_target(settings, creates=False) as target, database_errors(target):  # built in a scratch place: the database itself is not needed
        return build_target(target.engine, target.dialect, metadata, target.for_models(metadata).scope.keep)


def _build_offline(dialect: Dialect, metadata: sa.MetaData, scope: Scope) -> Snapshot:
    if dialect.offline_build_url is None:
        raise ConfigError(f"building the models for {dialect.name} needs a {dialect.name} server: pass --database-url (a scratch place is used, nothing is left behind)")
    engine = sa.create_engine(dialect.offline_build_url)
    try:
        dialect_for(engine.dialect).prepare_engine(engine)
        return build_target(engine, dialect_for(engine.dialect), metadata, scope.keep)
    finally:
        engine.dispose()


def offline_plan(settings: Settings, source: str, dialect_name: str | None = None, models_lock: Path | None = None) -> PlanReport:
    """The plan from a lock file (or `empty`) to the models, with no server: the models' normalised
    snapshot comes from their up-to-date lock file (`models_lock`, default schema.lock.yaml)."""
    metadata = load_models(settings)
    scope = models_scope(settings, metadata)
    start = None if source == lockfile.EMPTY else lockfile.read(Path(source))
    name = dialect_name or _only_dialect(start, source) or (parse_url(settings.database_url).get_backend_name() if settings.database_url else None)
    if not name:
        raise ConfigError(f"offline plan: pass --dialect ({supported()})")
    dialect = offline_dialect(name)
    current = start.entry(name, source).snapshot if start else Snapshot(name)
    previously = lockfile.previously_managed(start, name, source) if start else ()
    path = models_lock or settings.base_dir / lockfile.DEFAULT_LOCK_FILE
    target = _offline_target(dialect, metadata, scope, path)
    plan = make_plan(current.only({key for key in (*current.tables_by_key, *current.views_by_key) if scope.keep(*key)} | current.object_keys()), target, dialect, previously, settings.drop_unmanaged, online=settings.online,
                     fill_batch_size=settings.fill_batch_size)
    return PlanReport(replace(plan, ignored=ignored(metadata, scope, dialect)))


def models_scope(settings: Settings, metadata: sa.MetaData) -> Scope:
    """What is managed without a server: every schema the models name, plus include_schemas, less exclude_schemas
    (the server's name for its default schema is unknown here, so a model that spells it out keeps it)."""
    return Scope((None,), settings.exclude_tables, settings.exclude_schemas).with_schemas((*settings.include_schemas, *named_schemas(metadata)))


def _only_dialect(lock: lockfile.LockFile | None, source: str) -> str | None:
    if lock is None or len(lock.entries) != 1:
        return None
    return next(iter(lock.entries))


def _offline_target(dialect: Dialect, metadata: sa.MetaData, scope: Scope, path: Path) -> Snapshot:
    """The models' normalised snapshot without a server: from the lock file when it is up to date."""
    digests = lock_digests(metadata, scope.keep, dialect)
    lock = lockfile.read_if_exists(path)
    entry = lock.entries.get(dialect.name) if lock and lock.source == lockfile.MODELS else None
    if entry is not None and entry.model_tables == digests:
        kept = [t for t in metadata.tables.values() if scope.keep(t.schema, t.name)]
        return data_changes.declare(declare(entry.snapshot, kept), kept, dialect.sa_dialect)
    if dialect.offline_build_url is not None:
        return _build_offline(dialect, metadata, scope)
    if entry is None:
        raise ConfigError(f"an offline {dialect.name} plan needs the models' lock file {path} with a {dialect.name} snapshot: run `schemasync snapshot --out {path}` against a {dialect.name} database")
    changes = ", ".join(changed_tables(entry.model_tables, digests))
    raise ConfigError(f"{path} is out of date with the models ({changes}): run `schemasync snapshot --out {path}` against a {dialect.name} database")


def check_lock(settings: Settings, path: Path) -> LockCheckReport:
    """`check --against LOCK`: the models changed since the lock file was written? No server needed."""
    metadata = load_models(settings)
    scope = models_scope(settings, metadata)
    lock = lockfile.read(path)
    if lock.source != lockfile.MODELS or not lock.entries:
        raise ConfigError(f"{path} is a snapshot of a database, not of the models: check --against needs one written by `schemasync snapshot --out {path}`")
    statuses = []
    for name, entry in sorted(lock.entries.items()):
        digests = lock_digests(metadata, scope.keep, offline_dialect(name))
        statuses.append(LockStatus(str(path), name, tuple(changed_tables(entry.model_tables, digests))))
    return LockCheckReport(str(path), tuple(statuses))


