"""Pre-flight: count the live rows that would make a plan fail, before its first statement runs.

Each `Precondition` of the plan (preconditions.py) becomes one COUNT query, built with SQLAlchemy
Core so every dialect spells it its own way. A question the server cannot answer (a check whose
expression names a column the plan adds, say) is reported as unchecked, never as a pass or a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from schemasync.errors import first_line
from schemasync.preconditions import (
    CHECK,
    DISTINCT,
    EVALUATES,
    FILLED,
    FITS,
    NO_NULLS,
    NO_ROWS,
    NO_ZEROS,
    REFERENCES,
    REPLACED,
    Precondition,
)
from schemasync.scope import parse_table_key


@dataclass(frozen=True)
class Finding:
    """A precondition and what the live rows say: `count` offending rows, or None and why it was not asked."""

    condition: Precondition
    count: int | None
    message: str


def run(connection: sa.Connection, conditions: Sequence[Precondition]) -> tuple[list[Finding], list[Finding]]:
    """(failures, unchecked): the preconditions the live rows break, and those that could not be asked."""
    failures: list[Finding] = []
    unchecked: list[Finding] = []
    for condition in conditions:
        if condition.kind == REPLACED:
            continue  # what a destructive step replaces is counted by `impact`, never a failure
        try:
            with connection.begin_nested():
                count = int(connection.execute(count_query(condition)).scalar() or 0)
        except sa.exc.DBAPIError as error:
            if condition.kind in (FILLED, EVALUATES):  # the declared expression itself fails: so would its step
                failures.append(Finding(condition, None, f"{_subject(condition)}: the expression ({condition.sqltext}) fails: {first_line(error)}"))
            else:
                unchecked.append(Finding(condition, None, f"{_subject(condition)}: not pre-checked ({first_line(error)})"))
            continue
        if count and condition.kind != EVALUATES:
            failures.append(Finding(condition, count, message(condition, count)))
    return failures, unchecked


def impact(connection: sa.Connection, conditions: Sequence[Precondition]) -> list[str]:
    """One line per destructive step that replaces stored values: how many rows it changes."""
    lines = []
    for condition in conditions:
        if condition.kind != REPLACED:
            continue
        try:
            with connection.begin_nested():
                count = int(connection.execute(count_query(condition)).scalar() or 0)
        except sa.exc.DBAPIError as error:
            lines.append(f"{_subject(condition)}: rows not counted ({first_line(error)})")
            continue
        lines.append(message(condition, count))
    return lines


def _table(name: str, columns: Sequence[str]) -> sa.TableClause:
    schema, table = parse_table_key(name)
    return sa.table(table, *(sa.column(c) for c in columns), schema=schema)


def count_query(condition: Precondition) -> sa.Select:
    """SELECT COUNT(*) of the rows (or, for `distinct`, the rows sharing a value) that break `condition`."""
    table = _table(condition.table, condition.columns)
    columns = [table.c[c] for c in condition.columns]
    count = sa.select(sa.func.count()).select_from(table)
    if condition.kind == NO_ROWS:
        return count
    if condition.kind == NO_NULLS:
        return count.where(columns[0].is_(None))
    if condition.kind == NO_ZEROS:
        return count.where(columns[0] == 0)
    if condition.kind == DISTINCT:
        groups = (
            sa.select(sa.func.count().label("n"))
            .select_from(table)
            .where(*(c.is_not(None) for c in columns))
            .group_by(*columns)
            .having(sa.func.count() > 1)
            .subquery()
        )
        return sa.select(sa.func.coalesce(sa.func.sum(groups.c.n), 0))
    if condition.kind == REFERENCES:
        present = count.where(*(c.is_not(None) for c in columns))
        if condition.referred_table is None:
            return present
        referred = _table(condition.referred_table, condition.referred_columns).alias("referred")
        match = sa.and_(*(referred.c[r] == c for r, c in zip(condition.referred_columns, columns)))
        return present.where(~sa.exists().where(match))
    if condition.kind == CHECK:
        return count.where(sa.text(f"NOT ({condition.sqltext})"))
    if condition.kind in (FILLED, EVALUATES):
        # The rows still to fill (all of them for a column the plan adds) whose expression gives NULL.
        return count.where(*(c.is_(None) for c in columns), sa.literal_column(f"({condition.sqltext})").is_(None))
    if condition.kind == REPLACED:
        return count.where(sa.not_(columns[0].is_not_distinct_from(sa.literal_column(f"({condition.sqltext})"))))
    if condition.kind == FITS:
        column = columns[0]
        if condition.values:
            return count.where(column.is_not(None), column.not_in(condition.values))
        if condition.max_length is not None:
            return count.where(sa.func.char_length(column) > condition.max_length)
        assert condition.minimum is not None and condition.maximum is not None, "a number's range, when not a text's length"
        low: sa.ColumnClause[Any] = sa.literal_column(condition.minimum)
        high: sa.ColumnClause[Any] = sa.literal_column(condition.maximum)
        return count.where(sa.or_(column < low, column > high))
    raise ValueError(f"unknown precondition kind {condition.kind!r}")


def _subject(condition: Precondition) -> str:
    columns = ", ".join(condition.columns)
    if condition.kind in (NO_NULLS, NO_ROWS, FITS, REPLACED, NO_ZEROS):
        return f"{condition.table}.{columns}"
    if condition.kind in (FILLED, EVALUATES):
        return f"{condition.name}"
    if condition.kind == CHECK:
        return f"{condition.table} check {condition.name}" if condition.name else f"{condition.table} check ({condition.sqltext})"
    return f"{condition.table}({columns})"


def message(condition: Precondition, count: int) -> str:
    """The one-line reason, with the exact count and what to do."""
    subject = _subject(condition)
    plural = "" if count == 1 else "s"
    verb_s = "s" if count == 1 else ""
    if condition.kind == NO_NULLS:
        return f"{subject}: {count} row{plural} {'is' if count == 1 else 'are'} NULL; backfill them first or keep the column nullable"
    if condition.kind == NO_ZEROS:
        return f"{subject}: {count} row{plural} hold{verb_s} 0, which AUTO_INCREMENT would renumber; give them other values first"
    if condition.kind == NO_ROWS:
        return (f"{subject}: NOT NULL with no server_default, and the table has {count} row{plural}; "
                "add a server_default, or add the column nullable, backfill it, then make it NOT NULL")
    if condition.kind == DISTINCT:
        return f"{subject}: {count} rows share a value with another row; a unique key needs them distinct: remove the duplicates first"
    if condition.kind == REFERENCES:
        target = f"{condition.referred_table}({', '.join(condition.referred_columns)})" if condition.referred_table else "a table this plan creates (it starts empty)"
        return f"{subject}: {count} row{plural} point{verb_s} at no row of {target}; fix or delete them first"
    if condition.kind == CHECK:
        return f"{subject}: {count} row{plural} fail{verb_s} ({condition.sqltext}); fix them first"
    if condition.kind == FILLED:
        return (f"{subject}: the expression ({condition.sqltext}) gives NULL for {count} row{plural} of {condition.table}, "
                "and the column is NOT NULL; change the expression (COALESCE) or fix those rows first")
    if condition.kind == REPLACED:
        return f"{subject}: {count} row{plural} hold{verb_s} a value other than ({condition.sqltext}), replaced by it (kept for rollback)"
    if condition.values:
        return f"{subject}: {count} value{plural} {'is' if count == 1 else 'are'} not among the values of {condition.type}; change them first or keep those values"
    if condition.max_length is not None:
        return f"{subject}: {count} value{plural} {'is' if count == 1 else 'are'} longer than {condition.max_length} characters ({condition.type}); shorten them first or keep the wider type"
    return f"{subject}: {count} value{plural} {'is' if count == 1 else 'are'} outside {condition.type}'s range ({condition.minimum} to {condition.maximum}); fix them first or keep the wider type"
