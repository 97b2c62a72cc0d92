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

from schemasync import state
from schemasync.apply import ApplyResult, apply_plan
from schemasync.config import DEFAULT_CONFIG, Settings, starter_config
from schemasync.devdb import build_target, first_line
from schemasync.dialects import Dialect, dialect_for
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
class CheckReport:
    plan: Plan
    drift: Drift | None
    other_objects: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return not self.plan.steps and self.drift is None


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
        yield Target(engine, dialect, Scope(settings.include_schemas, settings.exclude_tables), shown, settings.drop_unmanaged)
    finally:
        engine.dispose()


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
    desired = build_target(target.engine, target.dialect, metadata, target.scope.keep)
    with target.engine.connect() as connection:
        live = target.read_live(connection)
        last = state.last_applied(connection)
        others = other_objects(connection, {s: s for s in target.scope.schemas})
    previously = last.managed_tables if last else ()
    result = make_plan(live, desired, target.dialect, previously, drop_unmanaged=target.drop_unmanaged)
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


def check(settings: Settings) -> CheckReport:
    """Pending changes (models vs database) and drift (database vs what the last apply recorded)."""
    metadata = load_models(settings)
    with open_target(settings) as target, database_errors(target):
        report = _plan(target, metadata)
        with target.engine.connect() as connection:
            last = state.last_applied(connection)
            drift = _drift(last, target.read_live(connection)) if last else None
        return CheckReport(report.plan, drift, report.other_objects)


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
    with open_target(settings) as target, database_errors(target):
        with target.engine.connect() as connection:
            return HistoryReport(state.rows(connection))


def init(directory: Path, database_url: str, models: str, force: bool = False) -> Path:
    """Write a commented starter schemasync.yaml; never overwrite one without --force."""
    path = directory / DEFAULT_CONFIG
    if path.exists() and not force:
        raise RefusedError(f"{path.name} already exists (use --force to overwrite it)")
    path.write_text(starter_config(database_url, models))
    return path
