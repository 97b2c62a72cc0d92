"""Run a plan against the database and record it in `schema_state`.

Under the migration lock the live schema is read again and must still be the one the plan was
made against. PostgreSQL and SQLite run the whole plan in one transaction (all or nothing; a
failure is recorded afterwards and the schema is untouched). MySQL/MariaDB commit each DDL
statement, so the state row is written first and advanced as statements run (at most every
PROGRESS_INTERVAL seconds: an update per statement cost a quarter of the time of small DDL): a
failure records exactly how many statements ran, and `plan` shows what is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from schemasync import state
from schemasync.devdb import first_line
from schemasync.dialects import Dialect
from schemasync.errors import ApplyError, PlanError
from schemasync.plan import Plan
from schemasync.render import driver_text
from schemasync.scope import parse_table_key
from schemasync.snapshot import Snapshot

# How often a running apply on a server without transactional DDL writes how far it got.
PROGRESS_INTERVAL = 0.25


@dataclass(frozen=True)
class ApplyResult:
    state_id: int
    statements: int
    duration_ms: int


def apply_plan(
    engine: sa.Engine,
    dialect: Dialect,
    plan: Plan,
    read_live: Callable[[sa.Connection], Snapshot],
    lock_timeout: float,
    on_statement: Callable[[int, str], None] = lambda n, sql: None,
    kind: str = "apply",
    on_success: Callable[[sa.Connection, int], None] = lambda connection, row_id: None,
) -> ApplyResult:
    """Run every statement of `plan`; raise ApplyError (after recording it) when one fails.

    `kind` is what schema_state calls the row ("apply", "rollback"); `on_success` runs in the same
    transaction just before it commits (a rollback marks the apply it undid)."""
    started = time.monotonic()
    statements = plan.statements
    with engine.connect() as connection:
        state.ensure(connection)
        progress = _Progress()
        try:
            with dialect.migration_transaction(connection, lock_timeout):
                before = _verify_source(connection, plan, read_live)
                progress.row_id = state.start(connection, kind, plan, before.to_dict(), plan.target)
                progress.saved_at = time.monotonic()
                for number, statement in enumerate(statements, 1):
                    progress.current = statement
                    on_statement(number, statement)
                    connection.exec_driver_sql(driver_text(statement, dialect))
                    progress.done = number
                    if not dialect.transactional_ddl and time.monotonic() - progress.saved_at >= PROGRESS_INTERVAL:
                        state.progress(connection, progress.row_id, number)
                        progress.saved_at = time.monotonic()
                dialect.after_apply_check(connection)
                on_success(connection, progress.row_id)
                state.finish(connection, progress.row_id, state.APPLIED, _ms(started), steps_done=len(statements))
        except sa.exc.DBAPIError as error:
            raise _record_failure(connection, dialect, plan, progress, first_line(error), started, kind) from None
        except ApplyError as error:
            raise _record_failure(connection, dialect, plan, progress, str(error), started, kind) from None
        return ApplyResult(progress.row_id, len(statements), _ms(started))


@dataclass
class _Progress:
    row_id: int | None = None
    done: int = 0
    current: str = ""
    saved_at: float = 0.0


def _verify_source(connection: sa.Connection, plan: Plan, read_live: Callable[[sa.Connection], Snapshot]) -> Snapshot:
    live = read_live(connection).only({parse_table_key(name) for name in plan.managed_tables})
    if live.fingerprint() != plan.source_fingerprint:
        raise PlanError("the live schema is no longer the one this plan was made against (another apply or a manual change?): run `schemasync plan` again")
    return live


def _record_failure(connection: sa.Connection, dialect: Dialect, plan: Plan, progress: _Progress, reason: str, started: float, kind: str = "apply") -> ApplyError:
    """Write the failed row (the apply's own row was rolled back with it where DDL is transactional)."""
    total = len(plan.statements)
    kept = 0 if dialect.transactional_ddl else progress.done
    if connection.in_transaction():
        connection.rollback()
    with connection.begin():
        if dialect.transactional_ddl or progress.row_id is None:
            progress.row_id = state.start(connection, kind, plan, {}, {})
        state.finish(connection, progress.row_id, state.FAILED, _ms(started), error=reason, steps_done=kept)
    step = f"statement {progress.done + 1} of {total}"
    if dialect.transactional_ddl:
        where = "nothing was changed (the transaction was rolled back)"
    else:
        where = f"{kept} of {total} statements were applied and committed; run `schemasync plan` to see what is left"
    return ApplyError(f"{step} failed: {reason}; {where} [schema_state id {progress.row_id}]")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
