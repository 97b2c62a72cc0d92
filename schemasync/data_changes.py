"""Declared data changes: `backfill` fills a column, `using` converts its values. Pure.

Both sides live here, as for renames (renames.py). The models' side (`declare`) reads
info={"schemasync": {"backfill": expr}} and {"using": expr} from each Column and carries the
expression onto the target snapshot, which reflection cannot give it (an instruction, not schema).
An expression is SQL over the same row: a string, a `sa.text()`, or a SQLAlchemy column
expression, compiled for the dialect with its values inline.

The diff side (`plan_data_changes`) turns them into visible steps:

- a column the plan adds with a `backfill` is added nullable and without its default (so the rows
  there are NULL), given its default (rows written meanwhile take it), filled (`FillColumn`:
  UPDATE ... WHERE it is NULL), then made NOT NULL (`SetNotNullAfterFill`); ordering.py puts every fill before the plan's drops, so a fill may
  read a column the same plan drops (a split, a merge);
- a column the plan makes NOT NULL with a `backfill` gets its NULLs filled first the same way;
- a type change with a `using` converts through the expression (`AlterColumn.using`; each dialect
  says how: PostgreSQL ALTER ... TYPE ... USING, MariaDB a new column filled then swapped in,
  SQLite the rebuild's copy).

Once applied, a declaration is inert: the column exists and keeps its type, so the diff has
nothing for it and no step is made. A backfill on a column that exists and stays as it is is
therefore no error (it is how an applied one looks); hints that can never apply are:
`using` on a column the plan adds (nothing to convert) and `using` on a change that is not a type
change; an expression naming no column of the table is refused by pre-flight (preconditions.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from schemasync.errors import PlanError
from schemasync.operations import (
    AddColumn,
    AlterColumn,
    FillColumn,
    Operation,
    SetNotNullAfterFill,
    qualified,
)
from schemasync.snapshot import Snapshot, Table, TableKey

BACKFILL, USING = "backfill", "using"

# --- the models' side: the declarations, onto the target ------------------------------------------


def declared(column: sa.Column[Any], key: str) -> Any:
    """The column's declaration `key` (BACKFILL or USING), or None; read without making `info`
    where the model never set it (see renames.renamed_from)."""
    info = vars(column).get("info")
    return (info.get("schemasync") or {}).get(key) if info else None


def expression_text(value: Any, sa_dialect: sa.engine.Dialect, where: str) -> str:
    """The declared expression as SQL text for this dialect; anything else is a one-line error."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, sa.sql.ClauseElement):
        text = str(value.compile(dialect=sa_dialect, compile_kwargs={"literal_binds": True}))
    else:
        raise PlanError(f"{where}: expected an SQL expression (text, sa.text() or a column expression), got {type(value).__name__}")
    if not text.strip():
        raise PlanError(f"{where}: the expression is empty")
    return text.strip()


def declare(snapshot: Snapshot, tables: list[sa.Table], sa_dialect: sa.engine.Dialect, default_schema: str | None = None) -> Snapshot:
    """The target with the `backfill` and `using` expressions the models declare on `tables`' columns."""
    found = {
        ((None if t.schema == default_schema else t.schema, t.name), c.name): (declared(c, BACKFILL), declared(c, USING))
        for t in tables for c in t.columns if declared(c, BACKFILL) is not None or declared(c, USING) is not None
    }
    if not found:
        return snapshot  # nothing declared: the same snapshot, with what it has computed already

    def annotate(table: Table) -> Table:
        if not any(key == table.key for key, _ in found):
            return table
        columns = []
        for column in table.columns:
            backfill, using = found.get((table.key, column.name), (None, None))
            where = f"{qualified(table.key)}.{column.name}"
            columns.append(replace(
                column,
                backfill=expression_text(backfill, sa_dialect, f"{where} backfill") if backfill is not None else None,
                using=expression_text(using, sa_dialect, f"{where} using") if using is not None else None,
            ))
        return replace(table, columns=tuple(columns))

    return snapshot.with_tables(tuple(annotate(t) for t in snapshot.tables))


# --- the diff side: the steps -----------------------------------------------------------------------


def plan_data_changes(operations: Sequence[Operation]) -> list[Operation]:
    """`operations` (the neutral diff) with the declared fills and conversions as steps; the late
    NOT NULLs after the rest. Refuses a declaration that can never apply (a one-line PlanError)."""
    steps: list[Operation] = []
    late: list[Operation] = []
    for op in operations:
        if isinstance(op, AddColumn):
            _refuse_using_on_new(op)
            if op.column.backfill is not None and op.column.computed is None:
                bare, loose = replace(op.column, nullable=True, default=None), replace(op.column, nullable=True)
                # The default goes on at once (rows written meanwhile take it; the rows there stay NULL, to fill).
                steps += [AddColumn(op.table, bare), *([AlterColumn(op.table, bare, loose)] if loose != bare else [])]
                steps.append(FillColumn(op.table, loose, op.column.backfill, not op.column.nullable))
                late += [SetNotNullAfterFill(op.table, loose, op.column)] if loose != op.column else []
                continue
        elif type(op) is AlterColumn:
            _refuse_using_without_type_change(op)
            if op.after.backfill is not None and op.before.nullable and not op.after.nullable:
                loose = replace(op.after, nullable=True)
                steps += ([AlterColumn(op.table, op.before, loose, op.values_kept)] if loose != op.before else [])
                steps.append(FillColumn(op.table, loose, op.after.backfill, True))
                late.append(SetNotNullAfterFill(op.table, loose, op.after))
                continue
        steps.append(op)
    return steps + late


@dataclass(frozen=True)
class Unfinished:
    """A declared fill an earlier apply began and did not finish (recovery.unfinished_fills)."""

    table: TableKey
    column: str
    # The schema_state ids of the applies whose fill of it by key (online.FillRowsByKey) stopped: its
    # progress is kept under one of them. Empty: a fill of the rows still NULL.
    by_key_of: tuple[int, ...] = ()


def resumed_fills(operations: Sequence[Operation], current: Snapshot, target: Snapshot,
                  unfinished: Collection[Unfinished]) -> tuple[list[Operation], list[str]]:
    """Fills an earlier apply began and did not finish (killed, or failed mid-fill: `unfinished`,
    from schema_state, recovery.unfinished_fills) on columns that now exist as the models want them:
    the diff has nothing for such a column (a nullable one, partly filled; a NOT NULL one added with
    its default and filled by key), so the fill is a step of its own again: of the rows still NULL,
    or continued by key from the progress kept (FillColumn.resumes). A column whose fill the plan
    makes anyway (it becomes NOT NULL) is left to it. Returns the steps and a note per fill."""
    planned = {(op.table, op.column.name) for op in operations if isinstance(op, (FillColumn, AddColumn))}
    steps: list[Operation] = []
    notes: list[str] = []
    for fill in _merged(unfinished):
        table_key, name = fill.table, fill.column
        live, wanted = current.table(table_key), target.table(table_key)
        column = wanted.columns_by_name.get(name) if wanted is not None else None
        if (table_key, name) in planned or live is None or name not in live.columns_by_name:
            continue  # filled by this plan's own steps, or gone
        if column is None or column.backfill is None:
            left = "the rows it had not reached keep the column's default" if fill.by_key_of else "its rows still NULL stay so"
            notes.append(f"an earlier apply did not finish filling {qualified(table_key)}.{name}, and the models no longer declare its backfill: {left}")
            continue
        steps.append(FillColumn(table_key, column, column.backfill, not column.nullable, resumes=fill.by_key_of))
        how = "continues it from the last key it filled" if fill.by_key_of else "fills its rows still NULL"
        notes.append(f"an earlier apply did not finish filling {qualified(table_key)}.{name} (see `schemasync history`): the plan {how}")
    return steps, notes


def _merged(unfinished: Collection[Unfinished]) -> list[Unfinished]:
    """One per column, in a stable order; a column some apply filled by key is continued by key."""
    ids: dict[tuple[TableKey, str], set[int]] = {}
    for fill in unfinished:
        ids.setdefault((fill.table, fill.column), set()).update(fill.by_key_of)
    ordered = sorted(ids, key=lambda pair: (qualified(pair[0]), pair[1]))
    return [Unfinished(table, column, tuple(sorted(ids[(table, column)]))) for table, column in ordered]


def _refuse_using_on_new(op: AddColumn) -> None:
    if op.column.using is not None:
        raise PlanError(f"{qualified(op.table)}.{op.column.name}: `using` on a column the plan adds: there are no values to convert "
                        "(declare `backfill` to fill a new column)")


def _refuse_using_without_type_change(op: AlterColumn) -> None:
    if op.after.using is not None and op.before.type == op.after.type:
        raise PlanError(f"{qualified(op.table)}.{op.after.name}: `using` on a change that is not a type change ({', '.join(op.changes())}); "
                        "remove the hint once its conversion is applied")

