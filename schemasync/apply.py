"""Run a plan against the database and record it in `schema_state`.

Under the migration lock the live schema is read again and must still be the one the plan was
made against. PostgreSQL and SQLite run the whole plan in one transaction (all or nothing; a
failure is recorded afterwards and the schema is untouched). MySQL/MariaDB commit each DDL
statement, so the state row is written first and advanced after every statement: a failure
records exactly how many statements ran, and `plan` shows what is left.

An online apply (online.py) commits as it goes too: each run of `transaction` steps in one short
transaction that gives up after the lock timeout and is tried again, each `online` step on its
own outside any transaction. What a failed online step leaves behind (an INVALID index, a NOT
VALID constraint) is dropped before the next try, and when giving up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import sqlalchemy as sa

from schemasync import fill_failure, recovery, state
from schemasync.dialects import Dialect
from schemasync.errors import ApplyError, PlanError, first_line
from schemasync.online import (
    BATCHED,
    BY_KEY_ROLES,
    ONLINE,
    TRANSACTION,
    FillRowsByKey,
    OnlineRun,
    key_from_text,
    key_text,
)
from schemasync.operations import FillColumn
from schemasync.plan import Plan, Step
from schemasync.render import driver_text
from schemasync.scope import parse_table_key
from schemasync.snapshot import Snapshot


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
    online: OnlineRun | None = None,
) -> ApplyResult:
    """Run every statement of `plan`; raise ApplyError (after recording it) when one fails.

    `kind` is what schema_state calls the row ("apply", "rollback"); `on_success` runs in the same
    transaction just before it commits (a rollback marks the apply it undid). `online`: run as an
    online apply (a plan made in online mode always is: its steps say so)."""
    if dialect.online_ddl and (online is not None or any(step.mode != TRANSACTION for step in plan.steps)):
        return _apply_online(engine, dialect, plan, read_live, lock_timeout, on_statement, kind, on_success, online or OnlineRun())
    started = time.monotonic()
    statements = plan.statements
    step_of = [index for index, step in enumerate(plan.steps) for _ in step.sql]
    with engine.connect() as connection:
        state.ensure(connection)
        progress = _Progress()
        try:
            with dialect.migration_transaction(connection, lock_timeout):
                recovery.resolve(connection, read_live)  # we hold the lock: a running row's session is gone
                before = _verify_source(connection, plan, read_live)
                fills = _fills(plan, before)
                progress.row_id = state.start(connection, kind, plan, before.to_dict(), plan.target)
                dialect.commit_progress(connection)
                for number, statement in enumerate(statements, 1):
                    progress.current = statement
                    on_statement(number, statement)
                    with _explained(connection, fills.get(step_of[number - 1], ()), dialect.transactional_ddl):
                        connection.exec_driver_sql(driver_text(statement, dialect))
                    progress.done = number
                    if not dialect.transactional_ddl:
                        state.progress(connection, progress.row_id, number)
                        dialect.commit_progress(connection)
                dialect.after_apply_check(connection)
                on_success(connection, progress.row_id)
                state.finish(connection, progress.row_id, state.APPLIED, _ms(started), steps_done=len(statements))
        except sa.exc.DBAPIError as error:
            raise _record_failure(connection, dialect, plan, progress, first_line(error), started, kind) from None
        except ApplyError as error:
            raise _record_failure(connection, dialect, plan, progress, str(error), started, kind) from None
        return ApplyResult(progress.row_id, len(statements), _ms(started))


def _fills(plan: Plan, live: Snapshot) -> dict[int, tuple[fill_failure.Fill, ...]]:
    """Per step, the declared fills its failure is explained by; none for a plan read from a file
    (it keeps its steps, not their operations)."""
    return fill_failure.fills_by_step(plan.operations, live) if len(plan.operations) == len(plan.steps) else {}


@contextmanager
def _explained(connection: sa.Connection, fills: tuple[fill_failure.Fill, ...], savepoint: bool) -> Iterator[None]:
    """A statement of a declared fill (or of the NOT NULL after it): when it fails, the error says how
    many rows the fill could not fill and the first of them (fill_failure.py). Where DDL is
    transactional the statement runs in a savepoint, so the rows are counted as the apply left them."""
    if not fills:
        yield
        return
    point = connection.begin_nested() if savepoint else None
    try:
        yield
    except sa.exc.DBAPIError as error:
        if point is not None:
            point.rollback()
        raise ApplyError(fill_failure.explain(connection, fills, first_line(error))) from None
    if point is not None:
        point.commit()


@dataclass
class _Progress:
    row_id: int | None = None
    done: int = 0
    current: str = ""
    # The number of the statement that was running (an online apply's batches run several).
    running: int = 0
    # How far the batched fill running now got (committed batches), for its failure's message.
    filled: str | None = None
    # The keys of the rows a fill by key has still to fill (first, last), for its failure's explanation.
    left: tuple[tuple, tuple] | None = None


def _verify_source(connection: sa.Connection, plan: Plan, read_live: Callable[[sa.Connection], Snapshot]) -> Snapshot:
    live = read_live(connection).only({parse_table_key(name) for name in plan.managed_tables})
    if live.fingerprint() != plan.source_fingerprint:
        raise PlanError("the live schema is no longer the one this plan was made against (another apply or a manual change?): run `schemasync plan` again")
    return live


def _record_failure(connection: sa.Connection, dialect: Dialect, plan: Plan, progress: _Progress, reason: str, started: float, kind: str = "apply",
                    atomic: bool | None = None) -> ApplyError:
    """Write the failed row (the apply's own row was rolled back with it where DDL is transactional).

    `atomic`: whether the apply ran in one transaction (default: where DDL is transactional)."""
    atomic = dialect.transactional_ddl if atomic is None else atomic
    total = len(plan.statements)
    kept = 0 if atomic else progress.done
    if connection.in_transaction():
        connection.rollback()
    with connection.begin():
        if atomic or progress.row_id is None:
            progress.row_id = state.start(connection, kind, plan, {}, {})
        state.finish(connection, progress.row_id, state.FAILED, _ms(started), error=reason, steps_done=kept)
    step = f"statement {max(progress.running, progress.done + 1)} of {total}"
    if atomic:
        where = "nothing was changed (the transaction was rolled back)"
    else:
        where = f"{kept} of {total} statements were applied and committed; run `schemasync plan` to see what is left"
    return ApplyError(f"{step} failed: {reason}; {where} [schema_state id {progress.row_id}]")


# --- online apply ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """Statements that run together: a transaction of them, or one online statement on its own."""

    statements: tuple[str, ...]
    online: bool
    # A batched fill (online.FillColumnInBatches): its four statements, run range by range.
    batched: str | None = None
    # The declared fills a failure of the unit is explained by (fill_failure.py).
    fills: tuple[fill_failure.Fill, ...] = ()
    # A transaction no other step shares (a fill that is one UPDATE).
    alone: bool = False
    # A batched fill by key (online.FillRowsByKey): its statements by role (online.BY_KEY_ROLES).
    by_key: bool = False


def _units(steps: tuple[Step, ...], transactional_ddl: bool, fills: dict[int, tuple[fill_failure.Fill, ...]] | None = None) -> list[_Unit]:
    """Consecutive `transaction` steps share a transaction (where DDL is transactional); every
    other statement is a unit of its own (a batched fill's four are one). Plan order is kept: a
    step may need the one before it. `fills`: per step index, the fills its failure is explained by."""
    units: list[_Unit] = []
    for index, step in enumerate(steps):
        explained = (fills or {}).get(index, ())
        if step.mode == BATCHED:
            units.append(_Unit(step.sql, False, step.summary, explained, by_key=step.op == FillRowsByKey.op))
            continue
        online = step.mode == ONLINE
        if step.op == FillColumn.op:  # a fill in one UPDATE (no key to batch by): a transaction of its own
            units.append(_Unit(step.sql, False, fills=explained, alone=True))
            continue
        for sql in step.sql:
            if units and transactional_ddl and not online and not units[-1].online and units[-1].batched is None and not units[-1].alone:
                units[-1] = _Unit(units[-1].statements + (sql,), False, fills=tuple(dict.fromkeys(units[-1].fills + explained)))
            else:
                units.append(_Unit((sql,), online, fills=explained))
    return units


def _apply_online(
    engine: sa.Engine,
    dialect: Dialect,
    plan: Plan,
    read_live: Callable[[sa.Connection], Snapshot],
    lock_timeout: float,
    on_statement: Callable[[int, str], None],
    kind: str,
    on_success: Callable[[sa.Connection, int], None],
    run: OnlineRun,
) -> ApplyResult:
    """The plan unit by unit under a session-held migration lock; the state row advances with each commit."""
    started = time.monotonic()
    total = len(plan.statements)
    with engine.connect() as connection:
        state.ensure(connection)
        progress = _Progress()
        try:
            with dialect.session_lock(connection, lock_timeout):
                with connection.begin():
                    recovery.resolve(connection, read_live)  # we hold the lock: a running row's session is gone
                    before = _verify_source(connection, plan, read_live)
                    progress.row_id = state.start(connection, kind, plan, before.to_dict(), plan.target)
                    known = dialect.online_leftovers(connection)
                    fills = _fills(plan, before)
                if any(step.op == FillRowsByKey.op for step in plan.steps):
                    state.ensure_fill_progress(connection)
                for unit in _units(plan.steps, dialect.transactional_ddl, fills):
                    _run_unit(connection, dialect, unit, progress, run, known, on_statement)
                with connection.begin():
                    dialect.after_apply_check(connection)
                    on_success(connection, progress.row_id)
                    state.finish(connection, progress.row_id, state.APPLIED, _ms(started), steps_done=total)
        except ApplyError as error:
            raise _record_failure(connection, dialect, plan, progress, str(error), started, kind, atomic=False) from None
        except sa.exc.DBAPIError as error:  # outside a step: recording progress, or the final commit
            raise _record_failure(connection, dialect, plan, progress, first_line(error), started, kind, atomic=False) from None
        return ApplyResult(progress.row_id, total, _ms(started))


def _run_unit(connection: sa.Connection, dialect: Dialect, unit: _Unit, progress: _Progress, run: OnlineRun,
              known: frozenset[tuple[str, ...]], on_statement: Callable[[int, str], None]) -> None:
    """Run one unit, trying again (after a pause) when it gave up waiting for a lock; what a failed
    try left behind is dropped first. Raises ApplyError with the reason when it cannot be done."""
    for attempt in range(1, run.attempts + 1):
        try:
            _run_once(connection, dialect, unit, progress, run, on_statement)
            return
        except sa.exc.DBAPIError as error:
            reason = dialect.explain_failure(error) or first_line(error)
            cleaned = _clean_up(connection, dialect, known)
            retry = dialect.is_lock_timeout(error) and attempt < run.attempts
            if not retry:
                if dialect.is_lock_timeout(error):
                    reason += f" (gave up after {attempt} attempt{'s' if attempt > 1 else ''}, waiting at most {run.lock_timeout:g}s each)"
                elif unit.fills:
                    left = progress.left
                    reason = fill_failure.explain(connection, tuple(replace(f, rows=left) for f in unit.fills) if left else unit.fills, reason)
                if progress.filled:
                    reason += f"; before it failed, {progress.filled} (committed)"
                raise ApplyError(reason + "".join(f"; {note}" for note in cleaned)) from None
            time.sleep(run.backoff(attempt))


def _run_once(connection: sa.Connection, dialect: Dialect, unit: _Unit, progress: _Progress, run: OnlineRun,
              on_statement: Callable[[int, str], None]) -> None:
    assert progress.row_id is not None, "the schema_state row is written before any unit runs"
    if unit.by_key:
        _run_by_key(connection, dialect, unit, progress, run, on_statement)
        return
    if unit.batched is not None:
        _run_batched(connection, dialect, unit, progress, run, on_statement)
        return
    if unit.online:
        with _autocommit(connection):
            for sql in unit.statements:
                _execute(connection, dialect, progress, progress.done + 1, sql, on_statement)
                progress.done += 1
        with connection.begin():
            state.progress(connection, progress.row_id, progress.done)
        return
    first = progress.done + 1
    with connection.begin():
        timeout = dialect.lock_timeout_sql(run.lock_timeout)
        if timeout:
            connection.exec_driver_sql(timeout)
        for number, sql in enumerate(unit.statements, first):
            _execute(connection, dialect, progress, number, sql, on_statement)
        state.progress(connection, progress.row_id, first - 1 + len(unit.statements))
    progress.done = first - 1 + len(unit.statements)


def _run_batched(connection: sa.Connection, dialect: Dialect, unit: _Unit, progress: _Progress, run: OnlineRun,
                 on_statement: Callable[[int, str], None]) -> None:
    """A fill range by range, each range its own short transaction; the state row says how far it got
    after every range (`history`, and recovery after a kill). Rows already filled are skipped (only
    NULLs are touched), so a retry or a resumed apply starts over safely."""
    first, bound, update, after = (sa.text(sql) for sql in unit.statements)
    progress.running, progress.current = progress.done + 1, unit.statements[2]
    with connection.begin():
        low = _key(connection.execute(first).first())

    def fill_range(low: tuple, filled: int) -> tuple[tuple, int, tuple | None]:
        high = _key(connection.execute(bound, _bound("low", low)).first())
        assert high is not None, "a range starting at an existing key has a last key"
        filled += connection.execute(update, {**_bound("low", low), **_bound("high", high)}).rowcount or 0
        return high, filled, _key(connection.execute(after, _bound("high", high)).first())

    _fill_ranges(connection, dialect, unit, progress, run, on_statement, low, 0, fill_range)


def _run_by_key(connection: sa.Connection, dialect: Dialect, unit: _Unit, progress: _Progress, run: OnlineRun,
                on_statement: Callable[[int, str], None]) -> None:
    """A fill by key (online.FillRowsByKey): the progress kept for it continued, or begun (the last key
    now, recorded); then range by range up to that key, each range its own short transaction that
    records the last key it filled with the rows it filled. A retry or a resumed apply continues after
    the last range committed: no row is filled twice, none a writer changed after its range."""
    assert progress.row_id is not None, "the schema_state row is written before any unit runs"
    sql = {role: sa.text(text) for role, text in zip(BY_KEY_ROLES, unit.statements, strict=True)}
    progress.running, progress.current = progress.done + 1, unit.statements[BY_KEY_ROLES.index("update")]
    own = {"state_id": progress.row_id}
    with connection.begin():
        kept = connection.execute(sql["progress"], own).first()
        if kept is None:
            last, done, filled = _key(connection.execute(sql["last"]).first()), None, 0
            connection.execute(sql["forget"])
            connection.execute(sql["begin"], {**own, "last_key": key_text(last)})
        else:
            last, done, filled = key_from_text(kept[0]), key_from_text(kept[1]), kept[2]
        start = (sql["first"], {}) if done is None else (sql["after"], _bound("high", done))
        low = _key(connection.execute(start[0], {**start[1], **_bound("last", last)}).first()) if last is not None else None

    def fill_range(low: tuple, filled: int) -> tuple[tuple, int, tuple | None]:
        assert last is not None, "a fill with a first range has a last key"
        progress.left = (low, last)
        high = _key(connection.execute(sql["bound"], {**_bound("low", low), **_bound("last", last)}).first())
        assert high is not None, "a range starting at an existing key has a last key"
        filled += connection.execute(sql["update"], {**_bound("low", low), **_bound("high", high)}).rowcount or 0
        connection.execute(sql["record"], {"done": key_text(high), "rows": filled})
        return high, filled, _key(connection.execute(sql["after"], {**_bound("high", high), **_bound("last", last)}).first())

    _fill_ranges(connection, dialect, unit, progress, run, on_statement, low, filled, fill_range)


def _fill_ranges(connection: sa.Connection, dialect: Dialect, unit: _Unit, progress: _Progress, run: OnlineRun,
                 on_statement: Callable[[int, str], None], low: tuple | None, filled: int,
                 fill_range: Callable[[tuple, int], tuple[tuple, int, tuple | None]]) -> None:
    """The ranges of a batched fill from `low`, each its own short transaction under the lock timeout:
    `fill_range(low, filled)` fills one and gives its last key, the rows filled so far and the next
    range's start; the state row notes how far the fill got after each, with a pause between. Then
    the step is recorded done."""
    assert progress.row_id is not None, "the schema_state row is written before any unit runs"
    while low is not None:
        with connection.begin():
            timeout = dialect.lock_timeout_sql(run.lock_timeout)
            if timeout:
                connection.exec_driver_sql(timeout)
            high, filled, low = fill_range(low, filled)
            shown = high[0] if len(high) == 1 else f"({', '.join(map(str, high))})"
            progress.filled = f"{filled} rows filled, keys up to {shown}"
            line = f"{unit.batched}: {progress.filled}"
            state.note(connection, progress.row_id, line)
        on_statement(progress.running, line)
        if run.fill_pause and low is not None:
            time.sleep(run.fill_pause)
    with connection.begin():
        progress.done += len(unit.statements)
        state.progress(connection, progress.row_id, progress.done)
        state.note(connection, progress.row_id, None)
    progress.filled = progress.left = None


def _key(row: sa.Row | None) -> tuple | None:
    """A key read by a batched fill's statements (MIN/MAX give a row of NULLs where there is none)."""
    return None if row is None or all(value is None for value in row) else tuple(row)


def _bound(name: str, key: tuple) -> dict[str, object]:
    """A key's values as the batched statements' parameters: `:low`, or `:low_0, :low_1, ...` (render.py)."""
    return {name: key[0]} if len(key) == 1 else {f"{name}_{index}": value for index, value in enumerate(key)}


def _execute(connection: sa.Connection, dialect: Dialect, progress: _Progress, number: int, sql: str, on_statement: Callable[[int, str], None]) -> None:
    progress.running, progress.current = number, sql
    on_statement(number, sql)
    connection.exec_driver_sql(driver_text(sql, dialect))


@contextmanager
def _autocommit(connection: sa.Connection) -> Iterator[None]:
    """Statements that cannot run inside a transaction block (CREATE INDEX CONCURRENTLY)."""
    if connection.in_transaction():
        connection.commit()
    connection.execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.commit()
        connection.execution_options(isolation_level=connection.default_isolation_level)


def _clean_up(connection: sa.Connection, dialect: Dialect, known: frozenset[tuple[str, ...]]) -> list[str]:
    """Drop what failed online steps left (anything new since the apply began); say what was dropped."""
    try:
        if connection.in_transaction():
            connection.rollback()
        with _autocommit(connection):
            return [dialect.drop_leftover(connection, leftover) for leftover in sorted(dialect.online_leftovers(connection) - known)]
    except sa.exc.DBAPIError as error:
        return [f"looking for what it left behind failed too ({first_line(error)})"]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
