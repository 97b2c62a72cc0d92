"""Views in a plan: what a view reads, and which views a plan drops and re-creates around its changes. Pure.

A view stands in the way of changes to what it reads: PostgreSQL refuses to drop or retype a
column a view uses (and to drop a view another view uses); SQLite's table rebuild drops the
table and renames a copy, which SQLite refuses while a view names the table; MariaDB leaves the
view invalid. So a kept view that reads a changed table (or a view that goes) is dropped at the
start of the plan and created again at its end, as two visible steps.

What a view reads is found in its definition text, by name (assumptions: the server keeps the
names of the relations and columns a view reads in its definition, which all three do). A name
that merely appears (a column of another table, a string) makes the match wider, never narrower:
the cost of a false match is one view re-created.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from schemasync.operations import (
    AlterColumn,
    CreateView,
    DropColumn,
    DropTable,
    DropView,
    Operation,
    RebuildTable,
    RenameColumn,
    RenameTable,
)
from schemasync.snapshot import Snapshot, TableKey, View, key_order

VIEW_OPERATIONS = (CreateView, DropView)


@lru_cache(maxsize=4096)
def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(r'(?<![\w$])["`\[]?' + re.escape(name) + r'["`\]]?(?![\w$])', re.IGNORECASE)


def reads(view: View, name: str) -> bool:
    """Whether `name` (a table, view or column) appears in the view's definition as an identifier."""
    return _pattern(name).search(view.definition) is not None


def split(operations: Sequence[Operation]) -> tuple[list[Operation], list[Operation]]:
    """(view operations, the others): views skip the dialects' lowering, which is about tables."""
    views: list[Operation] = [op for op in operations if isinstance(op, VIEW_OPERATIONS)]
    return views, [op for op in operations if not isinstance(op, VIEW_OPERATIONS)]


def _touches(op: Operation) -> tuple[str, str | None] | None:
    """(table, column or None for the whole table) that `op` changes in a way a view that reads it must not see."""
    if isinstance(op, DropColumn):
        return op.table[1], op.column.name
    if isinstance(op, AlterColumn) and op.before.type != op.after.type:
        return op.table[1], op.before.name
    if isinstance(op, RenameColumn):
        return op.table[1], op.old_name
    if isinstance(op, (RenameTable, DropTable, RebuildTable)):
        return op.table[1], None
    return None


def around_changes(views: Sequence[Operation], operations: Sequence[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
    """Drop and create again the kept views that read what `operations` change, or read a view that is dropped."""
    gone = {op.table for op in views if isinstance(op, DropView)}
    changes = [(op, found) for op in operations if (found := _touches(op)) is not None]
    touched: dict[TableKey, str] = {}
    for view in current.views:
        if view.key in gone or view.key not in target.views_by_key:
            continue
        for op, (table, column) in changes:
            if reads(view, table) and (column is None or reads(view, column)):
                touched[view.key] = f"re-created around: {op.summary()}"
                break
    while True:  # views that read a view that is dropped (or re-created) go with it
        out = gone | set(touched)
        more = {
            view.key: f"re-created around: it reads {other[1]}"
            for view in current.views if view.key not in out and view.key in target.views_by_key
            for other in sorted(out, key=key_order) if reads(view, other[1])
        }
        if not more:
            break
        touched.update(more)
    extra: list[Operation] = []
    for key in sorted(touched, key=key_order):
        extra += [DropView(key, current.views_by_key[key], touched[key]), CreateView(key, target.views_by_key[key], touched[key])]
    return extra


def dependencies(views: Sequence[View]) -> dict[TableKey, set[TableKey]]:
    """Among `views`, the ones each reads (by name)."""
    return {v.key: {o.key for o in views if o.key != v.key and reads(v, o.name)} for v in views}
