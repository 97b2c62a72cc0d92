"""The way back: a plan from the live schema to the snapshot taken before an apply. Pure.

It is the same pipeline as any plan (`make_plan`), fed the recorded `snapshot_before` as target:
- the apply's renames are reversed by renames (the target is annotated with `renamed_from`, so
  `plan_renames` does the work; the snapshot diff alone would drop and add);
- what the apply kept (its backup records) comes back where the way back re-creates it;
- what the way back itself drops or narrows (rows written since) is kept in turn, under the
  rollback's own schema_state id, so that a roll-forward can bring it back.

Which applies can be undone: an apply that is in effect (`applied`, not yet `rolled back`), or one
that failed or was interrupted after committing some statements (MariaDB/MySQL, no transactional
DDL): its snapshot was recorded before its first statement.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from schemasync.backup import RENAME_COLUMN, RENAME_OBJECT, RENAME_TABLE, backups_needed
from schemasync.dialects import Dialect
from schemasync.errors import PlanError, RefusedError
from schemasync.operations import RenameTable
from schemasync.plan import Plan, make_plan
from schemasync.renames import unnamed_by_definition
from schemasync.scope import parse_table_key
from schemasync.snapshot import Snapshot, Table, by_key
from schemasync.state import APPLIED, FAILED, INTERRUPTED, RUNNING, StateRow

APPLY, ROLLBACK = "apply", "rollback"
# The record a rollback's plan carries: which apply it undoes.
UNDOES = "undoes"


def in_effect(rows: Sequence[StateRow]) -> list[StateRow]:
    """Applies whose changes are (at least partly) in the database, and rollbacks that stopped
    half-way (they are undone first), newest first."""
    return [row for row in rows if (row.kind == APPLY and row.status == APPLIED) or is_partial(row)]


def is_partial(row: StateRow) -> bool:
    """A failed or interrupted apply or rollback that left committed statements behind (dialects
    without transactional DDL). An interrupted one counts even at 0 steps: a kill between a
    statement's own commit and its progress being recorded leaves the count one short."""
    if not row.snapshot_before:
        return False
    return (row.status == FAILED and row.steps_done > 0) or row.status == INTERRUPTED


def undone_by(row: StateRow) -> int | None:
    """The apply a rollback row set out to undo."""
    return next((r["state_id"] for r in row.backups if r.get("kind") == UNDOES), None)


def to_undo(rows: Sequence[StateRow], to: int | None) -> list[StateRow]:
    """What a rollback undoes, newest first: the last apply, or every one back to apply `to`.

    A rollback that stopped half-way (MariaDB/MySQL) is undone first, back to where it started, and
    then the apply it was undoing: a plan from the half-way point could not tell which kept data
    it had already put back."""
    effective = in_effect(rows)
    if not effective:
        raise RefusedError("nothing to roll back: no apply recorded in schema_state is in effect")
    if to is None:
        first = effective[0]
        return [first] + ([row for row in effective[1:] if row.id == undone_by(first)] if first.kind == ROLLBACK else [])
    if not any(row.id == to and row.kind == APPLY for row in effective):
        found = next((row for row in rows if row.id == to), None)
        why = f"it is a {found.kind} ({found.status})" if found else "there is no such schema_state row"
        raise RefusedError(f"cannot roll back to before apply #{to}: {why}; `schemasync history` lists the applies in effect")
    return [row for row in effective if row.id >= to]


def forward_records(rows: Sequence[StateRow]) -> list[dict]:
    """What the next apply may bring back: the data kept by the newest row that changed something,
    when it is a rollback that ran (or ran part-way, or whose session has yet to be seen as
    interrupted), so that rolling forward restores what was written after the apply it undid."""
    # Failed rows that changed nothing (the transaction was rolled back) do not count.
    newest = next((row for row in rows if row.status in (APPLIED, RUNNING) or is_partial(row)), None)
    if newest is None or newest.kind != ROLLBACK:
        return []
    return [record for record in newest.backups if not record.get("pruned")]


def target_before(row: StateRow) -> Snapshot:
    """The snapshot before `row`, with its renames declared backwards."""
    snapshot = Snapshot.from_dict(row.snapshot_before)
    tables = {parse_table_key(r["table"]): r["new_name"] for r in row.backups if r.get("kind") == RENAME_TABLE}
    back = {(key[0], new): key for key, new in tables.items()}
    columns = {
        (back.get(key, key), r["old"]): r["new"]
        for r in row.backups if r.get("kind") == RENAME_COLUMN
        for key in [parse_table_key(r["table"])]
    }

    objects = {
        (back.get(key, key), r["old"]): r["new"]
        for r in row.backups if r.get("kind") == RENAME_OBJECT
        for key in [parse_table_key(r["table"])]
    }

    def mark(table: Table, items: tuple) -> tuple:
        return tuple(replace(i, renamed_from=objects[(table.key, i.name)]) if (table.key, i.name) in objects else i for i in items)

    def annotate(table: Table) -> Table:
        renamed = tuple(replace(c, renamed_from=columns.get((table.key, c.name))) for c in table.columns)
        pk = mark(table, (table.primary_key,))[0] if table.primary_key else None
        return replace(
            table, columns=renamed, renamed_from=tables.get(table.key), primary_key=pk,
            indexes=mark(table, table.indexes), uniques=mark(table, table.uniques), checks=mark(table, table.checks),
            foreign_keys=mark(table, table.foreign_keys),
        )

    return replace(snapshot, tables=tuple(annotate(t) for t in snapshot.tables))


def plan_rollback(live: Snapshot, row: StateRow, dialect: Dialect, record_id: int) -> Plan:
    """The plan that undoes `row`, recorded as schema_state #`record_id`."""
    plan = make_plan(live, target_before(row), dialect, row.managed_tables, record_id=record_id, restore_from=row.backups)
    return replace(plan, record_id=record_id, undo=plan.undo + ({"kind": UNDOES, "state_id": row.id},))


@dataclass(frozen=True)
class Chain:
    """The plans that undo several applies one after the other, made before any of them runs."""

    steps: tuple[tuple[StateRow, Plan], ...]
    # Why the plans stop before the last apply (a name only the server can give), or None.
    cut: str | None = None


def plan_chain(live: Snapshot, rows: Sequence[StateRow], dialect: Dialect, first_id: int, existing_backups: Collection[str]) -> Chain:
    """The way back through `rows` (newest first): each plan starts from the schema the previous one
    leaves (the snapshot recorded before the apply it undoes); `make_plan` needs no server for that.
    Refuses, before anything runs, when any step would be refused."""
    steps: list[tuple[StateRow, Plan]] = []
    source = live
    for n, row in enumerate(rows):
        try:
            plan = plan_rollback(source, row, dialect, first_id + n)
        except PlanError as error:
            if not steps:
                raise
            return Chain(tuple(steps), f"the plan that undoes apply #{row.id} depends on what the earlier steps create ({error})")
        reason = refusal(source, row, plan, existing_backups)
        if reason:
            where = f" (step {n + 1} of {len(rows)}; nothing was changed)" if steps else ""
            raise RefusedError(f"cannot roll back apply #{row.id}{where}: {reason}")
        steps.append((row, plan))
        source = after_rollback(source, row, plan)
    return Chain(tuple(steps))


def after_rollback(live: Snapshot, row: StateRow, plan: Plan) -> Snapshot:
    """The schema as the rollback of `row` (by `plan`) leaves it: the tables it manages as recorded
    before `row`, the others as they are. The names the server gave unnamed constraints (never in a
    recorded snapshot) are carried over from `live` where the table and the constraint stay."""
    before = Snapshot.from_dict(row.snapshot_before)
    renamed_from = {(op.table[0], op.new_name): op.table for op in plan.operations if isinstance(op, RenameTable)}
    managed = set(before.tables_by_key) | set(before.views_by_key) | set(row.managed_tables) | set(renamed_from.values())
    carried = [_server_names(t, live.table(renamed_from.get(t.key, t.key))) for t in before.tables]
    tables = sorted([t for t in live.tables if t.key not in managed] + carried, key=by_key)
    views = sorted([v for v in live.views if v.key not in managed] + list(before.views), key=by_key)
    return Snapshot(live.dialect, tuple(tables), before.enums, before.sequences, tuple(views))


def _server_names(table: Table, source: Table | None) -> Table:
    if source is None:
        return table

    def named(items: tuple, old: tuple) -> tuple:
        names = {item.key: item.db_name for item in old}
        return tuple(replace(item, db_name=item.db_name or names.get(item.key)) for item in items)

    pk = table.primary_key
    if pk is not None and source.primary_key is not None and pk.key == source.primary_key.key:
        pk = replace(pk, db_name=pk.db_name or source.primary_key.db_name)
    implicit = tuple(i for i in source.implicit_indexes if any(i.columns == fk.columns for fk in table.foreign_keys))
    return replace(
        table,
        primary_key=pk,
        foreign_keys=named(table.foreign_keys, source.foreign_keys),
        uniques=named(table.uniques, source.uniques),
        checks=named(table.checks, source.checks),
        implicit_indexes=implicit,
    )


def drifted(live: Snapshot, row: StateRow) -> bool:
    """Whether the live schema differs from what `row` applied, compared as `check` compares them: a
    constraint is matched by definition where the record leaves it unnamed, and under the record's
    name where that name has the server's form (renames.unnamed_by_definition)."""
    current = live.only(set(row.managed_tables))
    if current.fingerprint() == row.target_fingerprint:
        return False
    recorded = Snapshot.from_dict(row.snapshot_after) if row.snapshot_after else Snapshot(live.dialect)
    return unnamed_by_definition(current, recorded).fingerprint() != row.target_fingerprint


def refusal(live: Snapshot, row: StateRow, plan: Plan, existing_backups: Collection[str], unfilled: Mapping[str, int] | None = None) -> str | None:
    """Why the rollback of `row` cannot run safely (None when it can). `unfilled`: for each restored
    NOT NULL column (backup.requirements), how many rows would be left without a value."""
    if not row.snapshot_before:
        return f"apply #{row.id} recorded no snapshot of the schema before it"
    if not is_partial(row) and drifted(live, row):
        return (f"the live schema changed since apply #{row.id} (drift): `schemasync check` shows what changed; "
                f"undo that change (or re-apply the models) before rolling back")
    for name in backups_needed(plan.operations):
        if name not in existing_backups:
            return (f"the data apply #{row.id} dropped was kept in {name}, which is gone (pruned or dropped by hand): "
                    f"the rollback cannot bring it back; recreate {name}, or write models for the old schema and `apply` them")
    short = {column: count for column, count in sorted((unfilled or {}).items()) if count}
    if short:
        counts = "; ".join(f"{count} row{'s' if count != 1 else ''} would have no value for {column}" for column, count in short.items())
        return (f"{counts}, which the schema before apply #{row.id} declares NOT NULL and nothing kept a value for "
                f"(rows written since?): give them a value where the column exists, or delete them, then roll back again")
    return None
