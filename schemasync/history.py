"""What schema_state remembers, and going back: history, rollback, prune.

Rollback is the ordinary pipeline fed the snapshot taken before an apply (see rollback.py); the
data an apply dropped comes back from the backup tables it kept (see backup.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from schemasync import backup, recovery, state
from schemasync import rollback as rollbacks
from schemasync.apply import ApplyResult, apply_plan
from schemasync.config import Settings
from schemasync.database import Target, database_errors, open_target
from schemasync.errors import ConfigError, RefusedError
from schemasync.plan import Plan
from schemasync.scope import parse_table_key
from schemasync.snapshot import Snapshot


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
    # With --sql: steps that could not be planned ahead (`cut` says why), after the ones shown.
    more: int = 0
    cut: str | None = None


@dataclass(frozen=True)
class PruneReport:
    dropped: tuple[KeptBackup, ...]
    kept_rows: int


def history(settings: Settings) -> HistoryReport:
    """Every apply and rollback, with the backup tables each holds and their size."""
    with open_target(settings) as target, database_errors(target):
        with target.engine.connect() as connection:
            rows = _rows(target, connection)
            existing = state.existing_backups(connection, target.scope.schemas)
            return HistoryReport(rows, {row.id: _kept(connection, row, existing) for row in rows})


def _rows(target: Target, connection: sa.Connection) -> list[state.StateRow]:
    """schema_state's rows, a `running` one shown as interrupted when no session holds the migration lock."""
    found = state.rows(connection)
    if any(row.status == state.RUNNING for row in found):
        return state.settled(found, target.dialect.migration_lock_free(connection))
    return found


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


def rollback(
    settings: Settings,
    confirm: Callable[[int, Plan], bool],
    to: int | None = None,
    sql_only: bool = False,
    on_statement: Callable[[int, str], None] = lambda n, sql: None,
) -> RollbackReport:
    """Undo the last apply (or every apply back to `to`, newest first), bringing kept data back.

    Every step is planned first, each from the schema the previous one leaves (rollback.plan_chain),
    so a step that would be refused stops the rollback before anything runs; `sql_only` shows them
    all. Each step is then planned again from the live schema when its turn comes, and runs."""
    with open_target(settings) as target, database_errors(target):
        if not sql_only:  # a run that ended mid-way is judged first: rollback undoes it as it really ended
            recovery.settle(target.engine, target.dialect, target.read_live, target.lock_timeout)
        queue, chain = _chain(target, to)
        if sql_only:
            steps = tuple(RollbackStep(row.id, plan) for row, plan in chain.steps)
            return RollbackReport(steps, sql_only=True, more=len(queue) - len(steps), cut=chain.cut)
        done: list[RollbackStep] = []
        for row in queue:
            chosen = _rollback_plan(target, row.id)
            if not confirm(row.id, chosen):
                what = f"{len(done)} apply(s) were rolled back" if done else "nothing was changed"
                raise RefusedError(f"rollback cancelled; {what}")

            def mark(connection: sa.Connection, own_id: int, undone: int = row.id) -> None:
                state.set_status(connection, undone, state.ROLLED_BACK)

            result = apply_plan(target.engine, target.dialect, chosen, target.read_live, settings.lock_timeout, on_statement, rollbacks.ROLLBACK, mark)
            done.append(RollbackStep(row.id, chosen, result))
        return RollbackReport(tuple(done))


def _chain(target: Target, to: int | None) -> tuple[list[state.StateRow], rollbacks.Chain]:
    """The applies to undo and the plans that would undo them one after the other (refused up front)."""
    with target.engine.connect() as connection:
        queue = rollbacks.to_undo(_rows(target, connection), to)
        live = target.read_live(connection)
        existing = state.existing_backups(connection, target.scope.schemas)
        chain = rollbacks.plan_chain(live, queue, target.dialect, state.next_id(connection), existing)
        first_row, first_plan = chain.steps[0]
        reason = rollbacks.refusal(live, first_row, first_plan, existing, _unfilled(connection, first_row, first_plan, live, existing))
    if reason:
        raise RefusedError(f"cannot roll back apply #{first_row.id}: {reason}")
    return queue, chain


def _unfilled(connection: sa.Connection, row: state.StateRow, plan: Plan, live: Snapshot, existing: set[str]) -> dict[str, int]:
    """For each NOT NULL column the plan restores values into: the rows that would have none."""
    needs = backup.requirements(plan.operations, rollbacks.target_before(row), live)
    return {need.shown: state.rows_without_value(connection, need) for need in needs if need.backup in existing}


def _rollback_plan(target: Target, row_id: int) -> Plan:
    """The way back from the live schema to before apply `row_id`; refused when it cannot be made safely."""
    with target.engine.connect() as connection:
        row = next(r for r in _rows(target, connection) if r.id == row_id)
        live = target.read_live(connection)
        record_id = state.next_id(connection)
        existing = state.existing_backups(connection, target.scope.schemas)
        chosen = rollbacks.plan_rollback(live, row, target.dialect, record_id)
        unfilled = _unfilled(connection, row, chosen, live, existing)
    reason = rollbacks.refusal(live, row, chosen, existing, unfilled)
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


