"""What a step could break or cost, named when the plan is made. Pure: operations in, names out.

The classes (docs/hazards.md has the table, with the test behind each line):
- `data-loss`: the step destroys values (drop table or column, a narrowing type, a rebuild that does).
- `irreversible`: data-loss whose data the plan does not keep for rollback (backup.py could not).
- `data-dependent`: the step can fail on rows already there (SET NOT NULL, a new unique key, primary
  key, foreign key or check, a type not every value survives, a NOT NULL column with no default).
  Pre-flight (preconditions.py, preflight.py) counts those rows before anything runs.
- `table-rewrite` / `long-lock`: the server copies the table, or blocks writes for a time that grows
  with it. This depends on the server, so each dialect answers it (`Dialect.cost_hazards`).
- `index-build`: an index is built over the rows already there.
- A declared fill (data_changes.py) is `data-dependent` (its expression may fail or give NULL) and a
  `table-rewrite` (every row is written again); in one transaction it is a `long-lock` too.

Steps on a table the plan creates carry none of these: the table is empty. Hazards are decided
from the operation's values, never by reading SQL text.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from schemasync.data_changes import plan_data_changes
from schemasync.diff import diff_table
from schemasync.online import TRANSACTION
from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddExclusion,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    AlterColumn,
    BackupColumns,
    BackupTable,
    CreateIndex,
    DropColumn,
    DropTable,
    FillColumn,
    Operation,
    RebuildTable,
    ReplaceGeneratedColumn,
    SetAutoIncrement,
    SwapEnum,
    is_widening,
    keep_narrowed_values,
)
from schemasync.snapshot import TableKey

if TYPE_CHECKING:
    from schemasync.dialects import Dialect

DATA_LOSS = "data-loss"
IRREVERSIBLE = "irreversible"
DATA_DEPENDENT = "data-dependent"
TABLE_REWRITE = "table-rewrite"
LONG_LOCK = "long-lock"
INDEX_BUILD = "index-build"
# The order hazards are listed in, gravest first.
ALL = (DATA_LOSS, IRREVERSIBLE, DATA_DEPENDENT, TABLE_REWRITE, LONG_LOCK, INDEX_BUILD)


def changes_within(op: Operation) -> list[Operation]:
    """The neutral changes a step carries out: a rebuild's are the differences between its two tables."""
    if isinstance(op, RebuildTable):
        return plan_data_changes(diff_table(op.before, op.after))  # its copy fills and converts as declared
    return [op]


def neutral_hazards(op: Operation) -> set[str]:
    """What any server risks with this change (the costs a particular server adds are its own)."""
    found: set[str] = set()
    if op.destructive:
        found.add(DATA_LOSS)
    if isinstance(op, AlterColumn):
        if (op.before.type != op.after.type and not is_widening(op.before.type, op.after.type) and not op.values_kept) or op.using:
            # A value that does not fit: refused or cut (unless the server keeps it as it is); a declared
            # conversion's expression may fail, or give NULL for a NOT NULL column.
            found.add(DATA_DEPENDENT)
        if op.before.nullable and not op.after.nullable:
            found.add(DATA_DEPENDENT)
        if isinstance(op, SetAutoIncrement):
            found.add(DATA_DEPENDENT)  # MariaDB renumbers zeros (pre-flight counts them)
    elif isinstance(op, AddColumn):
        if not op.column.nullable and op.column.default is None and not op.column.autoincrement:
            found.add(DATA_DEPENDENT)
    elif isinstance(op, (AddUnique, AddPrimaryKey, AddExclusion)):
        found |= {DATA_DEPENDENT, INDEX_BUILD}
    elif isinstance(op, CreateIndex):
        found |= {DATA_DEPENDENT, INDEX_BUILD} if op.index.unique else {INDEX_BUILD}
    elif isinstance(op, FillColumn):
        found |= {DATA_DEPENDENT, TABLE_REWRITE}  # the expression may fail or give NULL; every row is written again
    elif isinstance(op, (AddForeignKey, AddCheck)):
        found.add(DATA_DEPENDENT)
    elif isinstance(op, SwapEnum) and op.dropped_values and op.columns:
        found.add(DATA_DEPENDENT)  # a row holding a dropped value fails the conversion (pre-flight counts them)
    return found


def hazards_of(
    op: Operation, dialect: Dialect, new_tables: Collection[TableKey], kept: Collection[tuple[TableKey, str | None]], mode: str = TRANSACTION
) -> tuple[str, ...]:
    """The hazards of one plan step, in `ALL` order; `mode` is how it runs (online.py).

    `new_tables` are the tables the plan creates (empty: nothing can fail or take long there);
    `kept` holds (table, None) for tables whose rows the plan keeps and (table, column) for kept values.
    """
    if op.table in new_tables:
        return ()
    found: set[str] = set()
    changes = keep_narrowed_values(changes_within(op), dialect.narrowing_keeps_values_on)
    for change in changes:
        found |= neutral_hazards(change)
        found |= set(dialect.cost_hazards(change, mode))
    if isinstance(op, RebuildTable):
        found |= set(dialect.cost_hazards(op, mode))
    if isinstance(op, FillColumn) and mode == TRANSACTION:
        found.add(LONG_LOCK)  # its row locks are held until the apply commits
    if DATA_LOSS in found and not _kept(op, changes, kept):
        found.add(IRREVERSIBLE)
    return tuple(h for h in ALL if h in found)


def kept_data(operations: Sequence[Operation]) -> set[tuple[TableKey, str | None]]:
    """What the plan's backup steps keep: whole tables as (table, None), values as (table, column)."""
    kept: set[tuple[TableKey, str | None]] = set()
    for op in operations:
        if isinstance(op, BackupTable):
            kept.add((op.table, None))
        elif isinstance(op, BackupColumns):
            kept |= {(op.table, column) for column in op.columns}
    return kept


def _kept(op: Operation, changes: Sequence[Operation], kept: Collection[tuple[TableKey, str | None]]) -> bool:
    """Whether every value `op` (carrying out `changes`) destroys is in a backup."""
    if isinstance(op, DropTable):
        return (op.table, None) in kept
    lost = [c.column.name for c in changes if isinstance(c, DropColumn)]
    lost += [c.after.name for c in changes if isinstance(c, (AlterColumn, ReplaceGeneratedColumn)) and c.destructive]
    return bool(lost) and all((op.table, name) in kept for name in lost)


# What each hazard means and what to do about it: `schemasync explain HAZARD` prints it from the
# installed package (docs/hazards.md has the same, with the tests behind each line).
HELP = {
    DATA_LOSS: "The step destroys values: a dropped table or column, a narrowing type, a stored column made "
               "generated, or a SQLite rebuild that does one of those.\n"
               "apply refuses it without --allow-destructive. The data is copied into a schemasync_backup_* table "
               "first (the plan shows it as a note under the step), so `schemasync rollback` can bring it back; "
               "`schemasync prune` drops old backups.",
    IRREVERSIBLE: "Data loss whose data the plan cannot keep for rollback (the values of a table without a primary key "
                  "cannot be matched back to their rows).\n"
                  "Refused like data-loss without --allow-destructive; the plan prints a hint saying why. Add a primary "
                  "key first, or export the data yourself.",
    DATA_DEPENDENT: "The step can fail on rows already there: SET NOT NULL, a NOT NULL column without a default, a new "
                    "unique key, unique index, primary key, foreign key or check, a type not every value survives.\n"
                    "Before anything runs, apply counts the offending rows (one SELECT COUNT(*) per condition) and "
                    "refuses with the exact counts; nothing is changed. Fix the rows, then apply again "
                    "(--no-preflight skips the counts).",
    TABLE_REWRITE: "The server copies or rebuilds the whole table (SQLite: every rebuild_table step; PostgreSQL and "
                   "MariaDB: most type changes, some constraints).\n"
                   "Time and disk grow with the table's size. Informative; `block_hazards: [table-rewrite]` in "
                   "schemasync.yaml makes apply refuse it unless --allow-hazard table-rewrite is given.",
    LONG_LOCK: "Writes to the table (sometimes reads) wait while the step runs, for a time that grows with the table: "
               "PostgreSQL takes a strong lock for a validation scan or an index build, MariaDB copies with LOCK=SHARED, "
               "SQLite holds the database's write lock during a rebuild.\n"
               "On a busy table, run apply at a quiet time, or use online mode (`apply --online`: concurrent index "
               "builds, NOT VALID keys validated afterwards, MariaDB's INPLACE/INSTANT algorithms). Informative; "
               "`block_hazards: [long-lock]` makes apply refuse it.",
    INDEX_BUILD: "An index is built over the rows already there: time and I/O grow with the table.\n"
                 "PostgreSQL blocks writes during the build unless online mode builds it CONCURRENTLY; MariaDB builds "
                 "in place. Informative.",
}
