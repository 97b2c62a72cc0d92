"""Why a declared fill (data_changes.py) failed at run time: how many rows it could not fill, and one.

Pre-flight (preflight.py) refuses a fill whose expression gives NULL for a NOT NULL column or that
the server cannot run at all. What it cannot foresee fails at run time: a value the column refuses
(too long, out of range, against a check), rows written between pre-flight and the fill, a NULL
left for the NOT NULL step. The server then names neither the rows nor how many; `explain` asks:

- rows still NULL that the expression gives NULL for, where the column is to be NOT NULL: how many
  and the first by primary key;
- otherwise the first row (by primary key) whose fill fails, found by halving the rows still to fill
  and trying the UPDATE on each half, always rolled back; with how many rows are still to fill.

Everything it runs is rolled back (a savepoint inside the apply's transaction, or a transaction of
its own), so the database is left as the failure left it.

Assumptions: the table and column have their live names (a fill runs after the plan's renames);
`sa.tuple_(...).in_(subquery)` and LIMIT in a derived table work on every dialect here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from schemasync.errors import first_line
from schemasync.online import ValidateConstraint, not_null_text
from schemasync.operations import (
    AddCheck,
    AlterColumn,
    FillColumn,
    Operation,
    RebuildTable,
    qualified,
)
from schemasync.snapshot import Snapshot, TableKey

_FAILS_AT = "it fails first at"


@dataclass(frozen=True)
class Fill:
    """A declared fill as a failure is explained: what fills which column, and the table's key."""

    table: TableKey
    column: str
    expression: str
    required: bool
    key: tuple[str, ...]
    # The keys (first, last) of the rows still to fill, for a fill by key (online.FillRowsByKey: its rows
    # are not NULL): what apply had left when it failed. None: the rows still NULL.
    rows: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None

    @property
    def where(self) -> str:
        return f"{qualified(self.table)}.{self.column}"


def fills_by_step(operations: Sequence[Operation], live: Snapshot) -> dict[int, tuple[Fill, ...]]:
    """Per step (its index in the plan), the fills a failure of that step is explained by: the fill
    itself, a SQLite rebuild whose copy fills, and the steps that make a filled column NOT NULL
    (PostgreSQL's online form: the check that proves it, its validation, SET NOT NULL)."""
    filled: dict[tuple[TableKey, str], Fill] = {}
    proofs: dict[tuple[TableKey, str], str] = {}  # (table, check name) -> the column it proves NOT NULL
    found: dict[int, tuple[Fill, ...]] = {}
    for index, op in enumerate(operations):
        table = live.table(op.table)
        key = table.primary_key.columns if table is not None and table.primary_key is not None else ()
        column: str | None = None
        if isinstance(op, FillColumn):
            filled[(op.table, op.column.name)] = Fill(op.table, op.column.name, op.expression, op.required, key)
            column = op.column.name
        elif isinstance(op, RebuildTable) and op.fills:
            required = {c.name: not c.nullable for c in op.after.columns}
            found[index] = tuple(Fill(op.table, name, expression, required.get(name, False), key) for name, expression in op.fills)
        elif isinstance(op, AlterColumn) and not op.after.nullable:
            column = op.after.name
        elif isinstance(op, AddCheck):
            column = next((name for (t, name) in filled if t == op.table and op.check.sqltext == not_null_text(name)), None)
            proofs.update({(op.table, op.check.name or ""): column} if column else {})
        elif isinstance(op, ValidateConstraint):
            column = proofs.get((op.table, op.name))
        if column is not None and (op.table, column) in filled:
            found[index] = (filled[(op.table, column)],)
    return found


def explain(connection: sa.Connection, fills: Sequence[Fill], reason: str) -> str:
    """`reason` (the server's message) with, for each fill, how many rows it could not fill and the
    first of them by key. One line; what it runs is rolled back."""
    found = []
    for fill in fills:
        try:
            with _rolled_back(connection):
                found.append(_explain_one(connection, fill))
        except sa.exc.DBAPIError as error:
            found.append(f"{fill.where}: could not count the rows left to fill ({first_line(error)})")
    said = "; ".join(line for line in found if line)
    if not said:
        return reason
    return said if _FAILS_AT in said else f"{said} ({reason})"  # the first failing row's own error says it already


def _explain_one(connection: sa.Connection, fill: Fill) -> str:
    exists = fill.column in {c["name"] for c in sa.inspect(connection).get_columns(fill.table[1], schema=fill.table[0])}
    table = sa.table(fill.table[1], *[sa.column(c) for c in dict.fromkeys((*fill.key, fill.column))], schema=fill.table[0])
    expression: Any = sa.literal_column(f"({fill.expression})")
    left = _left(table, fill) if exists else []  # where the column is not there (rolled back), every row is to fill
    name = qualified(fill.table)
    if fill.required:
        nulls = [*left, expression.is_(None)]
        count = _count(connection, table, nulls)
        if count:
            return f"{fill.where}: the expression gives NULL for {_rows(count)} of {name} still to fill, and the column is NOT NULL{_first(connection, table, fill, nulls)}"
    count = _count(connection, table, left)
    if not count:
        return ""
    if not exists or not fill.key:
        why = "the table has no primary key to name one" if not fill.key else "the column is not there to try the fill on"
        return f"{fill.where}: {_rows(count)} of {name} not filled ({why})"
    failing = _first_failing(connection, table, fill, left, count)
    if failing is None:
        return f"{fill.where}: {_rows(count)} of {name} not filled (each part of them fills when tried again: the failure may not come from the rows)"
    key, error = failing
    which = "still NULL" if fill.rows is None else f"keys from {_key_text(fill.key, fill.rows[0])} to {_key_text(fill.key, fill.rows[1])}"
    return f"{fill.where}: the fill could not fill {_rows(count)} of {name} ({which}); {_FAILS_AT} {_key_text(fill.key, key)}: {error}"


def _left(table: Any, fill: Fill) -> list[Any]:
    """The rows still to fill: NULL, or for a fill by key those between the keys it had left."""
    if fill.rows is None:
        return [table.c[fill.column].is_(None)]
    keys = sa.tuple_(*[table.c[k] for k in fill.key]) if len(fill.key) > 1 else table.c[fill.key[0]]
    first, last = (sa.tuple_(*bound) if len(fill.key) > 1 else bound[0] for bound in fill.rows)
    return [keys >= first, keys <= last]


def _first_failing(connection: sa.Connection, table: Any, fill: Fill, left: list[Any], count: int) -> tuple[tuple[Any, ...], str] | None:
    """The first row (by key) whose fill fails, and why: the smallest `n` such that filling the first
    `n` rows still to fill fails, found by halving. None when filling all of them works now."""
    if _try_fill(connection, table, fill, left, count) is None:
        return None
    good, bad = 0, count
    while bad - good > 1:
        middle = (good + bad) // 2
        if _try_fill(connection, table, fill, left, middle) is None:
            good = middle
        else:
            bad = middle
    keys = [table.c[k] for k in fill.key]
    row = connection.execute(sa.select(*keys).where(*left).order_by(*keys).offset(bad - 1).limit(1)).one()
    return tuple(row), _try_fill(connection, table, fill, left, 1, tuple(row)) or ""


def _try_fill(connection: sa.Connection, table: Any, fill: Fill, left: list[Any], rows: int, at: tuple[Any, ...] | None = None) -> str | None:
    """Fill the first `rows` rows still to fill (or the row keyed `at`) in a savepoint, rolled back: the server's error, or None."""
    keys = [table.c[k] for k in fill.key]
    column = table.c[fill.column]
    if at is not None:
        chosen: Any = sa.and_(*[k == v for k, v in zip(keys, at, strict=True)])
    else:
        first = sa.select(*keys).where(*left).order_by(*keys).limit(rows).subquery("first_rows")
        # A derived table of a derived table: MariaDB refuses LIMIT in an IN subquery and a subquery
        # on the table an UPDATE changes, but not once it is materialised.
        picked = sa.select(*first.c).subquery("picked")
        chosen = (sa.tuple_(*keys) if len(keys) > 1 else keys[0]).in_(sa.select(*picked.c))
    update = sa.update(table).values({column: sa.literal_column(f"({fill.expression})")}).where(*left, chosen)
    savepoint = connection.begin_nested()
    try:
        connection.execute(update)
        return None
    except sa.exc.DBAPIError as error:
        return first_line(error)
    finally:
        savepoint.rollback()


def _count(connection: sa.Connection, table: Any, where: list[Any]) -> int:
    return connection.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar() or 0


def _first(connection: sa.Connection, table: Any, fill: Fill, where: list[Any]) -> str:
    if not fill.key:
        return " (the table has no primary key to name one)"
    keys = [table.c[k] for k in fill.key]
    row = connection.execute(sa.select(*keys).where(*where).order_by(*keys).limit(1)).first()
    return f", the first at {_key_text(fill.key, tuple(row))}" if row is not None else ""


def _rows(count: int) -> str:
    return f"{count} row{'s' if count != 1 else ''}"


def _key_text(names: tuple[str, ...], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{n}={v!r}" if isinstance(v, str) else f"{n}={v}" for n, v in zip(names, values, strict=True))


@contextmanager
def _rolled_back(connection: sa.Connection) -> Iterator[None]:
    """Inside the apply's transaction (where DDL is transactional) a savepoint; else a transaction of its own."""
    transaction = connection.begin_nested() if connection.in_transaction() else connection.begin()
    try:
        yield
    finally:
        transaction.rollback()
