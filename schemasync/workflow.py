"""One function per user intent. Each reads settings, does the I/O, and returns a report.

Nothing here prints: `console.py` renders reports and `cli.py` maps errors to exit codes. This is
the only module that reads Settings; everything below it takes explicit arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemasync import backup, lockfile, state, targets
from schemasync import rollback as rollbacks
from schemasync.apply import ApplyResult, apply_plan
from schemasync.config import DEFAULT_CONFIG, Settings, TargetSpec, starter_config
from schemasync.target_cache import TargetCache
from schemasync.devdb import build_target, declare_renames, first_line
from schemasync.dialects import Dialect, dialect_for, offline_dialect
from schemasync.diff import diff
from schemasync.errors import ConfigError, DatabaseError, PlanError, RefusedError
from schemasync.models import load_metadata
from schemasync.plan import Plan, make_plan
from schemasync.reflect import other_objects, reflect, unmanaged_parts
from schemasync.scope import Scope, parse_table_key
from schemasync.snapshot import Snapshot, table_to_dict


@dataclass(frozen=True)
class Target:
    """An opened database: engine, its dialect knowledge and what is in scope."""

    engine: sa.Engine
    dialect: Dialect
    scope: Scope
    url: str
    drop_unmanaged: bool = False
    cache: TargetCache | None = None

    def read_live(self, connection: sa.Connection) -> Snapshot:
        return reflect(connection, self.dialect, {s: s for s in self.scope.schemas}, self.scope.keep)


@dataclass(frozen=True)
class PlanReport:
    plan: Plan
    other_objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Drift:
    """The live schema no longer matches what the last apply recorded."""

    state_id: int
    changes: tuple[str, ...]


@dataclass(frozen=True)
class LockStatus:
    """How a lock file compares with the models (`model_changes`) and with a live database."""

    path: str
    dialect: str
    model_changes: tuple[str, ...] = ()
    live_differences: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.model_changes and not self.live_differences


@dataclass(frozen=True)
class CheckReport:
    plan: Plan
    drift: Drift | None
    other_objects: tuple[str, ...] = ()
    lock: LockStatus | None = None

    @property
    def in_sync(self) -> bool:
        return not self.plan.steps and self.drift is None and (self.lock is None or self.lock.ok)


@dataclass(frozen=True)
class LockCheckReport:
    """`check --against LOCK`: whether the lock file is up to date with the models (no server)."""

    path: str
    statuses: tuple[LockStatus, ...]

    @property
    def in_sync(self) -> bool:
        return all(status.ok for status in self.statuses)


@dataclass(frozen=True)
class SnapshotReport:
    path: Path
    source: str
    dialect: str
    tables: int
    fingerprint: str
    kept_dialects: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplyReport:
    plan: Plan
    result: ApplyResult | None = None
    sql_only: bool = False


@dataclass(frozen=True)
class InspectReport:
    schema: dict[str, Any]
    unmanaged: tuple[str, ...] = ()
    other_objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryReport:
    rows: list[state.StateRow] = field(default_factory=list)
    # The backup tables each row holds, by row id.
    kept: dict[int, list[KeptBackup]] = field(default_factory=dict)


@dataclass(frozen=True)
class KeptBackup:
    """A backup table a schema_state row points at; `rows` is None when it is gone."""

    state_id: int
    table: str
    backup: str
    schema: str | None
    rows: int | None
    pruned: bool = False


@dataclass(frozen=True)
class RollbackStep:
    undone: int
    plan: Plan
    result: ApplyResult | None = None


@dataclass(frozen=True)
class RollbackReport:
    steps: tuple[RollbackStep, ...]
    sql_only: bool = False
    # With --sql and --to, only the first step can be shown: the next ones start where it ends.
    more: int = 0


@dataclass(frozen=True)
class PruneReport:
    dropped: tuple[KeptBackup, ...]
    kept_rows: int


# --- opening things -------------------------------------------------------------------------------


@contextmanager
def open_target(settings: Settings) -> Iterator[Target]:
    """Create the engine, check the server answers, and dispose of it afterwards."""
    url = parse_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    try:
        dialect_cls = url.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ConfigError(f"cannot use {shown}: SQLAlchemy has no dialect '{url.drivername}' (schemasync supports {SUPPORTED_URLS})") from None
    except ImportError as error:
        raise ConfigError(f"cannot use {shown}: {_missing_driver(error)}") from None
    options = dialect_for(dialect_cls()).engine_options(settings.lock_timeout)
    if settings.default_schema:
        options = _merge_options(options, dialect_for(dialect_cls()).default_schema_options(settings.default_schema))
    try:
        engine = sa.create_engine(url, **options)
    except ImportError as error:
        raise ConfigError(f"cannot use {shown}: {_missing_driver(error)}") from None
    except (sa.exc.ArgumentError, TypeError, ValueError) as error:
        raise ConfigError(f"cannot use {shown}: {first_line(error)}") from None
    try:
        dialect = dialect_for(engine.dialect)
        dialect.prepare_engine(engine)
        try:
            with engine.connect():
                pass
        except sa.exc.DBAPIError as error:
            raise DatabaseError(f"cannot connect to {shown}: {first_line(error)}") from None
        except Exception as error:  # drivers raise more than DBAPI errors on odd URL options
            raise DatabaseError(f"cannot connect to {shown}: {type(error).__name__}: {first_line(error)}") from None
        cache = TargetCache(settings.cache_dir) if settings.cache_dir else None
        yield Target(engine, dialect, Scope(settings.include_schemas, settings.exclude_tables), shown, settings.drop_unmanaged, cache)
    finally:
        engine.dispose()


def _merge_options(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Engine options with `connect_args` merged rather than replaced."""
    merged = {**base, **extra}
    merged["connect_args"] = {**base.get("connect_args", {}), **extra.get("connect_args", {})}
    return merged


SUPPORTED_URLS = "sqlite://, postgresql+psycopg://, mysql+pymysql://"
# What to install for a driver module that is missing, by the module's name.
_DRIVER_PACKAGES = {"psycopg": "schemasync[postgres]", "pymysql": "schemasync[mysql]"}


def parse_url(database_url: str | None) -> sa.URL:
    """The configured URL, or a one-line error that never repeats it (it may hold a password)."""
    if not database_url:
        raise ConfigError("no database URL: pass --database-url, set SCHEMASYNC_DATABASE_URL, or run `schemasync init`")
    try:
        return sa.engine.make_url(database_url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError("the database URL is not a valid SQLAlchemy URL (expected e.g. postgresql+psycopg://user@host/db)") from None


def _missing_driver(error: ImportError) -> str:
    """What to do about a DBAPI module that failed to import."""
    module = (error.name or "").partition(".")[0]
    if not module:
        return first_line(error)
    package = _DRIVER_PACKAGES.get(module)
    if package:
        return f"the driver module '{module}' is not installed (pip install '{package}')"
    return f"the driver module '{module}' is not installed: install it, or use a supported driver ({SUPPORTED_URLS})"


def load_models(settings: Settings) -> sa.MetaData:
    if not settings.models:
        raise ConfigError("no models: pass --models module:Base, set SCHEMASYNC_MODELS, or add `models:` to schemasync.yaml")
    return load_metadata(settings.models, settings.base_dir)


@contextmanager
def database_errors(target: Target) -> Iterator[None]:
    """A database error anywhere in a command becomes one line naming the server (never the password)."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        raise DatabaseError(f"{target.url}: {first_line(error)}") from None


# --- intents --------------------------------------------------------------------------------------


def plan(settings: Settings) -> PlanReport:
    """Compare the models with the live schema: the ordered plan, unapplied."""
    metadata = load_models(settings)
    with open_target(settings) as target, database_errors(target):
        return _plan(target, metadata)


def _plan(target: Target, metadata: sa.MetaData) -> PlanReport:
    desired = build_target(target.engine, target.dialect, metadata, target.scope.keep, target.cache)
    with target.engine.connect() as connection:
        live = target.read_live(connection)
        last = state.last_applied(connection)
        others = other_objects(connection, {s: s for s in target.scope.schemas})
        record_id = state.next_id(connection)
    previously = last.managed_tables if last else ()
    # Right after a rollback, what it kept (rows written after the apply it undid) comes back on the way forward.
    kept = [r for r in last.backups if not r.get("pruned")] if last and last.kind == rollbacks.ROLLBACK else ()
    result = make_plan(live, desired, target.dialect, previously, drop_unmanaged=target.drop_unmanaged, record_id=record_id, restore_from=kept)
    managed = live.only({parse_table_key(name) for name in result.managed_tables})
    return PlanReport(result, tuple(others + unmanaged_parts(managed)))


def apply(
    settings: Settings,
    confirm: Callable[[Plan], bool],
    allow_destructive: bool = False,
    plan_file: Path | None = None,
    sql_only: bool = False,
    on_statement: Callable[[int, str], None] = lambda n, sql: None,
) -> ApplyReport:
    """Make (or load) the plan, refuse what is not allowed, ask, run it and record it."""
    metadata = None if plan_file else load_models(settings)
    with open_target(settings) as target, database_errors(target):
        chosen = _load_plan(plan_file, target) if plan_file else _plan(target, metadata).plan
        if not chosen.steps or sql_only:
            return ApplyReport(chosen, sql_only=sql_only)
        if chosen.destructive_steps and not allow_destructive:
            names = "; ".join(s.summary for s in chosen.destructive_steps)
            raise RefusedError(f"the plan has {len(chosen.destructive_steps)} destructive step(s) ({names}); re-run with --allow-destructive to allow data loss")
        if not confirm(chosen):
            raise RefusedError("apply cancelled; nothing was changed")
        result = apply_plan(target.engine, target.dialect, chosen, target.read_live, settings.lock_timeout, on_statement)
        return ApplyReport(chosen, result)


def _load_plan(path: Path, target: Target) -> Plan:
    try:
        text = path.read_text()
    except OSError as error:
        raise PlanError(f"cannot read plan file {path}: {error.strerror}") from None
    loaded = Plan.from_json(text, str(path))
    if loaded.dialect != target.dialect.name:
        raise PlanError(f"{path}: the plan was made for {loaded.dialect}, the database is {target.dialect.name}")
    with target.engine.connect() as connection:
        live = target.read_live(connection)
    if live.only({parse_table_key(n) for n in loaded.managed_tables}).fingerprint() != loaded.source_fingerprint:
        raise PlanError(f"{path}: the plan was made against another schema (the live schema changed since): run `schemasync plan --out` again")
    return loaded


def check(settings: Settings, lock_path: Path | None = None) -> CheckReport:
    """Pending changes (models vs database) and drift (database vs what the last apply recorded);
    with `lock_path`, also whether the lock file matches the models and the live schema."""
    return _check(settings, load_models(settings), lock_path)


def _check(settings: Settings, metadata: sa.MetaData, lock_path: Path | None) -> CheckReport:
    lock = lockfile.read(lock_path) if lock_path else None
    with open_target(settings) as target, database_errors(target):
        report = _plan(target, metadata)
        with target.engine.connect() as connection:
            last = state.last_applied(connection)
            live = target.read_live(connection)
            drift = _drift(last, live) if last else None
        status = _live_lock_status(lock, lock_path, metadata, target, live) if lock and lock_path else None
        return CheckReport(report.plan, drift, report.other_objects, status)


def _drift(last: state.StateRow, live: Snapshot) -> Drift | None:
    current = live.only(set(last.managed_tables))
    if current.fingerprint() == last.target_fingerprint:
        return None
    recorded = Snapshot.from_dict(last.snapshot_after) if last.snapshot_after else Snapshot(live.dialect)
    changes = tuple(op.summary() for op in diff(recorded, current))
    return Drift(last.id, changes or ("the schema differs from the recorded fingerprint",))


def inspect(settings: Settings) -> InspectReport:
    """The live schema as plain data, with what schemasync does not manage."""
    with open_target(settings) as target, database_errors(target):
        with target.engine.connect() as connection:
            live = target.read_live(connection)
            last = state.last_applied(connection)
            others = other_objects(connection, {s: s for s in target.scope.schemas})
    managed = set(last.managed_tables) if last else set()
    if settings.models:
        managed |= {(t.schema, t.name) for t in load_models(settings).tables.values()}
    unmanaged = tuple(t.qualified_name for t in live.tables if t.key not in managed)
    schema = {"dialect": live.dialect, "tables": {t.qualified_name: _inspect_table(t) for t in live.tables}}
    return InspectReport(schema, unmanaged, tuple(others))


def _inspect_table(table: Any) -> dict[str, Any]:
    data = table_to_dict(table)
    data.pop("name")
    data.pop("schema")
    return {k: v for k, v in data.items() if v not in (None, [], {})}


def history(settings: Settings) -> HistoryReport:
    """Every apply and rollback, with the backup tables each holds and their size."""
    with open_target(settings) as target, database_errors(target):
        with target.engine.connect() as connection:
            rows = state.rows(connection)
            existing = state.existing_backups(connection, target.scope.schemas)
            return HistoryReport(rows, {row.id: _kept(connection, row, existing) for row in rows})


def _kept(connection: sa.Connection, row: state.StateRow, existing: set[str]) -> list[KeptBackup]:
    if row.status == state.FAILED and row.steps_done == 0:
        return []  # rolled back with the failed apply: nothing was kept
    found = []
    for record in row.backups:
        if record.get("kind") not in backup.BACKUP_KINDS:
            continue
        schema = parse_table_key(record["table"])[0]
        present = record["backup"] in existing and not record.get("pruned")
        rows = state.backup_rows(connection, schema, record["backup"]) if present else None
        found.append(KeptBackup(row.id, record["table"], record["backup"], schema, rows, bool(record.get("pruned"))))
    return found


# --- rollback and prune ---------------------------------------------------------------------------


def rollback(
    settings: Settings,
    confirm: Callable[[int, Plan], bool],
    to: int | None = None,
    sql_only: bool = False,
    on_statement: Callable[[int, str], None] = lambda n, sql: None,
) -> RollbackReport:
    """Undo the last apply (or every apply back to `to`, newest first), bringing kept data back."""
    with open_target(settings) as target, database_errors(target):
        with target.engine.connect() as connection:
            queue = [row.id for row in rollbacks.to_undo(state.rows(connection), to)]
        steps: list[RollbackStep] = []
        for row_id in queue:
            chosen = _rollback_plan(target, row_id)
            if sql_only:
                return RollbackReport((RollbackStep(row_id, chosen),), sql_only=True, more=len(queue) - 1)
            if not confirm(row_id, chosen):
                done = f"{len(steps)} apply(s) were rolled back" if steps else "nothing was changed"
                raise RefusedError(f"rollback cancelled; {done}")

            def mark(connection: sa.Connection, own_id: int, undone: int = row_id) -> None:
                state.set_status(connection, undone, state.ROLLED_BACK)

            result = apply_plan(target.engine, target.dialect, chosen, target.read_live, settings.lock_timeout, on_statement, rollbacks.ROLLBACK, mark)
            steps.append(RollbackStep(row_id, chosen, result))
        return RollbackReport(tuple(steps))


def _rollback_plan(target: Target, row_id: int) -> Plan:
    """The way back from the live schema to before apply `row_id`; refused when it cannot be made safely."""
    with target.engine.connect() as connection:
        row = next(r for r in state.rows(connection) if r.id == row_id)
        live = target.read_live(connection)
        record_id = state.next_id(connection)
        existing = state.existing_backups(connection, target.scope.schemas)
    chosen = rollbacks.plan_rollback(live, row, target.dialect, record_id)
    reason = rollbacks.refusal(live, row, chosen, existing)
    if reason:
        raise RefusedError(f"cannot roll back apply #{row.id}: {reason}")
    return chosen


def prune(settings: Settings, keep: int | None, confirm: Callable[[list[KeptBackup]], bool]) -> PruneReport:
    """Drop the backup tables of all but the `keep` newest rows that hold some (after asking)."""
    keep = keep if keep is not None else settings.keep_backups
    if keep is None:
        raise ConfigError("prune: pass --keep N (how many recent applies keep their backups) or set keep_backups in schemasync.yaml")
    with open_target(settings) as target, database_errors(target):
        with target.engine.connect() as connection:
            existing = state.existing_backups(connection, target.scope.schemas)
            holding = [(row, kept) for row in state.rows(connection) if (kept := [k for k in _kept(connection, row, existing) if k.rows is not None])]
        doomed = holding[keep:]
        dropped = tuple(k for _, kept in doomed for k in kept)
        if not dropped:
            return PruneReport((), len(holding))
        if not confirm(list(dropped)):
            raise RefusedError("prune cancelled; nothing was dropped")
        with target.engine.connect() as connection, target.dialect.migration_transaction(connection, settings.lock_timeout):
            for row, kept in doomed:
                for k in kept:
                    state.drop_backup(connection, k.schema, k.backup)
                names = {k.backup for k in kept}
                state.set_backups(connection, row.id, [{**r, "pruned": True} if r.get("backup") in names else r for r in row.backups])
        return PruneReport(dropped, keep)


# --- many targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetsReport:
    """One outcome per target (its report, or the error that stopped it), in the configured order."""

    outcomes: tuple[targets.Outcome[Any], ...]

    @property
    def failed(self) -> bool:
        return any(o.failed for o in self.outcomes)


def chosen_targets(settings: Settings) -> tuple[TargetSpec, ...]:
    if not settings.targets:
        raise ConfigError("--all-targets: the config lists no targets (add `targets:` to schemasync.yaml)")
    return settings.targets


def plan_targets(settings: Settings, parallel: int, on_event: Callable[[str, str], None]) -> TargetsReport:
    """`plan` for every configured target, `parallel` at a time."""
    metadata = load_models(settings)  # imported once, before any thread

    def one(spec: TargetSpec) -> PlanReport:
        with open_target(settings.for_target(spec)) as target, database_errors(target):
            return _plan(target, metadata)

    return _each(settings, one, parallel, on_event)


def check_targets(settings: Settings, parallel: int, on_event: Callable[[str, str], None], lock_path: Path | None = None) -> TargetsReport:
    """`check` for every configured target; each reports pending changes, drift and the lock."""
    metadata = load_models(settings)
    return _each(settings, lambda spec: _check(settings.for_target(spec), metadata, lock_path), parallel, on_event)


def apply_targets(
    settings: Settings,
    confirm: Callable[[list[tuple[str, Plan]]], bool],
    allow_destructive: bool,
    parallel: int,
    on_event: Callable[[str, str], None],
) -> TargetsReport:
    """Plan every target, ask once for all of them, then apply each plan; a target whose planning
    failed or whose plan is refused (destructive) fails alone and the others are applied."""
    planned = plan_targets(settings, parallel, on_event)
    runnable = [(o.name, o.result.plan) for o in planned.outcomes if not o.failed and o.result.plan.steps and (allow_destructive or not o.result.plan.destructive_steps)]
    if runnable and not confirm(runnable):
        raise RefusedError("apply cancelled; nothing was changed")
    plans = {o.name: o.result.plan for o in planned.outcomes if not o.failed}

    def one(spec: TargetSpec) -> ApplyReport:
        plan = plans.get(spec.name)
        if plan is None:
            raise next(o.error for o in planned.outcomes if o.name == spec.name)  # type: ignore[misc]
        if plan.destructive_steps and not allow_destructive:
            raise RefusedError(f"{len(plan.destructive_steps)} destructive step(s) ({'; '.join(s.summary for s in plan.destructive_steps)}); re-run with --allow-destructive")
        if not plan.steps:
            return ApplyReport(plan)
        with open_target(settings.for_target(spec)) as target, database_errors(target):
            return ApplyReport(plan, apply_plan(target.engine, target.dialect, plan, target.read_live, settings.lock_timeout))

    return _each(settings, one, parallel, on_event)


def _each(settings: Settings, job: Callable[[TargetSpec], Any], parallel: int, on_event: Callable[[str, str], None]) -> TargetsReport:
    specs = {spec.name: spec for spec in chosen_targets(settings)}
    return TargetsReport(tuple(targets.run_each(list(specs), lambda name: job(specs[name]), parallel, on_event)))


# --- lock files and offline plans -----------------------------------------------------------------


def snapshot(settings: Settings, out: Path, live: bool = False, dialect_name: str | None = None) -> SnapshotReport:
    """Write the normalised schema of the models (built on a server, or in memory for SQLite) or of
    the live database to a lock file; a models lock keeps other dialects made from the same models."""
    scope = Scope(settings.include_schemas, settings.exclude_tables)
    if live:
        with open_target(settings) as target, database_errors(target):
            with target.engine.connect() as connection:
                taken = target.read_live(connection)
        lock = lockfile.LockFile(lockfile.DATABASE, {taken.dialect: lockfile.LockEntry(taken)})
    else:
        metadata = load_models(settings)
        taken = _models_snapshot(settings, metadata, scope, dialect_name)
        digests = lockfile.model_table_digests(metadata, scope.keep, offline_dialect(taken.dialect))
        entry = lockfile.LockEntry(taken, lockfile.models_digest(digests), digests)
        existing = _readable_lock(out)

        def up_to_date(name: str, old: lockfile.LockEntry) -> bool:
            return old.model_tables == lockfile.model_table_digests(metadata, scope.keep, offline_dialect(name))

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
    with open_target(settings) as target, database_errors(target):
        return build_target(target.engine, target.dialect, metadata, target.scope.keep)


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
    scope = Scope(settings.include_schemas, settings.exclude_tables)
    start = None if source == lockfile.EMPTY else lockfile.read(Path(source))
    name = dialect_name or _only_dialect(start, source) or (parse_url(settings.database_url).get_backend_name() if settings.database_url else None)
    if not name:
        raise ConfigError("offline plan: pass --dialect (postgresql, mysql or sqlite)")
    dialect = offline_dialect(name)
    current = start.entry(name, source).snapshot if start else Snapshot(name)
    previously = lockfile.previously_managed(start, name, source) if start else ()
    path = models_lock or settings.base_dir / lockfile.DEFAULT_LOCK_FILE
    target = _offline_target(dialect, metadata, scope, path)
    return PlanReport(make_plan(current.only({t.key for t in current.tables if scope.keep(*t.key)}), target, dialect, previously, settings.drop_unmanaged))


def _only_dialect(lock: lockfile.LockFile | None, source: str) -> str | None:
    if lock is None or len(lock.entries) != 1:
        return None
    return next(iter(lock.entries))


def _offline_target(dialect: Dialect, metadata: sa.MetaData, scope: Scope, path: Path) -> Snapshot:
    """The models' normalised snapshot without a server: from the lock file when it is up to date."""
    digests = lockfile.model_table_digests(metadata, scope.keep, dialect)
    lock = lockfile.read_if_exists(path)
    entry = lock.entries.get(dialect.name) if lock and lock.source == lockfile.MODELS else None
    if entry is not None and entry.model_tables == digests:
        return declare_renames(entry.snapshot, [t for t in metadata.sorted_tables if scope.keep(t.schema, t.name)])
    if dialect.offline_build_url is not None:
        return _build_offline(dialect, metadata, scope)
    if entry is None:
        raise ConfigError(f"an offline {dialect.name} plan needs the models' lock file {path} with a {dialect.name} snapshot: run `schemasync snapshot --out {path}` against a {dialect.name} database")
    changes = ", ".join(lockfile.changed_tables(entry.model_tables, digests))
    raise ConfigError(f"{path} is out of date with the models ({changes}): run `schemasync snapshot --out {path}` against a {dialect.name} database")


def check_lock(settings: Settings, path: Path) -> LockCheckReport:
    """`check --against LOCK`: the models changed since the lock file was written? No server needed."""
    metadata = load_models(settings)
    scope = Scope(settings.include_schemas, settings.exclude_tables)
    lock = lockfile.read(path)
    if lock.source != lockfile.MODELS or not lock.entries:
        raise ConfigError(f"{path} is a snapshot of a database, not of the models: check --against needs one written by `schemasync snapshot --out {path}`")
    statuses = []
    for name, entry in sorted(lock.entries.items()):
        digests = lockfile.model_table_digests(metadata, scope.keep, offline_dialect(name))
        statuses.append(LockStatus(str(path), name, tuple(lockfile.changed_tables(entry.model_tables, digests))))
    return LockCheckReport(str(path), tuple(statuses))


def _live_lock_status(lock: lockfile.LockFile, path: Path, metadata: sa.MetaData, target: Target, live: Snapshot) -> LockStatus:
    """The lock against the models (digests) and against the live schema (its managed tables)."""
    entry = lock.entry(target.dialect.name, path)
    model_changes: tuple[str, ...] = ()
    if lock.source == lockfile.MODELS:
        digests = lockfile.model_table_digests(metadata, target.scope.keep, offline_dialect(target.dialect.name))
        model_changes = tuple(lockfile.changed_tables(entry.model_tables, digests))
    keys = set(entry.snapshot.tables_by_key) | {(t.schema, t.name) for t in metadata.tables.values()}
    differences = tuple(op.summary() for op in diff(entry.snapshot, live.only(keys)))
    return LockStatus(str(path), target.dialect.name, model_changes, differences)


def init(directory: Path, database_url: str, models: str, force: bool = False) -> Path:
    """Write a commented starter schemasync.yaml; never overwrite one without --force."""
    path = directory / DEFAULT_CONFIG
    if path.exists() and not force:
        raise RefusedError(f"{path.name} already exists (use --force to overwrite it)")
    path.write_text(starter_config(database_url, models))
    return path
