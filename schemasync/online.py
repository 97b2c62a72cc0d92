"""Online mode: the steps that change a busy table without blocking its writers. Pure values.

A step's `mode` says how apply runs it (the plan shows it, and the hash covers it):
- `transaction`: the usual way (PostgreSQL and SQLite: inside the plan's transaction).
- `online`: outside any transaction, one statement at a time, letting reads and writes go on:
  PostgreSQL's CREATE/DROP INDEX CONCURRENTLY and VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE
  only), MariaDB's check of the rows under a foreign key it added unchecked (a consistent read).
- `instant`, `inplace`: MySQL/MariaDB, the ALTER names its algorithm (ALGORITHM=INSTANT, or
  ALGORITHM=INPLACE with LOCK=NONE), so the server refuses rather than block writers.
- `copy`: MySQL/MariaDB, a change with no online form: the server copies the table and blocks writes.
- `batched`: a declared fill (data_changes.py) in ranges of the primary key, each range its own short
  transaction, with a pause between (PostgreSQL, MariaDB; `FillColumnInBatches`, and on MariaDB
  `FillRowsByKey`: a NOT NULL column added with its default at once, its rows there filled by key).

The operations below are the online forms of ordinary ones; they subclass them, so whatever asks
"is this an index build?" still gets the right answer. The dialect chooses them
(`Dialect.online_steps`); render.py spells them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar

from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddUnique,
    AlterColumn,
    CreateIndex,
    DropIndex,
    FillColumn,
    Operation,
    SetNotNullAfterFill,
    parse_type,
    qualified,
)
from schemasync.scope import FILL_PROGRESS_TABLE
from schemasync.snapshot import Check, Column, ForeignKey, Index, Snapshot, TableKey

TRANSACTION = "transaction"
ONLINE = "online"
INSTANT = "instant"
INPLACE = "inplace"
COPY = "copy"
BATCHED = "batched"
MODES = (TRANSACTION, ONLINE, INSTANT, INPLACE, COPY, BATCHED)

# How long a step waits for a strong lock, how many times it is tried, and the first pause between.
DEFAULT_LOCK_TIMEOUT = 2.0
DEFAULT_ATTEMPTS = 3
FIRST_BACKOFF = 1.0
# A batched fill's rows per batch (in the plan: its SQL says it) and its pause between batches.
DEFAULT_FILL_BATCH_SIZE = 10_000
DEFAULT_FILL_PAUSE = 0.0


@dataclass(frozen=True)
class OnlineRun:
    """How an online apply waits for locks: `lock_timeout` seconds per try, `attempts` tries,
    pausing `backoff(n)` seconds after the n-th failed one."""

    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    attempts: int = DEFAULT_ATTEMPTS
    first_backoff: float = FIRST_BACKOFF
    fill_pause: float = DEFAULT_FILL_PAUSE

    def backoff(self, attempt: int) -> float:
        return self.first_backoff * 2 ** (attempt - 1)


def is_online(op: Operation) -> bool:
    """Whether the operation runs outside the plan's transaction (PostgreSQL's online steps)."""
    return isinstance(op, (CreateIndexConcurrently, DropIndexConcurrently, ValidateConstraint, ValidateForeignKey))


# --- PostgreSQL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateIndexConcurrently(CreateIndex):
    """CREATE [UNIQUE] INDEX CONCURRENTLY: built while writes go on; a failed build leaves an INVALID index."""

    def summary(self) -> str:
        return super().summary() + " concurrently"


@dataclass(frozen=True)
class DropIndexConcurrently(DropIndex):
    def summary(self) -> str:
        return super().summary() + " concurrently"


@dataclass(frozen=True)
class AddForeignKeyNotValid(AddForeignKey):
    """ADD CONSTRAINT ... NOT VALID: new rows are checked at once, the old ones by the VALIDATE step after it."""

    def summary(self) -> str:
        return super().summary() + " NOT VALID"


@dataclass(frozen=True)
class AddCheckNotValid(AddCheck):
    def summary(self) -> str:
        return super().summary() + " NOT VALID"


@dataclass(frozen=True)
class AddUniqueUsingIndex(AddUnique):
    """ADD CONSTRAINT name UNIQUE USING INDEX name: the unique index was built concurrently just before."""

    def summary(self) -> str:
        return super().summary() + " using its index"


@dataclass(frozen=True)
class ValidateConstraint(Operation):
    """ALTER TABLE ... VALIDATE CONSTRAINT: scans the rows under SHARE UPDATE EXCLUSIVE (writes go on)."""

    op: ClassVar[str] = "validate_constraint"
    name: str
    kind: str

    def summary(self) -> str:
        return f"validate {self.kind} {self.name} on {qualified(self.table)}"

    def details(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class SetNotNullChecked(AlterColumn):
    """SET NOT NULL once a validated CHECK (col IS NOT NULL) proves it: PostgreSQL 12+ skips the scan."""

    def summary(self) -> str:
        return super().summary() + " (proved by a validated check)"


# --- every dialect with online DDL ------------------------------------------------------------------


@dataclass(frozen=True)
class FillColumnInBatches(FillColumn):
    """A declared fill in ranges of the primary key `key` (one column or several: keyset pagination on
    the tuple, in the key's order), `batch_size` rows each, every range its own short transaction
    (locks held for one batch only). Like FillColumn it touches only rows still NULL, so a resumed
    apply fills what is left and nothing twice."""

    key: tuple[str, ...] = ()
    batch_size: int = DEFAULT_FILL_BATCH_SIZE

    def summary(self) -> str:
        by = self.key[0] if len(self.key) == 1 else f"({', '.join(self.key)})"
        return super().summary() + f", in batches of {self.batch_size} rows by {by}"


def batched_fills(steps: list[tuple[Operation, str]], current: Snapshot, batch_size: int) -> tuple[list[tuple[Operation, str]], list[str]]:
    """Fills run in batches by their table's primary key; a table without one is filled by one
    UPDATE (its own transaction: apply never shares it), and a note says so."""
    found: list[tuple[Operation, str]] = []
    notes: list[str] = []
    for op, mode in steps:
        key = _key(current, op)
        if type(op) is FillColumn and key:
            found.append((FillColumnInBatches(op.table, op.column, op.expression, op.required, key=key, batch_size=batch_size), BATCHED))
            continue
        if type(op) is FillColumn:
            notes.append(f"{qualified(op.table)} has no primary key to fill {op.column.name} in batches by: the fill is one UPDATE in a "
                         "transaction of its own, holding the lock of every row it fills until it ends")
        found.append((op, mode))
    return found, notes


@dataclass(frozen=True)
class FillRowsByKey(FillColumnInBatches):
    """A declared fill of the rows a NOT NULL column was added to with its default (the dialect's
    `fills_added_columns_by_key`: MariaDB adds it so at once, ALGORITHM=INSTANT, where making it NOT
    NULL after a fill would rebuild the table). Every row holds a value from the start, so "still
    NULL" cannot tell the rows to fill: they are the rows with a key up to the largest when the fill
    begins, in batches by key, each batch recording the last key it filled in FILL_PROGRESS_TABLE in
    its own transaction. Rows written after the fill began keep what they were written with, and so
    do rows a writer gave another value than the default before their batch, where that can be told
    (`still_default`).

    `resumes`: the schema_state ids of earlier applies whose fill of this column stopped part-way;
    progress kept under one of them is continued (the key it ends at, and the last key filled),
    else the fill starts over under the running apply's id."""

    op: ClassVar[str] = "fill_rows"

    def summary(self) -> str:
        by = self.key[0] if len(self.key) == 1 else f"({', '.join(self.key)})"
        continued = f", continuing the fill of apply #{', #'.join(map(str, self.resumes))}" if self.resumes else ""
        return (f"fill {qualified(self.table)}.{self.column.name} from ({self.expression}) in the rows there when the fill began{continued}, "
                f"in batches of {self.batch_size} rows by {by}, the last key filled kept in {FILL_PROGRESS_TABLE}")

    def details(self) -> dict[str, Any]:
        return {**super().details(), "resumes": list(self.resumes)}


# Types whose values compare exactly with a literal default (no float rounding, no binary padding).
_EXACT_NUMBERS = {"TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "DECIMAL", "NUMERIC"}
_EXACT_TEXTS = {"CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT"}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_STRING = re.compile(r"'(?:[^']|'')*'")


def still_default(column: Column) -> str | None:
    """The literal default a row not filled yet holds, to fill only rows that still hold it: a row a
    writer gave another value since the column was added keeps the writer's value (a row a writer set
    to the default itself cannot be told apart, and is filled). Only where the comparison is exact
    (an integer, decimal or character type and a literal default); None elsewhere (a float, binary or
    temporal type, an expression default), where every row in a range is filled."""
    parsed = parse_type(column.type)
    if parsed is None or column.default is None:
        return None
    if parsed[0] in _EXACT_NUMBERS and _NUMBER.fullmatch(column.default):
        return column.default
    if parsed[0] in _EXACT_TEXTS and _STRING.fullmatch(column.default):
        return column.default
    return None


# The statements of a FillRowsByKey step, in the order render.py gives them (apply.py runs them by role).
BY_KEY_ROLES = ("progress", "last", "forget", "begin", "first", "bound", "update", "record", "after")


def fills_by_key(steps: list[tuple[Operation, str]], current: Snapshot, batch_size: int, added: bool) -> tuple[list[tuple[Operation, str]], list[str]]:
    """Fills by key (FillRowsByKey): with `added` (an online plan where the dialect adds such a column
    at once), a NOT NULL column the plan adds with a declared fill and a server default, on a table
    with a primary key, is added as it is (the step that adds it keeps its mode) and filled by key,
    with neither the default set apart nor the NOT NULL after the fill; and always, a fill an earlier
    apply began by key and did not finish (FillColumn.resumes) is continued by key. Notes say where a
    NOT NULL column keeps the plan that requires values after the fill (no default, no key)."""
    keyed = _added_by_key(steps, current) if added else {}
    notes = _not_by_key_notes(steps, current, keyed) if added else []
    found: list[tuple[Operation, str]] = []
    for op, mode in steps:
        spot = _column_of(op)
        if spot in keyed and isinstance(op, AddColumn):
            found.append((AddColumn(op.table, keyed[spot]), mode))
        elif spot in keyed and isinstance(op, FillColumn):
            found.append((FillRowsByKey(op.table, keyed[spot], op.expression, True, key=_key(current, op), batch_size=batch_size), BATCHED))
        elif spot in keyed and isinstance(op, AlterColumn):
            continue  # the default set apart from the ADD COLUMN, or the NOT NULL after the fill: neither is needed
        elif type(op) is FillColumn and op.resumes:
            if _key(current, op):
                found.append((FillRowsByKey(op.table, op.column, op.expression, op.required, resumes=op.resumes, key=_key(current, op), batch_size=batch_size), BATCHED))
            else:
                notes.append(f"an earlier apply began filling {qualified(op.table)}.{op.column.name} by key, and the table has no primary key now: "
                             "the rest of its fill cannot be told apart; fill its rows by hand")
        else:
            found.append((op, mode))
    return found, notes


def _column_of(op: Operation) -> tuple[TableKey, str] | None:
    """(table, column) of a step that adds, changes or fills one column."""
    if isinstance(op, (AddColumn, FillColumn)):
        return op.table, op.column.name
    return (op.table, op.after.name) if isinstance(op, AlterColumn) else None


def _key(current: Snapshot, op: Operation) -> tuple[str, ...]:
    table = current.table(op.table)
    return table.primary_key.columns if table is not None and table.primary_key is not None else ()


def _added_by_key(steps: list[tuple[Operation, str]], current: Snapshot) -> dict[tuple[TableKey, str], Column]:
    """The columns (table, name) -> as the models want them that a plan adds NOT NULL with a fill
    (data_changes.plan_data_changes: added nullable, filled, then required) and can add as they are."""
    added = {(op.table, op.column.name) for op, _ in steps if isinstance(op, AddColumn)}
    filled = {(op.table, op.column.name) for op, _ in steps if type(op) is FillColumn}
    return {
        (op.table, op.after.name): op.after
        for op, _ in steps
        if isinstance(op, SetNotNullAfterFill) and (op.table, op.after.name) in added & filled
        and op.after.default is not None and _key(current, op)
    }


def _not_by_key_notes(steps: list[tuple[Operation, str]], current: Snapshot, keyed: dict[tuple[TableKey, str], Column]) -> list[str]:
    """Why a NOT NULL column the plan adds with a fill is not: no server default, or no key."""
    added = {(op.table, op.column.name) for op, _ in steps if isinstance(op, AddColumn)}
    notes = []
    for op, _ in steps:
        if not isinstance(op, SetNotNullAfterFill) or (op.table, op.after.name) in keyed or (op.table, op.after.name) not in added:
            continue
        why = "has no server default" if op.after.default is None else f"is on {qualified(op.table)}, which has no primary key"
        notes.append(f"{qualified(op.table)}.{op.after.name} {why}: it is filled where NULL and then made NOT NULL, which rebuilds the table "
                     "(a NOT NULL column added with a server default to a table with a primary key is added at once and its rows filled by key)")
    return notes


def key_text(key: tuple[Any, ...] | None) -> str | None:
    """A key's values as FILL_PROGRESS_TABLE keeps them (JSON; a value JSON lacks is tagged with its type)."""
    if key is None:
        return None
    return json.dumps([_tagged(value) for value in key])


def key_from_text(text: str | None) -> tuple[Any, ...] | None:
    """The key `key_text` wrote."""
    if text is None:
        return None
    return tuple(_untagged(value) for value in json.loads(text))


_TAGS: dict[str, Any] = {
    "decimal": (Decimal, str, Decimal),
    "bytes": (bytes, lambda v: v.hex(), bytes.fromhex),
    "datetime": (datetime, lambda v: v.isoformat(), datetime.fromisoformat),
    "date": (date, lambda v: v.isoformat(), date.fromisoformat),
    "time": (time, lambda v: v.isoformat(), time.fromisoformat),
}


def _tagged(value: Any) -> Any:
    for tag, (kind, write, _) in _TAGS.items():  # datetime before date: a datetime is a date
        if isinstance(value, kind):
            return {tag: write(value)}
    return value


def _untagged(value: Any) -> Any:
    if isinstance(value, dict):
        (tag, text), = value.items()
        return _TAGS[tag][2](text)
    return value


# --- MariaDB ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddForeignKeyUnchecked(AddForeignKey):
    """MariaDB adds a foreign key in place (no copy, writes go on) only with foreign_key_checks off,
    that is without checking the rows already there: the ValidateForeignKey step after it does."""

    def summary(self) -> str:
        return super().summary() + " (existing rows checked next)"


@dataclass(frozen=True)
class ValidateForeignKey(Operation):
    """Count the rows that break a key added unchecked (a consistent read: writes go on); if any
    does, drop the key again (and the index it brought) and fail."""

    op: ClassVar[str] = "validate_constraint"
    foreign_key: ForeignKey
    # Whether adding the key created its index (no other index served it): dropped with it on failure.
    drop_index: bool

    def summary(self) -> str:
        return f"validate foreign key {self.foreign_key.name} on {qualified(self.table)} (dropped again if a row breaks it)"

    def details(self) -> dict[str, Any]:
        return {"name": self.foreign_key.name, "kind": "foreign key"}


def not_null_check(op: AlterColumn, table_checks: tuple[Check, ...], limit: int) -> Check:
    """The temporary check that proves a column has no NULLs, named so it never clashes."""
    taken = {c.db_name or c.name for c in table_checks}
    base = _fit(f"{op.table[1]}_{op.after.name}", "_not_null", limit)
    name, n = base, 1
    while name in taken:
        n += 1
        name = _fit(f"{op.table[1]}_{op.after.name}", f"_not_null{n}", limit)
    return Check(not_null_text(op.after.name), name)


def not_null_text(column: str) -> str:
    """The expression of the temporary check that proves `column` has no NULLs."""
    return f"{_quote(column)} IS NOT NULL"


def constraint_name(given: str | None, table: str, columns: tuple[str, ...], suffix: str, limit: int) -> str:
    """The name to create a constraint under: its own, else the one the server would choose
    (`<table>_<columns>_<suffix>`, so it reads back as server-chosen)."""
    return given or _fit("_".join((table, *columns)), f"_{suffix}", limit)


def _fit(stem: str, suffix: str, limit: int) -> str:
    return stem[: limit - len(suffix)] + suffix


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def unique_index(unique: Any, table: str, limit: int) -> Index:
    """The index a unique constraint is added with (its name becomes the constraint's)."""
    return Index(constraint_name(unique.name or unique.db_name, table, unique.columns, "key", limit), unique.columns, unique=True)


def invalid_index_notes(current: Snapshot, target: Snapshot) -> list[str]:
    """Why the plan drops an index the models may still want: it is INVALID (see Dialect.lower)."""
    return [
        f"index {index.name} on {table.qualified_name} is INVALID (a CREATE INDEX CONCURRENTLY failed or was interrupted): the plan drops it"
        for table in current.tables
        if target.table(table.key)
        for index in table.invalid_indexes
    ]


# The online forms, and the ordinary step each stands for (None: a validation, which changes no
# schema). A form replaces an ordered step after ordering (Dialect.online_steps), so it has no phase
# of its own (ordering.PHASE_OF), and a rollback undoes it as the step it stands for (operations.UNDONE_BY).
ONLINE_FORMS: dict[type[Operation], type[Operation] | None] = {
    CreateIndexConcurrently: CreateIndex,
    DropIndexConcurrently: DropIndex,
    AddForeignKeyNotValid: AddForeignKey,
    AddCheckNotValid: AddCheck,
    AddUniqueUsingIndex: AddUnique,
    ValidateConstraint: None,
    SetNotNullChecked: AlterColumn,
    AddForeignKeyUnchecked: AddForeignKey,
    ValidateForeignKey: None,
    FillColumnInBatches: FillColumn,
    FillRowsByKey: FillColumn,
}
