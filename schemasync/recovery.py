"""An apply whose session ended mid-way (a SIGKILL, an OOM kill, a CI timeout) is resolved, not left hanging.

Where DDL is not transactional (MariaDB/MySQL) the server finishes the statement a killed client sent,
so the schema can be ahead of the row's `steps_done`. Under the migration lock, the next apply (or
rollback) compares the live schema with what that row recorded before and after it:
- all of it in place: the row becomes `applied`, marked recovered (its `error` says when);
- none of it: `failed`, nothing done;
- part of it: `interrupted`, with how far it got (the new plan continues from the live state).
Without the lock (`check`, `plan`, `history`) the same comparison is only reported, never written.
Where DDL is transactional (PostgreSQL, SQLite) a killed apply leaves no row at all: the
transaction, the row with it, was rolled back by the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from schemasync import state
from schemasync.data_changes import Unfinished
from schemasync.dialects import Dialect
from schemasync.errors import LockError
from schemasync.online import FillRowsByKey
from schemasync.operations import FillColumn
from schemasync.rollback import drifted
from schemasync.scope import parse_table_key
from schemasync.snapshot import Snapshot

RECOVERED = "recovered"


@dataclass(frozen=True)
class Outcome:
    """What an unfinished row turned out to be: its new status and the line that says so."""

    row: state.StateRow
    status: str
    line: str


def judge(row: state.StateRow, live: Snapshot) -> Outcome:
    """Compare the live schema with what `row` recorded before (source) and after (target) its plan."""
    where = f"apply #{row.id}" if row.kind == "apply" else f"{row.kind} #{row.id}"
    if row.kind == "apply" and not drifted(live, row) and not _data_steps_left(row):
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return Outcome(row, state.APPLIED, f"{where} was interrupted, but every change it made is in place: recorded as applied ({RECOVERED} {now})")
    if _before_keys(row) is not None and live.only(_before_keys(row) or set()).fingerprint() == row.source_fingerprint:
        return Outcome(row, state.FAILED, f"{where} was interrupted before any change took effect: recorded as failed, nothing was done")
    done = f"step {row.steps_done}/{row.steps_total}" if row.steps_total else "no step"
    got = f" ({row.error})" if row.error and row.status == state.RUNNING else ""  # how far a batched fill got (state.note)
    return Outcome(row, state.INTERRUPTED, f"{where} was interrupted after {done}{got}: part of it is in place; the plan continues from the live schema")


def _before_keys(row: state.StateRow) -> set | None:
    """The tables, views and objects the row's source fingerprint covers (what its snapshot before holds)."""
    if not row.snapshot_before:
        return None
    before = Snapshot.from_dict(row.snapshot_before)
    return {t.key for t in before.tables} | {v.key for v in before.views} | before.object_keys()


def _data_steps_left(row: state.StateRow) -> bool:
    """Whether a step that moves rows (a restore, a declared fill) may not have run: the schema alone cannot show it."""
    done = 0
    for operation in row.operations:
        done += len(operation.get("sql", []))
        if done > row.steps_done and str(operation.get("op", "")).startswith(("restore_", "fill_")):
            return True
    return False


def unfinished_fills(rows: list[state.StateRow]) -> list[Unfinished]:
    """The declared fills that applies since the last completed one began and did not finish (killed,
    or failed, mid-fill): the next plan fills the rest (data_changes.resumed_fills). A batched fill
    commits as it goes, and a nullable column (or a NOT NULL one added with its default and filled by
    key) stays as the models want it, so only these rows say that its fill is not done; a fill by key
    is named with its row's id, under which its progress is kept."""
    found = []
    for row in rows:
        if row.kind != "apply" or row.status not in (state.RUNNING, state.INTERRUPTED, state.FAILED) or row.steps_done >= row.steps_total:
            continue  # (its recorded steps, a large text, are read only for a row that stopped part-way)
        done = 0
        for operation in row.operations:
            done += len(operation.get("sql", []))
            table = str(operation.get("table", ""))
            by_key = operation.get("op") == FillRowsByKey.op
            column = FillColumn.column_in_summary(str(operation.get("summary", "")), table) if operation.get("op") in (FillColumn.op, FillRowsByKey.op) else None
            if column is not None and done > row.steps_done:
                found.append(Unfinished(parse_table_key(table), column, (row.id,) if by_key else ()))
    return found


def unfinished(rows: list[state.StateRow]) -> list[state.StateRow]:
    """Rows whose session ended before it recorded how the run ended."""
    return [row for row in rows if row.status in (state.RUNNING, state.INTERRUPTED) and not _judged(row)]


def _judged(row: state.StateRow) -> bool:
    """An `interrupted` row written by recovery keeps its status: it was judged partial already."""
    return row.status == state.INTERRUPTED and (row.error or "").startswith(PARTIAL_ERROR)


PARTIAL_ERROR = "interrupted part-way"


def resolve(connection: sa.Connection, read_live: Callable[[sa.Connection], Snapshot]) -> list[str]:
    """Under the migration lock: judge every unfinished row and record the outcome; one line each."""
    if not state.exists(connection):
        return []
    rows = unfinished(state.rows(connection))
    if not rows:
        return []
    live = read_live(connection)
    lines = []
    for row in rows:
        outcome = judge(row, live)
        state.record_outcome(connection, row.id, outcome.status, _error_of(outcome))
        lines.append(outcome.line)
    return lines


def _error_of(outcome: Outcome) -> str:
    if outcome.status == state.APPLIED:
        return outcome.line[outcome.line.index(RECOVERED):].rstrip(")")
    if outcome.status == state.FAILED:
        return "interrupted before any change took effect"
    return f"{PARTIAL_ERROR}: {outcome.line}"


def in_progress(connection: sa.Connection, dialect: Dialect) -> str | None:
    """When another session holds the migration lock: what it is doing, in one line (never waits)."""
    if dialect.migration_lock_free(connection):
        return None
    running = next((row for row in state.rows_since_last_applied(connection) if row.status == state.RUNNING), None) if state.exists(connection) else None
    holder = dialect.lock_holder(connection)
    connection.rollback()
    if running is None:
        return f"an apply is in progress (it holds the migration lock: {holder or 'another session'})"
    started = running.started_at.replace(tzinfo=UTC) if running.started_at.tzinfo is None else running.started_at
    age = max(0, round((datetime.now(UTC) - started).total_seconds()))
    step = f"step {min(running.steps_done + 1, running.steps_total)}/{running.steps_total}" if running.steps_total else "starting"
    return f"{running.kind} #{running.id} in progress, {step}, started {age} s ago" + (f" ({holder})" if holder else "")


def settle(engine: sa.Engine, dialect: Dialect, read_live: Callable[[sa.Connection], Snapshot], timeout: float,
           on_wait: Callable[[str], None] = lambda line: None) -> tuple[str, ...]:
    """Take the migration lock before anything is read (waiting up to `timeout`, saying for whom),
    resolve the rows of runs that ended mid-way, and give the lock back: one line per row resolved."""
    with engine.connect() as connection:
        if not state.exists(connection):
            return ()
        busy = in_progress(connection, dialect)
        connection.rollback()  # the lock's own transaction starts clean
        if busy:
            on_wait(f"waiting up to {timeout:g} s for the migration lock: {busy}")
        try:
            with dialect.migration_transaction(connection, timeout):
                return tuple(resolve(connection, read_live))
        except LockError:
            connection.rollback()
            holder = in_progress(connection, dialect) or busy or "another schemasync run"
            raise LockError(f"the migration lock is held: {holder}; waited {timeout:g} s (try again when it finishes)") from None
