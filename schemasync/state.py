"""The `schema_state` table: one row per apply, in the target database, created on first apply.

It records the plan and its SQL, the fingerprints, the snapshot of the schema before the apply
(for rollback), which tables the apply left managed, and how it ended. On dialects without
transactional DDL the row is written first and advanced step by step, so a failure says exactly
where the database was left.
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from schemasync import __version__
from schemasync.backup import BACKUP_PREFIX, Requirement
from schemasync.errors import PlanError
from schemasync.scope import FILL_PROGRESS_TABLE, STATE_TABLE, parse_table_key
from schemasync.snapshot import TableKey

LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

RUNNING, APPLIED, FAILED = "running", "applied", "failed"
LARGE_COLUMNS = ("operations", "sql", "snapshot_before", "snapshot_after")
PIECE = 4_000_000  # characters per statement: well under MySQL's default max_allowed_packet
# An apply whose changes a later rollback undid.
ROLLED_BACK = "rolled back"
# A row left `running` by a session that ended mid-way (killed, connection lost): `steps_done` says
# how far it got. Only where statements commit one by one (MariaDB/MySQL) can such a row exist.
INTERRUPTED = "interrupted"
INTERRUPTED_ERROR = "interrupted: the session running it ended before it finished (killed or disconnected)"

_metadata = sa.MetaData()
state_table = sa.Table(
    STATE_TABLE,
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("plan_hash", sa.String(80), nullable=False),
    sa.Column("source_fingerprint", sa.String(80), nullable=False),
    sa.Column("target_fingerprint", sa.String(80), nullable=False),
    sa.Column("operations", LongText, nullable=False),
    sa.Column("sql", LongText, nullable=False),
    sa.Column("snapshot_before", LongText, nullable=False),
    sa.Column("snapshot_after", LongText, nullable=False),
    sa.Column("managed_tables", LongText, nullable=False),
    sa.Column("backups", LongText, nullable=False),
    sa.Column("steps_total", sa.Integer, nullable=False),
    sa.Column("steps_done", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("applied_by", sa.String(200), nullable=False),
    sa.Column("tool_version", sa.String(32), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=True),
    comment="schemasync: one row per apply; see docs/concepts.md",
)

# How far each fill by key got (online.FillRowsByKey), one row per column, written in the same
# transaction as each batch: the key the fill ends at (the largest when it began) and the last key it
# filled, as text (online.key_text), under the id of the apply that began it. Created when first needed.
fill_progress_table = sa.Table(
    FILL_PROGRESS_TABLE,
    _metadata,
    sa.Column("table_name", sa.String(200), primary_key=True),
    sa.Column("column_name", sa.String(64), primary_key=True),
    sa.Column("state_id", sa.Integer, nullable=False),
    sa.Column("last_key", sa.Text, nullable=True),
    sa.Column("done_key", sa.Text, nullable=True),
    sa.Column("rows_filled", sa.BigInteger, nullable=False),
    comment="schemasync: how far each fill by key got; see docs/data-changes.md",
)


@dataclass(frozen=True)
class StateRow:
    id: int
    kind: str
    status: str
    plan_hash: str
    source_fingerprint: str
    target_fingerprint: str
    managed_tables: tuple[TableKey, ...]
    steps_total: int
    steps_done: int
    error: str | None
    applied_by: str
    tool_version: str
    started_at: datetime
    duration_ms: int | None
    # What the row's plan kept and renamed (backup.py records).
    backups: list[dict[str, Any]] = field(default_factory=list)
    # The large JSON columns as stored (operations, snapshot_after, snapshot_before), parsed on first
    # use: a plan reads none of them, and at 5,000 tables they are megabytes.
    # A dict, or _DeferredTexts (rows_since_last_applied): read with .get(name) only.
    stored: Any = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def operations(self) -> list[dict[str, Any]]:
        return json.loads(self.stored.get("operations") or "[]")

    @cached_property
    def snapshot_after(self) -> dict[str, Any]:
        return json.loads(self.stored.get("snapshot_after") or "{}")

    @cached_property
    def snapshot_before(self) -> dict[str, Any]:
        """The schema before the apply (for rollback)."""
        return json.loads(self.stored.get("snapshot_before") or "{}")


def exists(connection: sa.Connection, schema: str | None = None) -> bool:
    return sa.inspect(connection).has_table(STATE_TABLE, schema=schema)


def ensure(connection: sa.Connection) -> None:
    """Create the table on first use (its own short transaction)."""
    with connection.begin():
        state_table.create(connection, checkfirst=True)


def ensure_fill_progress(connection: sa.Connection) -> None:
    """Create the fill progress table on first use (its own short transaction)."""
    with connection.begin():
        fill_progress_table.create(connection, checkfirst=True)


def who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def start(connection: sa.Connection, kind: str, plan: Any, snapshot_before: dict[str, Any], snapshot_after: dict[str, Any]) -> int:
    """Insert the row for an apply that is about to run; returns its id."""
    values = {
        "id": _free_id(connection, getattr(plan, "record_id", None)),
        "kind": kind,
        "status": RUNNING,
        "plan_hash": plan.hash,
        "source_fingerprint": plan.source_fingerprint,
        "target_fingerprint": plan.target_fingerprint,
        "operations": json.dumps([s.to_dict() for s in plan.steps]),
        "sql": "\n".join(s.rstrip(";") + ";" for s in plan.statements),
        "snapshot_before": json.dumps(snapshot_before, sort_keys=True),
        "snapshot_after": json.dumps(_with_built_from(snapshot_after, plan), sort_keys=True),
        "managed_tables": json.dumps(list(plan.target_tables)),
        "backups": json.dumps(list(getattr(plan, "undo", ()))),
        "steps_total": len(plan.statements),
        "steps_done": 0,
        "applied_by": who(),
        "tool_version": __version__,
        "started_at": datetime.now(UTC).replace(tzinfo=None),
    }
    # Large texts go in after the row, a piece per statement: MySQL/MariaDB refuse a statement
    # longer than max_allowed_packet (16 MB by default; a plan of 5,000 tables writes more).
    large = {name: values[name] for name in LARGE_COLUMNS if len(values[name]) > PIECE}
    # A single-row INSERT always has its key; SQLAlchemy types inserted_primary_key Optional for the other cases.
    row_id = connection.execute(state_table.insert().values(**{**values, **dict.fromkeys(large, "")})).inserted_primary_key[0]  # type: ignore[index]
    for name, text in large.items():
        column = state_table.c[name]
        for start in range(0, len(text), PIECE):
            connection.execute(state_table.update().where(state_table.c.id == row_id).values({column: column + text[start : start + PIECE]}))
    return row_id


# Where snapshot_after keeps what its target was built from (target_cache.TargetRecord): readers of
# the snapshot ignore a key that is not one of its fields, so older versions read such rows as before.
BUILT_FROM = "built_from"


def _with_built_from(snapshot_after: dict[str, Any], plan: Any) -> dict[str, Any]:
    record = getattr(plan, "built_from", None)
    return {**snapshot_after, BUILT_FROM: record.stored} if record is not None and snapshot_after else snapshot_after


def recorded_target(connection: sa.Connection, rows: int = 5) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """The newest recorded target that says what it was built from: (that record, the target's
    canonical form, its fingerprint). The database as the target cache (target_cache.py): any row's
    build serves, whatever became of its apply. Only the newest few rows are looked at."""
    if not exists(connection):
        return None
    newest = connection.execute(sa.select(state_table.c.id, state_table.c.target_fingerprint).order_by(state_table.c.id.desc()).limit(rows)).all()
    for row_id, fingerprint in newest:
        text = connection.execute(sa.select(state_table.c.snapshot_after).where(state_table.c.id == row_id)).scalar()
        if text and f'"{BUILT_FROM}"' in text:
            data = json.loads(text)
            del text  # 20 MB at 5,000 tables: not held beside what it parses into
            return data.pop(BUILT_FROM), data, fingerprint
    return None


def next_id(connection: sa.Connection) -> int:
    """The id the next row will get. Ids are given explicitly (not by a sequence) so that a plan can
    name its backup tables after the row it will be recorded as."""
    if not exists(connection):
        return 1
    return (connection.execute(sa.select(sa.func.max(state_table.c.id))).scalar() or 0) + 1


def _free_id(connection: sa.Connection, wanted: int | None) -> int:
    free = next_id(connection)
    if wanted is not None and wanted != free:
        raise PlanError(f"the plan was made to be recorded as schema_state #{wanted}, but #{free - 1} was recorded since: run `schemasync plan` again")
    return free


def set_status(connection: sa.Connection, row_id: int, status: str) -> None:
    connection.execute(state_table.update().where(state_table.c.id == row_id).values(status=status))


def set_backups(connection: sa.Connection, row_id: int, records: list[dict[str, Any]]) -> None:
    connection.execute(state_table.update().where(state_table.c.id == row_id).values(backups=json.dumps(records)))


def progress(connection: sa.Connection, row_id: int, steps_done: int) -> None:
    connection.execute(state_table.update().where(state_table.c.id == row_id).values(steps_done=steps_done))


def note(connection: sa.Connection, row_id: int, line: str | None) -> None:
    """How far a running step got (a batched fill's rows), in the row's `error` until it ends: what
    `history` shows for a row that is still running or was killed."""
    connection.execute(state_table.update().where(state_table.c.id == row_id).values(error=line))


def finish(connection: sa.Connection, row_id: int, status: str, duration_ms: int, error: str | None = None, steps_done: int | None = None) -> None:
    values: dict[str, Any] = {"status": status, "duration_ms": duration_ms, "error": error}
    if steps_done is not None:
        values["steps_done"] = steps_done
    connection.execute(state_table.update().where(state_table.c.id == row_id).values(**values))


def record_outcome(connection: sa.Connection, row_id: int, status: str, error: str | None) -> None:
    """How an unfinished row ended, as recovery.resolve judged it under the migration lock."""
    connection.execute(state_table.update().where(state_table.c.id == row_id).values(status=status, error=error))


def settled(found: list[StateRow], lock_free: bool) -> list[StateRow]:
    """The rows as they stand: when no session holds the migration lock, a `running` row is interrupted
    (shown so without writing: reading needs no write access)."""
    if not lock_free:
        return found
    return [replace(row, status=INTERRUPTED, error=INTERRUPTED_ERROR + (f"; {row.error}" if row.error else "")) if row.status == RUNNING else row
            for row in found]  # `error` of a running row: how far its step got (note)


def rows(connection: sa.Connection) -> list[StateRow]:
    """Every recorded apply, newest first (none when the table does not exist yet)."""
    if not exists(connection):
        return []
    result = connection.execute(sa.select(state_table).order_by(state_table.c.id.desc()))
    return [_row(r) for r in result.mappings()]


def recorded_schemas(connection: sa.Connection) -> set[str | None]:
    """The schemas of every table any recorded apply managed (only the small managed_tables column is read)."""
    if not exists(connection):
        return set()
    texts = connection.execute(sa.select(state_table.c.managed_tables)).scalars()
    return {parse_table_key(name)[0] for text in texts for name in json.loads(text or "[]")}


def rows_since_last_applied(connection: sa.Connection) -> list[StateRow]:
    """The newest rows, newest first, back to and including the newest apply that completed (all of
    them when none has): what a plan needs (that apply, and any rollback or unfinished row after it),
    without reading the whole history on every `plan` and `check`."""
    if not exists(connection):
        return []
    newest = sa.select(sa.func.max(state_table.c.id)).where(state_table.c.status == APPLIED).scalar_subquery()
    small = [c for c in state_table.c if c.name not in _TEXTS]
    query = sa.select(*small).where(state_table.c.id >= sa.func.coalesce(newest, 0)).order_by(state_table.c.id.desc())
    return [_row(r, _DeferredTexts(connection.engine, r["id"])) for r in connection.execute(query).mappings()]


_TEXTS = ("operations", "snapshot_after", "snapshot_before")


class _DeferredTexts:
    """A row's large JSON texts, read from the database when first asked for: a plan needs none of
    them, `check` one, and at 5,000 tables they are three texts of 15-20 MB each."""

    def __init__(self, engine: sa.Engine, row_id: int) -> None:
        self._engine, self._id = engine, row_id
        self._texts: dict[str, str | None] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        if self._texts is None:
            with self._engine.connect() as connection:
                found = connection.execute(sa.select(*[state_table.c[n] for n in _TEXTS]).where(state_table.c.id == self._id)).mappings().one()
            self._texts = dict(found)
        return self._texts.get(name, default)


def last_applied(connection: sa.Connection) -> StateRow | None:
    """The newest apply that completed: it defines what is managed and what the schema should be."""
    if not exists(connection):
        return None
    query = sa.select(state_table).where(state_table.c.status == APPLIED).order_by(state_table.c.id.desc()).limit(1)
    found = connection.execute(query).mappings().first()
    return _row(found) if found is not None else None


def _row(data: Any, texts: _DeferredTexts | None = None) -> StateRow:
    return StateRow(
        id=data["id"],
        kind=data["kind"],
        status=data["status"],
        plan_hash=data["plan_hash"],
        source_fingerprint=data["source_fingerprint"],
        target_fingerprint=data["target_fingerprint"],
        managed_tables=tuple(parse_table_key(name) for name in json.loads(data["managed_tables"])),
        steps_total=data["steps_total"],
        steps_done=data["steps_done"],
        error=data["error"],
        applied_by=data["applied_by"],
        tool_version=data["tool_version"],
        started_at=data["started_at"],
        duration_ms=data["duration_ms"],
        backups=json.loads(data["backups"] or "[]"),
        stored=texts if texts is not None else {name: data[name] for name in _TEXTS},
    )


# --- the backup tables the rows point at -------------------------------------------------------------

def existing_backups(connection: sa.Connection, schemas: tuple[str | None, ...]) -> set[str]:
    """Names of the backup tables present in the given schemas (a fresh Inspector: DDL may have run)."""
    inspector = sa.inspect(connection)
    return {name for schema in schemas for name in inspector.get_table_names(schema=schema) if name.startswith(BACKUP_PREFIX)}


def backup_rows(connection: sa.Connection, schema: str | None, name: str) -> int:
    return connection.execute(sa.select(sa.func.count()).select_from(sa.table(name, schema=schema))).scalar() or 0


def drop_backup(connection: sa.Connection, schema: str | None, name: str) -> None:
    sa.Table(name, sa.MetaData(), schema=schema).drop(connection, checkfirst=True)


def rows_without_value(connection: sa.Connection, requirement: Requirement) -> int:
    """Rows of the requirement's table that would hold NULL once the kept values are restored:
    no kept value (or a NULL one) for their key, and none of their own."""
    key_columns = [c for c, _ in requirement.key]
    own = [requirement.column] if requirement.column else []
    table = sa.table(requirement.table[1], *[sa.column(c) for c in dict.fromkeys(key_columns + own)], schema=requirement.table[0]).alias("t")
    backup = sa.table(requirement.backup, *[sa.column(b) for b in dict.fromkeys([b for _, b in requirement.key] + [requirement.kept])], schema=requirement.table[0]).alias("b")
    match = sa.and_(*[backup.c[b] == table.c[c] for c, b in requirement.key])
    kept = sa.select(backup.c[requirement.kept]).where(match).scalar_subquery()
    after = sa.case((sa.exists().where(match), kept), else_=table.c[requirement.column] if requirement.column else sa.null())
    return connection.execute(sa.select(sa.func.count()).select_from(table).where(after.is_(None))).scalar() or 0
