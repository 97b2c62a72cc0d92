"""One function per user intent: plan, apply, check, inspect, init. Each returns a report.

Nothing here prints: `console.py` renders reports and `cli.py` maps errors to exit codes. The
application modules (this one, history.py, offline.py, targets.py) are the only readers of
Settings; everything below them takes explicit arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemasync import __version__, lockfile, model_target, preflight, recovery, state
from schemasync import rollback as rollbacks
from schemasync.apply import ApplyResult, apply_plan
from schemasync.config import DEFAULT_CONFIG, Settings, starter_config
from schemasync.database import Target, database_errors, load_models, open_target
from schemasync.dialects.base import Defer
from schemasync.diff import diff
from schemasync.errors import DatabaseError, InProgressError, PlanError, RefusedError
from schemasync.lockfile import LockStatus
from schemasync.models import ignored, left_out
from schemasync.online import DEFAULT_FILL_BATCH_SIZE, OnlineRun
from schemasync.operations import DropTable
from schemasync.plan import Plan, make_plan
from schemasync.reflect import other_objects, unmanaged_parts
from schemasync.renames import declare_unnamed_unique_indexes, unnamed_by_definition
from schemasync.scope import parse_table_key, unmanaged_views
from schemasync.snapshot import Snapshot, table_to_dict
from schemasync.view import views_of


@dataclass(frozen=True)
class PlanReport:
    plan: Plan
    other_objects: tuple[str, ...] = ()
    # What the plan was made from, so `check` need not read the database a second time.
    live: Snapshot | None = field(default=None, compare=False, repr=False)
    last_applied: state.StateRow | None = field(default=None, compare=False, repr=False)
    # Runs whose session ended mid-way, as they stand (recovery.judge; `apply` records it).
    unfinished: tuple[str, ...] = ()


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
    lock: LockStatus | None = None
    # An apply whose session ended before it recorded how it ended: its own reason, not drift.
    unfinished: tuple[str, ...] = ()
    # Said, but no reason to fail (a record made by an older schemasync, compared by the models instead).
    notes: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return not self.plan.steps and self.drift is None and not self.unfinished and (self.lock is None or self.lock.ok)


@dataclass(frozen=True)
class ApplyReport:
    plan: Plan
    result: ApplyResult | None = None
    sql_only: bool = False
    # What recovery found and recorded of runs that ended mid-way, before this plan was made.
    recovered: tuple[str, ...] = ()


@dataclass(frozen=True)
class InspectReport:
    schema: dict[str, Any]
    unmanaged: tuple[str, ...] = ()
    other_objects: tuple[str, ...] = ()
    live: Snapshot | None = field(default=None, compare=False, repr=False)  # for `inspect --format mermaid`


def plan(settings: Settings) -> PlanReport:
    """Compare the models with the live schema: the ordered plan, unapplied."""
    metadata = load_models(settings)
    with open_target(settings, creates=False) as target, database_errors(target):
        _refuse_while_in_progress(target)
        return plan_on(target, metadata, settings.online, settings.fill_batch_size)


def _refuse_while_in_progress(target: Target) -> None:
    """`plan` and `check` read nothing while an apply holds the migration lock: they would wait on
    its table locks, or see it half done and call that drift."""
    with target.engine.connect() as connection:
        busy = recovery.in_progress(connection, target.dialect)
    if busy:
        raise InProgressError(f"{busy}: try again when it finishes (exit 3)")


def online_run(settings: Settings) -> OnlineRun | None:
    """How an online apply waits for locks; None when online mode is off."""
    return OnlineRun(settings.online_lock_timeout, settings.online_attempts, fill_pause=settings.fill_pause) if settings.online else None


def plan_on(target: Target, metadata: sa.MetaData, online: bool = False, fill_batch_size: int = DEFAULT_FILL_BATCH_SIZE) -> PlanReport:
    """The plan on an opened target; every schema the models name is in scope, and what they declare
    that is left out is named in the plan (`Plan.ignored`)."""
    target = target.for_models(metadata)
    if _one_shared_connection(target.engine):
        live, recorded, others, record_id = _read_live_side(target)
        return _plan_from(target, metadata, live, recorded, others, record_id, _build_target(target, metadata), online, fill_batch_size)
    # The live side is read on its own connection while this thread keys and loads the target:
    # most of a bulk catalog read is waiting for the server, time the target's work can use. A
    # scratch place that takes long to drop is dropped while the plan is made, and waited for.
    with ThreadPoolExecutor(max_workers=2) as pool:
        live_side = pool.submit(_read_live_side, target)
        drops: list[Future[None]] = []
        built = _build_target(target, metadata, defer=lambda drop: drops.append(pool.submit(drop)))
        report = _plan_from(target, metadata, *live_side.result(), built, online, fill_batch_size)
        for drop in drops:
            drop.result()
    return report


def _plan_from(target: Target, metadata: sa.MetaData, live: Snapshot, recorded: list[state.StateRow], others: list[str], record_id: int,
               built: model_target.BuiltTarget, online: bool, fill_batch_size: int) -> PlanReport:
    """The plan from the live side and the models' target."""
    desired = built.snapshot
    last = next((row for row in recorded if row.status == state.APPLIED), None)
    unfinished = tuple(recovery.judge(row, live).line for row in recovery.unfinished(recorded))
    previously = last.managed_tables if last else ()
    # Right after a rollback, what it kept (rows written after the apply it undid) comes back on the way forward.
    kept = rollbacks.forward_records(recorded)
    result = make_plan(live, desired, target.dialect, previously, drop_unmanaged=target.drop_unmanaged, record_id=record_id, restore_from=kept, online=online,
                       fill_batch_size=fill_batch_size, unfinished_fills=recovery.unfinished_fills(recorded))
    # Named, never silently left out: what the scope or the server leaves out, and what the models' ddl_if() does.
    result = replace(result, built_from=built.record, ignored=ignored(metadata, target.scope, target.dialect),
                     hints=target.notes + result.hints + tuple(left_out(metadata, target.scope.keep, target.dialect)))
    managed = live.only({parse_table_key(name) for name in result.managed_tables})
    return PlanReport(result, tuple(others + unmanaged_views(live, result.managed_tables) + unmanaged_parts(managed)), live, last, unfinished)


def _build_target(target: Target, metadata: sa.MetaData, defer: Defer | None = None) -> model_target.BuiltTarget:
    """The models' target: from this machine's cache or the database's record where they have it,
    the rest built (on the dev database when one is configured)."""
    return model_target.build(target.engine, target.dialect, metadata, target.scope.keep, target.cache, build_engine=target.build_engine, defer=defer)


def _one_shared_connection(engine: sa.Engine) -> bool:
    """An in-memory SQLite database (also what stands for a file not yet made) is one connection
    shared by every thread: two threads' transactions on it would end each other's."""
    return isinstance(engine.pool, sa.pool.StaticPool)


def _read_live_side(target: Target) -> tuple[Snapshot, list[state.StateRow], list[str], int]:
    """The live schema, the schema_state rows back to the last completed apply (newest first), other objects and the next id."""
    with target.engine.connect() as connection:
        guard = target.dialect.read_lock_timeout_sql(target.lock_timeout)
        if guard:
            connection.exec_driver_sql(guard)
        try:
            live = target.read_live(connection)
        except sa.exc.DBAPIError as error:
            if not target.dialect.is_lock_timeout(error):
                raise
            connection.rollback()
            busy = recovery.in_progress(connection, target.dialect)
            if busy:
                raise InProgressError(f"{busy}: try again when it finishes (exit 3)") from None
            raise DatabaseError(f"reading the schema waited {target.lock_timeout:g} s on a table lock another session holds (lock_timeout): try again later") from None
        recorded = state.rows_since_last_applied(connection)
        others = other_objects(connection, target.dialect, {s: s for s in target.scope.schemas})
        return live, recorded, others, state.next_id(connection)


def apply(
    settings: Settings,
    confirm: Callable[[Plan], bool],
    allow_destructive: bool = False,
    plan_file: Path | None = None,
    sql_only: bool = False,
    on_statement: Callable[[int, str], None] = lambda n, sql: None,
    allow_hazards: tuple[str, ...] = (),
    preflight_checks: bool = True,
    allow_mass_drop: bool = False,
    on_note: Callable[[str], None] = lambda line: None,
    on_plan: Callable[[Plan], None] = lambda plan: None,
) -> ApplyReport:
    """Take the migration lock first and resolve runs that ended mid-way (recovery.settle), then make
    (or load) the plan, show it (`on_plan`: before any refusal, so a refused step is seen), refuse what
    is not allowed or would fail on the rows there, ask, run it and record it."""
    metadata = None if plan_file else load_models(settings)
    with open_target(settings) as target, database_errors(target):
        target = target.for_models(metadata) if metadata is not None else target
        recovered = () if sql_only else recovery.settle(target.engine, target.dialect, target.read_live, target.lock_timeout, on_note)
        for line in recovered:
            on_note(line)
        if plan_file:
            chosen, target = _load_plan(plan_file, target)
        else:
            assert metadata is not None, "loaded above when there is no plan file"
            chosen = plan_on(target, metadata, settings.online, settings.fill_batch_size).plan
        if not chosen.steps or sql_only:
            return ApplyReport(chosen, sql_only=sql_only, recovered=recovered)
        on_plan(chosen)
        refuse_unallowed(chosen, allow_destructive, allow_mass_drop, lambda: _impact(target, chosen))
        _refuse_blocked_hazards(chosen, set(settings.block_hazards) - set(allow_hazards))
        if preflight_checks:
            _preflight(target, chosen)
        if not confirm(chosen):
            raise RefusedError("apply cancelled; nothing was changed")
        result = apply_plan(target.engine, target.dialect, chosen, target.read_live, settings.lock_timeout, on_statement, online=online_run(settings))
        return ApplyReport(chosen, result, recovered=recovered)


def refuse_unallowed(chosen: Plan, allow_destructive: bool, allow_mass_drop: bool, impact: Callable[[], list[str]] = list) -> None:
    """Data loss needs --allow-destructive; dropping most of the managed tables needs --allow-mass-drop too.
    `impact`: lines on the rows the destructive steps change, said when refusing them."""
    if chosen.mass_drop and not (allow_destructive and allow_mass_drop):
        dropped = chosen.tables_managed - chosen.tables_defined
        raise RefusedError(f"the plan drops {dropped} of the {chosen.tables_managed} managed tables (the models define {chosen.tables_defined} of them): "
                           "did you import all your model modules? re-run with --allow-destructive --allow-mass-drop if that is meant")
    if chosen.destructive_steps and not allow_destructive:
        names = "; ".join(s.summary for s in chosen.destructive_steps) + "".join(f"; {line}" for line in impact())
        raise RefusedError(f"the plan has {len(chosen.destructive_steps)} destructive step(s) ({names}); re-run with --allow-destructive to allow data loss")


def _refuse_blocked_hazards(chosen: Plan, blocked: set[str]) -> None:
    """`block_hazards` in the config: refuse steps with those hazards unless --allow-hazard names them."""
    steps = [s for s in chosen.steps if blocked & set(s.hazards)]
    if steps:
        names = sorted({h for s in steps for h in s.hazards if h in blocked})
        listed = "; ".join(f"{s.summary} [{', '.join(h for h in s.hazards if h in blocked)}]" for s in steps)
        allow = " ".join(f"--allow-hazard {n}" for n in names)
        raise RefusedError(f"block_hazards refuses {len(steps)} step(s): {listed}; re-run with {allow} to allow them")


def _impact(target: Target, chosen: Plan) -> list[str]:
    """How many rows the plan's value-replacing steps change (said when refusing them)."""
    if not chosen.preconditions:
        return []
    with target.engine.connect() as connection:
        lines = preflight.impact(connection, chosen.preconditions)
        connection.rollback()
    return lines


def _preflight(target: Target, chosen: Plan) -> None:
    """Count the rows that would make a data-dependent step fail; refuse before anything runs."""
    if not chosen.preconditions:
        return
    with target.engine.connect() as connection:
        failures, _ = preflight.run(connection, chosen.preconditions)
        connection.rollback()
    if failures:
        reasons = "; ".join(f.message for f in failures)
        raise RefusedError(f"pre-flight: {len(failures)} step(s) would fail on the rows already there, nothing was changed: {reasons}")


def _load_plan(path: Path, target: Target) -> tuple[Plan, Target]:
    """The saved plan, checked against the live schema, and the target with the plan's schemas in scope;
    the table counts (mass drop) are taken from the live schema, not from the file."""
    try:
        text = path.read_text()
    except OSError as error:
        raise PlanError(f"cannot read plan file {path}: {error.strerror}") from None
    loaded = Plan.from_json(text, str(path))
    if loaded.dialect != target.dialect.name:
        raise PlanError(f"{path}: the plan was made for {loaded.dialect}, the database is {target.dialect.name}")
    target = target.with_schemas(parse_table_key(n)[0] for n in loaded.managed_tables)
    with target.engine.connect() as connection:
        live = target.read_live(connection)
    managed = live.only({parse_table_key(n) for n in loaded.managed_tables})
    if managed.fingerprint() != loaded.source_fingerprint:
        raise PlanError(f"{path}: the plan was made against another schema (the live schema changed since): run `schemasync plan --out` again")
    dropped = len({s.table for s in loaded.steps if s.op == DropTable.op})
    return replace(loaded, tables_managed=len(managed.tables), tables_defined=len(managed.tables) - dropped), target


def check(settings: Settings, lock_path: Path | None = None) -> CheckReport:
    """Pending changes (models vs database) and drift (database vs what the last apply recorded);
    with `lock_path`, also whether the lock file matches the models and the live schema."""
    return check_with(settings, load_models(settings), lock_path)


def check_with(settings: Settings, metadata: sa.MetaData, lock_path: Path | None) -> CheckReport:
    lock = lockfile.read(lock_path) if lock_path else None
    with open_target(settings, creates=False) as target, database_errors(target):
        target = target.for_models(metadata)
        _refuse_while_in_progress(target)
        report = plan_on(target, metadata, settings.online, settings.fill_batch_size)
        live, last = report.live, report.last_applied
        assert live is not None, "plan_on always reports the live schema it read"
        # An unfinished run explains the difference from the last apply's record: not drift.
        default = target.engine.dialect.default_schema_name
        drift = _drift(last, live, list(metadata.tables.values()), default) if last and not report.unfinished else None
        status = lockfile.live_lock_status(lock, lock_path, metadata, target.dialect.name, target.scope.keep, live) if lock and lock_path else None
        unfinished = tuple(f"{line}; run `schemasync apply` to record it" for line in report.unfinished)
        notes: tuple[str, ...] = ()
        if drift and last and not report.plan.steps and last.tool_version != __version__:
            # An older version normalised the schema by other rules, so its fingerprint cannot be
            # compared; the models can: the live schema is exactly what they make.
            notes = (f"apply #{last.id} was recorded by schemasync {last.tool_version}, which spelled some types, defaults or checks otherwise; "
                     "the live schema matches the models (the next apply that changes something records it in this version's spelling)",)
            drift = None
        return CheckReport(report.plan, drift, report.other_objects, status, unfinished, notes)


def _drift(last: state.StateRow, live: Snapshot, tables: list[sa.Table], default_schema: str | None = None) -> Drift | None:
    current = live.only(set(last.managed_tables))
    if current.fingerprint() == last.target_fingerprint:
        return None
    recorded = Snapshot.from_dict(last.snapshot_after) if last.snapshot_after else Snapshot(live.dialect)
    # A constraint the models left unnamed was matched to the live one whatever its name (renames.py);
    # the record does not say which unique indexes stood for one (MySQL): the models do.
    current = unnamed_by_definition(current, declare_unnamed_unique_indexes(recorded, tables, default_schema))
    if current.fingerprint() == last.target_fingerprint:
        return None
    changes = tuple(op.summary() for op in diff(recorded, current))
    return Drift(last.id, changes or ("the schema differs from the recorded fingerprint",))


def inspect(settings: Settings) -> InspectReport:
    """The live schema as plain data, with what schemasync does not manage."""
    metadata = load_models(settings) if settings.models or settings.metadata is not None else None
    with open_target(settings, creates=False) as target, database_errors(target):
        target = target.for_models(metadata) if metadata is not None else target
        with target.engine.connect() as connection:
            live = target.read_live(connection)
            last = state.last_applied(connection)
            others = other_objects(connection, target.dialect, {s: s for s in target.scope.schemas})
    managed = set(last.managed_tables) if last else set()
    if metadata is not None:
        declared = [(t.schema, t.name) for t in metadata.tables.values()] + list(views_of(metadata))
        managed |= {(target.scope.canonical(schema), name) for schema, name in declared}
    unmanaged = tuple(t.qualified_name for t in live.tables if t.key not in managed)
    others += unmanaged_views(live, [v.qualified_name for v in live.views if v.key in managed])
    schema = {"dialect": live.dialect, "tables": {t.qualified_name: _inspect_table(t) for t in live.tables}}
    if live.views:
        schema["views"] = {v.qualified_name: {"definition": v.definition, **({"materialized": True} if v.materialized else {})} for v in live.views}
    return InspectReport(schema, unmanaged, tuple(others), live)


def _inspect_table(table: Any) -> dict[str, Any]:
    data = table_to_dict(table)
    data.pop("name")
    data.pop("schema")
    return {k: v for k, v in data.items() if v not in (None, [], {})}


def init(directory: Path, database_url: str, models: str, force: bool = False) -> Path:
    """Write a commented starter schemasync.yaml; never overwrite one without --force."""
    path = directory / DEFAULT_CONFIG
    if path.exists() and not force:
        raise RefusedError(f"{path.name} already exists (use --force to overwrite it)")
    path.write_text(starter_config(database_url, models))
    return path


