"""Many targets at once: one job per target, side by side, each one isolated from the others.

A target is a named database, or a schema of one (schema-per-tenant). Each job opens its own
engine, makes its own plan, takes its own migration lock and writes its own `schema_state`, so
the runner only schedules: it never shares a connection, and an exception in one job is kept as
that target's outcome while the others carry on. Threads suffice: the work is mostly waiting on
the servers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from schemasync.apply import apply_plan
from schemasync.config import Settings, TargetSpec
from schemasync.database import database_errors, load_models, open_target
from schemasync.errors import ConfigError, RefusedError
from schemasync.plan import Plan
from schemasync.scope import parse_table_key
from schemasync.workflow import (
    ApplyReport,
    PlanReport,
    check_with,
    online_run,
    plan_on,
    refuse_unallowed,
)

Result = TypeVar("Result")

STARTED, FINISHED, FAILED = "started", "finished", "failed"


@dataclass(frozen=True)
class Outcome(Generic[Result]):
    """What one target's job returned, or the exception that stopped it, and how long it took."""

    name: str
    result: Result | None
    error: BaseException | None
    duration_ms: int

    @property
    def failed(self) -> bool:
        return self.error is not None


def run_each(
    names: Sequence[str],
    job: Callable[[str], Result],
    parallel: int = 1,
    on_event: Callable[[str, str], None] = lambda name, event: None,
) -> list[Outcome[Result]]:
    """Run `job(name)` for every name, at most `parallel` at a time; outcomes in the names' order."""

    def one(name: str) -> Outcome[Result]:
        started = time.monotonic()
        on_event(name, STARTED)
        try:
            result, error = job(name), None
        except Exception as caught:  # noqa: BLE001  (kept as this target's outcome; the others go on)
            result, error = None, caught
        on_event(name, FAILED if error else FINISHED)
        return Outcome(name, result, error, int((time.monotonic() - started) * 1000))

    if parallel <= 1 or len(names) <= 1:
        return [one(name) for name in names]
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="schemasync-target") as pool:
        return list(pool.map(one, names))


@dataclass(frozen=True)
class TargetsReport:
    """One outcome per target (its report, or the error that stopped it), in the configured order."""

    outcomes: tuple[Outcome[Any], ...]

    @property
    def failed(self) -> bool:
        return any(o.failed for o in self.outcomes)


def chosen_targets(settings: Settings) -> tuple[TargetSpec, ...]:
    if not settings.targets:
        raise ConfigError("--all-targets: the config lists no targets (add `targets:` to schemasync.yaml)")
    return settings.targets


def plan_targets(settings: Settings, parallel: int, on_event: Callable[[str, str], None]) -> TargetsReport:
    """`plan` for every configured target, `parallel` at a time."""
    models = _models_of_targets(settings)  # imported once, before any thread

    def one(spec: TargetSpec) -> PlanReport:
        with open_target(settings.for_target(spec)) as target, database_errors(target):
            return plan_on(target, models[spec.name], settings.online, settings.fill_batch_size)

    return _each(settings, one, parallel, on_event)


def check_targets(settings: Settings, parallel: int, on_event: Callable[[str, str], None], lock_path: Path | None = None) -> TargetsReport:
    """`check` for every configured target; each reports pending changes, drift and the lock."""
    models = _models_of_targets(settings)
    return _each(settings, lambda spec: check_with(settings.for_target(spec), models[spec.name], lock_path), parallel, on_event)


def _models_of_targets(settings: Settings) -> dict[str, sa.MetaData]:
    """Each target's models by its name: the settings' models, or the target's own (a Flask bind's)."""
    loaded: dict[str | None, sa.MetaData] = {}
    for spec in chosen_targets(settings):
        if spec.models not in loaded:
            loaded[spec.models] = load_models(settings.for_target(spec))
    return {spec.name: loaded[spec.models] for spec in chosen_targets(settings)}


def apply_targets(
    settings: Settings,
    confirm: Callable[[list[tuple[str, Plan]]], bool],
    allow_destructive: bool,
    parallel: int,
    on_event: Callable[[str, str], None],
    allow_mass_drop: bool = False,
) -> TargetsReport:
    """Plan every target, ask once for all of them, then apply each plan; a target whose planning
    failed or whose plan is refused (destructive, mass drop) fails alone and the others are applied."""
    planned = plan_targets(settings, parallel, on_event)

    def allowed(plan: Plan) -> bool:
        return (allow_destructive or not plan.destructive_steps) and (not plan.mass_drop or (allow_destructive and allow_mass_drop))

    runnable = [(o.name, o.result.plan) for o in planned.outcomes if o.result is not None and o.result.plan.steps and allowed(o.result.plan)]
    if runnable and not confirm(runnable):
        raise RefusedError("apply cancelled; nothing was changed")
    plans = {o.name: o.result.plan for o in planned.outcomes if o.result is not None}

    def one(spec: TargetSpec) -> ApplyReport:
        plan = plans.get(spec.name)
        if plan is None:
            raise next(o.error for o in planned.outcomes if o.name == spec.name and o.error is not None)
        if not plan.steps:
            return ApplyReport(plan)
        refuse_unallowed(plan, allow_destructive, allow_mass_drop)
        with open_target(settings.for_target(spec)) as opened, database_errors(opened):
            target = opened.with_schemas(parse_table_key(name)[0] for name in plan.managed_tables)
            return ApplyReport(plan, apply_plan(target.engine, target.dialect, plan, target.read_live, settings.lock_timeout, online=online_run(settings)))

    return _each(settings, one, parallel, on_event)


def _each(settings: Settings, job: Callable[[TargetSpec], Any], parallel: int, on_event: Callable[[str, str], None]) -> TargetsReport:
    specs = {spec.name: spec for spec in chosen_targets(settings)}
    return TargetsReport(tuple(run_each(list(specs), lambda name: job(specs[name]), parallel, on_event)))


