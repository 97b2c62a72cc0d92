"""The Plan: an ordered list of steps with the SQL they run, and an identity (its hash).

A plan is made from two snapshots by one pure pipeline: diff, declared data changes, lower (dialect
strategy), order, render. Its hash is a digest of a documented canonical JSON (the source fingerprint and the
steps), so the same models against the same schema give the same hash on every run and machine.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemasync import backup
from schemasync.data_changes import Unfinished, plan_data_changes, resumed_fills
from schemasync.dialects import Dialect
from schemasync.diff import diff
from schemasync.errors import PlanError
from schemasync.hazards import ALL as ALL_HAZARDS
from schemasync.hazards import hazards_of, kept_data
from schemasync.online import (
    DEFAULT_FILL_BATCH_SIZE,
    TRANSACTION,
    batched_fills,
    fills_by_key,
    invalid_index_notes,
)
from schemasync.operations import (
    CreateTable,
    Operation,
    keep_narrowed_values,
    qualified,
)
from schemasync.ordering import order
from schemasync.preconditions import Precondition, preconditions
from schemasync.renames import plan_renames, rename_hints
from schemasync.render import render
from schemasync.scope import managed_view
from schemasync.snapshot import Snapshot, TableKey, digest, fingerprint_of
from schemasync.viewplan import around_changes, split

FORMAT = 1



# Steps that keep or bring back data around a change, rather than change the schema: shown as
# notes on the change they serve (plan_view), never counted as changes.
BOOKKEEPING = frozenset({"backup_table", "backup_columns", "restore_rows", "restore_columns"})

@dataclass(frozen=True)
class Step:
    """One operation as the plan shows it and apply runs it."""

    op: str
    table: str
    destructive: bool
    summary: str
    sql: tuple[str, ...]
    # What could go wrong or cost (hazards.py): "data-loss", "data-dependent", "table-rewrite", ...
    hazards: tuple[str, ...] = ()
    # How apply runs it: "transaction" (with the rest of the plan) or "online" (outside it, see online mode).
    mode: str = "transaction"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "table": self.table, "destructive": self.destructive, "summary": self.summary,
                "hazards": list(self.hazards), "mode": self.mode, "sql": list(self.sql)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(data["op"], data["table"], bool(data["destructive"]), data["summary"], tuple(data["sql"]),
                   tuple(data.get("hazards", ())), data.get("mode", "transaction"))


@dataclass(frozen=True)
class Plan:
    dialect: str
    source_fingerprint: str
    target_fingerprint: str
    steps: tuple[Step, ...]
    managed_tables: tuple[str, ...]
    target_tables: tuple[str, ...]
    unmanaged: tuple[str, ...] = ()
    # Drops paired with adds that look like renames: how to declare them (never acted on).
    hints: tuple[str, ...] = ()
    # The target snapshot in canonical form: recorded by apply, so drift can say what changed.
    target: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    operations: tuple[Operation, ...] = field(default=(), compare=False, repr=False)
    # The schema_state id the plan will be recorded as (its backup tables are named after it), and
    # what it keeps and renames (backup.py records), stored in schema_state for rollback.
    record_id: int | None = None
    undo: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    # What the live rows must satisfy for the data-dependent steps to succeed (checked before apply).
    preconditions: tuple[Precondition, ...] = ()
    # What the models declare that schemasync leaves out here, one line each with the reason (models.ignored).
    ignored: tuple[str, ...] = ()
    # The managed tables the live schema has, and how many of them the models still define (the others
    # are dropped): a plan that drops more than half of them needs --allow-mass-drop (`mass_drop`).
    tables_managed: int = 0
    tables_defined: int = 0
    # What the target was built from (target_cache.TargetRecord): apply records it with the target, so
    # the database serves later runs as the target cache. Not part of the plan's identity.
    built_from: Any = field(default=None, compare=False, repr=False)

    @property
    def hash(self) -> str:
        return digest({
            "format": FORMAT,
            "dialect": self.dialect,
            "source_fingerprint": self.source_fingerprint,
            "operations": [s.to_dict() for s in self.steps],
            **({"record_id": self.record_id, "undo": list(self.undo)} if self.undo else {}),
            **({"preconditions": [c.to_dict() for c in self.preconditions]} if self.preconditions else {}),
        })

    @property
    def destructive_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.destructive)

    @property
    def mass_drop(self) -> bool:
        """Whether the plan drops all the managed tables, or more than half of them: the models are
        more likely incomplete (a module never imported) than meant to lose that much."""
        dropped = self.tables_managed - self.tables_defined
        return dropped > 0 and 2 * dropped > self.tables_managed

    @property
    def hazards(self) -> dict[str, int]:
        """How many steps carry each hazard, gravest first."""
        counts = {h: sum(h in s.hazards for s in self.steps) for h in ALL_HAZARDS}
        return {h: n for h, n in counts.items() if n}

    @property
    def statements(self) -> list[str]:
        return [sql for step in self.steps for sql in step.sql]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "hash": self.hash,
            "dialect": self.dialect,
            "source_fingerprint": self.source_fingerprint,
            "target_fingerprint": self.target_fingerprint,
            "managed_tables": list(self.managed_tables),
            "target_tables": list(self.target_tables),
            "unmanaged": list(self.unmanaged),
            "ignored": list(self.ignored),
            "tables": {"managed": self.tables_managed, "defined": self.tables_defined},
            "hints": list(self.hints),
            "operations": [s.to_dict() for s in self.steps],
            "hazards": self.hazards,
            "preconditions": [c.to_dict() for c in self.preconditions],
            "target": self.target,
            "record_id": self.record_id,
            "undo": list(self.undo),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Plan:
        """Read a saved plan; a file that is not one, or was edited after saving, is refused."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise PlanError(f"{source}: not a schemasync plan (expected a JSON object)")
            if data.get("format") != FORMAT:
                raise PlanError(f"{source}: not a schemasync plan (format {data.get('format')!r}, expected {FORMAT})")
            plan = cls(
                dialect=data["dialect"],
                source_fingerprint=data["source_fingerprint"],
                target_fingerprint=data["target_fingerprint"],
                steps=tuple(Step.from_dict(s) for s in data["operations"]),
                managed_tables=tuple(data["managed_tables"]),
                target_tables=tuple(data["target_tables"]),
                unmanaged=tuple(data.get("unmanaged", [])),
                ignored=tuple(data.get("ignored", [])),
                tables_managed=int(data.get("tables", {}).get("managed", 0)),
                tables_defined=int(data.get("tables", {}).get("defined", 0)),
                hints=tuple(data.get("hints", [])),
                target=data["target"],
                record_id=data.get("record_id"),
                undo=tuple(data.get("undo", [])),
                preconditions=tuple(Precondition.from_dict(c) for c in data.get("preconditions", [])),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise PlanError(f"{source}: not a readable schemasync plan ({type(error).__name__}: {error})") from None
        if plan.hash != data.get("hash") or fingerprint_of(plan.target) != plan.target_fingerprint:
            raise PlanError(f"{source}: the plan's hash does not match its contents (edited after it was saved?)")
        return plan


def make_plan(
    live: Snapshot,
    target: Snapshot,
    dialect: Dialect,
    previously_managed: Iterable[TableKey] = (),
    drop_unmanaged: bool = False,
    record_id: int | None = None,
    restore_from: Sequence[dict[str, Any]] = (),
    online: bool = False,
    fill_batch_size: int = DEFAULT_FILL_BATCH_SIZE,
    unfinished_fills: Collection[Unfinished] = (),
) -> Plan:
    """The runnable plan from the live schema to the target. Pure: snapshots in, plan out.

    With `record_id` (the schema_state id it will be recorded as), data the plan would lose is kept
    first; `restore_from` are records of earlier plans whose kept data comes back where this plan
    re-creates its table or column (backup.py). `online`: changes to existing tables take their
    online forms (online.py), each step with the mode it runs in; a declared fill runs in batches
    of `fill_batch_size` rows (on a dialect that `fills_added_columns_by_key`, a NOT NULL column with a
    default is added at once and filled by key). `unfinished_fills`: fills an earlier apply did not
    finish (recovery.unfinished_fills), filled again where the diff has nothing for them.
    """
    current, unmanaged = managed_view(live, target, previously_managed, drop_unmanaged)
    renames, renamed = plan_renames(current, target)
    views, operations = split(renames + keep_narrowed_values(diff(renamed, target), dialect.narrowing_keeps_values_on))
    operations = plan_data_changes(operations)
    resumed, resume_notes = resumed_fills(operations, renamed, target, unfinished_fills)
    operations += resumed
    hints = tuple(rename_hints(operations)) + tuple(resume_notes)
    keep, records, notes = backup.protect(operations, renamed, record_id, dialect.max_name_length) if record_id is not None else ([], [], [])
    undo = tuple(records + backup.rename_records(operations)) if record_id is not None else ()
    operations, restores, restore_notes = backup.restore(restore_from, operations, target, dialect.checks_foreign_keys_in_apply)
    hints += tuple(notes + restore_notes)
    operations = dialect.lower(operations, renamed, target) + keep + restores
    operations += views + around_changes(views, operations, renamed, target)
    operations = order(operations, split_fk_cycles=dialect.fk_needs_existing_target)
    modes = dialect.online_steps(operations, renamed) if online else [(op, TRANSACTION) for op in operations]
    modes, key_notes = fills_by_key(modes, renamed, fill_batch_size, added=online and dialect.fills_added_columns_by_key)
    modes, batch_notes = batched_fills(modes, renamed, fill_batch_size) if online and dialect.online_ddl else (modes, [])
    batch_notes = key_notes + batch_notes
    operations = [op for op, _ in modes]
    hints += tuple(invalid_index_notes(renamed, target)) + ((dialect.online_note,) if online and operations else ()) + tuple(batch_notes)
    created = {op.table for op in operations if isinstance(op, CreateTable)}
    kept = kept_data(operations)
    steps = tuple(
        Step(op.op, qualified(op.table), op.destructive, op.summary(), tuple(render(op, dialect, mode)), hazards_of(op, dialect, created, kept, mode), mode=mode)
        for op, mode in modes
    )
    # Enum types and sequences are named beside the tables ("enum:name"), so schema_state records them
    # as managed; views are recorded with the tables too: what was managed once stays managed (scope.managed_view).
    targeted = tuple(t.qualified_name for t in target.tables) + tuple(v.qualified_name for v in target.views) + tuple(sorted(qualified(key) for key in target.object_keys()))
    managed = tuple(sorted({t.qualified_name for t in current.tables} | {v.qualified_name for v in current.views} | set(targeted) | {qualified(key) for key in current.object_keys()}))
    return Plan(dialect.name, current.fingerprint(), target.fingerprint(), steps, managed, targeted, unmanaged, hints, target.to_dict(), tuple(operations),
                record_id=record_id if undo else None, undo=undo, preconditions=preconditions(operations, renamed, dialect.narrowing_fails_on),
                tables_managed=len(current.tables), tables_defined=tables_defined(current, target))


def tables_defined(current: Snapshot, target: Snapshot) -> int:
    """How many of the managed live tables the models still define (under their name or, renamed, another)."""
    defined = set(target.tables_by_key) | {(t.schema, t.renamed_from) for t in target.tables if t.renamed_from}
    return sum(t.key in defined for t in current.tables)
