"""Every kind of plan step is complete: it has a phase (or is an online form), a rendering, hazards,
a way back, and a JSON form. Pure: each kind is made by planning between two small snapshots, the
way apply and rollback make it, so a new `Operation` class fails here until it has all of these."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from sqlalchemy.dialects.mysql import pymysql

from schemasync import hazards
from schemasync.dialects import REGISTRY, Dialect, dialect_class, offline_dialect
from schemasync.online import ONLINE_FORMS
from schemasync.operations import UNDONE_BY, Operation, RenameTable
from schemasync.ordering import PHASE_OF, PHASES
from schemasync.plan import Plan, make_plan
from schemasync.render import elements
from schemasync.rollback import plan_rollback
from schemasync.scope import parse_table_key
from schemasync.snapshot import (
    Check,
    Column,
    EnumType,
    Exclusion,
    ForeignKey,
    Index,
    PrimaryKey,
    SequenceDef,
    Snapshot,
    Table,
    Unique,
    View,
    by_key,
)
from schemasync.state import APPLIED, StateRow

ID = Column("id", "INTEGER", nullable=False)
A = Column("a", "VARCHAR(20)")
B = Column("b", "INTEGER")
T = Table("t", (ID, A, B), primary_key=PrimaryKey(("id",), db_name="t_pkey"))
P = Table("p", (ID,), primary_key=PrimaryKey(("id",), db_name="p_pkey"))
N = Column("n", "INTEGER", nullable=False)  # MariaDB: AUTO_INCREMENT on a column that is not the key


def t(**changes: Any) -> Table:
    return replace(T, **changes)


def snap(dialect: str, *tables: Table, **objects: Any) -> Snapshot:
    return Snapshot(dialect, tuple(sorted(tables, key=by_key)), **objects)


def _restore(kind: str, **record: Any) -> dict[str, Any]:
    """An earlier plan's record of kept data (backup.py), for a plan that brings it back."""
    return {"restore_from": [{"kind": kind, "table": "t", **record}]}


ROWS = _restore("table", backup="schemasync_backup_1_t", columns=["id", "a", "b"])
VALUES = _restore("columns", backup="schemasync_backup_1_t__columns", key=["id"], columns=["a"])
ONLINE = {"online": True}
PG, MARIADB, SQLITE = "postgresql", "mysql", "sqlite"

# name: (dialect, live, target, make_plan's other arguments)
CASES: dict[str, tuple[str, Snapshot, Snapshot, dict[str, Any]]] = {
    "tables": (PG, snap(PG, P), snap(PG, T), {}),
    "rename table": (PG, snap(PG, T), snap(PG, t(name="u", renamed_from="t")), {}),
    "rename column": (PG, snap(PG, T), snap(PG, t(columns=(ID, replace(A, name="a2", renamed_from="a"), B))), {}),
    "rename index": (PG, snap(PG, t(indexes=(Index("ix", ("a",)),))), snap(PG, t(indexes=(Index("ix2", ("a",), renamed_from="ix"),))), {}),
    "rename constraint": (PG, snap(PG, t(uniques=(Unique(("a",), "uq"),))), snap(PG, t(uniques=(Unique(("a",), "uq2", renamed_from="uq"),))), {}),
    "columns": (PG, snap(PG, T), snap(PG, t(columns=(ID, Column("a", "VARCHAR(10)", nullable=False), Column("c", "TEXT")), comment="hi")), {}),
    "generated": (
        PG,
        snap(PG, t(columns=(ID, B, Column("g", "INTEGER", computed="b + 1", persisted=True)))),
        snap(PG, t(columns=(ID, B, Column("g", "INTEGER", computed="b + 2", persisted=True)))),
        {},
    ),
    "table options": (MARIADB, snap(MARIADB, t(options=(("mysql_engine", "InnoDB"),))), snap(MARIADB, t(options=(("mysql_engine", "MyISAM"),))), {}),
    "constraints": (
        PG,
        snap(PG, P, t(primary_key=None, foreign_keys=(ForeignKey(("b",), "p", ("id",), name="fk_old"),), uniques=(Unique(("a",), "uq_a"),),
                      indexes=(Index("ix_a", ("a",)),), checks=(Check("b > 0", "ck_b"),))),
        # Another definition, not only another name (that would be a rename: renames._names_to_carry).
        snap(PG, P, t(foreign_keys=(ForeignKey(("b",), "p", ("id",), name="fk_new", ondelete="CASCADE"),), uniques=(Unique(("b",), "uq_b"),),
                      indexes=(Index("ix_b", ("b",)),), checks=(Check("b > 1", "ck_b2"),))),
        {},
    ),
    "primary key dropped": (PG, snap(PG, T), snap(PG, t(primary_key=None)), {}),
    "exclusion constraints": (PG, snap(PG, t(exclusions=(Exclusion("EXCLUDE USING gist (b WITH =)", "ex_old"),))),
                              snap(PG, t(exclusions=(Exclusion("EXCLUDE USING gist (b WITH =)", "ex_new"),))), {}),
    "rebuild": (SQLITE, snap(SQLITE, T), snap(SQLITE, t(columns=(ID, Column("a", "VARCHAR(10)"), B))), {}),
    "views": (PG, snap(PG, T, views=(View("v1", "SELECT 1"),)), snap(PG, T, views=(View("v2", "SELECT 2"),)), {}),
    "enum types and sequences": (
        PG,
        snap(PG, enums=(EnumType("gone", ("x",)), EnumType("grow", ("a",)), EnumType("shrink", ("a", "b")), EnumType("named", ("old",))),
             sequences=(SequenceDef("s_gone"), SequenceDef("s_alter"))),
        snap(PG, t(schema="side"), enums=(EnumType("grow", ("a", "b")), EnumType("shrink", ("a",)), EnumType("named", ("new",), renamed_values=(("old", "new"),)),
             EnumType("fresh", ("x",))), sequences=(SequenceDef("s_alter", start=5), SequenceDef("s_new"))),
        {},
    ),
    "auto increment on": (MARIADB, snap(MARIADB, t(columns=(ID, N), indexes=(Index("ix_n", ("n",)),))),
                          snap(MARIADB, t(columns=(ID, replace(N, autoincrement=True)), indexes=(Index("ix_n", ("n",)),))), {}),
    "auto increment off": (MARIADB, snap(MARIADB, t(columns=(ID, replace(N, autoincrement=True)), indexes=(Index("ix_n", ("n",)),))),
                           snap(MARIADB, t(columns=(ID, N), indexes=(Index("ix_n", ("n",)),))), {}),
    "rows restored": (PG, snap(PG), snap(PG, T), ROWS),
    "values restored": (PG, snap(PG, t(columns=(ID, B))), snap(PG, t(columns=(ID, replace(A, nullable=False), B))), VALUES),
    "values restored by a rebuild": (SQLITE, snap(SQLITE, t(columns=(ID, B))), snap(SQLITE, t(columns=(ID, replace(A, nullable=False), B))), VALUES),
    "online postgresql": (
        PG,
        snap(PG, P, t(indexes=(Index("ix_a", ("a",)),))),
        snap(PG, P, t(columns=(ID, replace(A, nullable=False), B), foreign_keys=(ForeignKey(("b",), "p", ("id",), name="fk_b"),),
                      uniques=(Unique(("b",), "uq_b"),), indexes=(Index("ix_b", ("b",)),), checks=(Check("b > 0", "ck_b"),))),
        ONLINE,
    ),
    "fills": (PG, snap(PG, T), snap(PG, t(columns=(ID, A, B, Column("c", "TEXT", nullable=False, backfill="a || 'x'")))), {}),
    "online fills": (PG, snap(PG, T), snap(PG, t(columns=(ID, replace(A, nullable=False, backfill="'x'"), B))), ONLINE),
    "conversions": (PG, snap(PG, T), snap(PG, t(columns=(ID, replace(A, type="INTEGER", using="length(a)"), B))), {}),
    "online mariadb": (MARIADB, snap(MARIADB, P, T), snap(MARIADB, P, t(foreign_keys=(ForeignKey(("b",), "p", ("id",), name="fk_b"),))), ONLINE),
    "online mariadb fills by key": (MARIADB, snap(MARIADB, T), snap(MARIADB, t(columns=(ID, A, B, Column("c", "INTEGER", nullable=False, default="0", backfill="b + 1")))), ONLINE),
}
APPLY_ID, ROLLBACK_ID = 7, 8


# MySQL as MariaDB, the server the suite runs on (its online forms differ from MySQL 8's).
SERVERLESS = {MARIADB: pymysql.dialect(is_mariadb=True)}


def dialect(name: str) -> Dialect:
    """The dialect with no server behind it."""
    return dialect_class(name)(SERVERLESS[name]) if name in SERVERLESS else offline_dialect(name)


def _managed(snapshot: Snapshot) -> list[Any]:
    return [table.key for table in snapshot.tables] + [view.key for view in snapshot.views] + sorted(snapshot.object_keys(), key=str)


@cache
def planned(case: str) -> tuple[Plan, Plan]:
    """The case's plan, as apply makes it (with its schema_state id), and the rollback's plan after it."""
    name, live, target, options = CASES[case]
    forward = make_plan(live, target, dialect(name), _managed(live), record_id=APPLY_ID, **options)
    row = StateRow(
        APPLY_ID, "apply", APPLIED, forward.hash, forward.source_fingerprint, forward.target_fingerprint,
        tuple(parse_table_key(key) for key in forward.target_tables), len(forward.steps), len(forward.steps), None, "test", "0",
        datetime(2026, 1, 1, tzinfo=UTC), 1, list(forward.undo), {"snapshot_before": json.dumps(live.to_dict())},
    )
    return forward, plan_rollback(target, row, dialect(name), ROLLBACK_ID)


@cache
def examples() -> dict[type[Operation], tuple[str, Operation, str]]:
    """The first step of each kind the cases make: (case, operation, mode)."""
    found: dict[type[Operation], tuple[str, Operation, str]] = {}
    for case in CASES:
        forward, _ = planned(case)
        for op, step in zip(forward.operations, forward.steps, strict=True):
            found.setdefault(type(op), (case, op, step.mode))
    return found


def kinds() -> list[type[Operation]]:
    """Every concrete Operation class (the planning modules are imported above)."""
    found, pending = set(), list(Operation.__subclasses__())
    while pending:
        kind = pending.pop()
        found.add(kind)
        pending += kind.__subclasses__()
    return sorted(found, key=lambda kind: kind.__name__)


KINDS = kinds()


def test_every_kind_of_step_is_made_by_a_case():
    """So that every check below runs on a real instance (a new kind needs a case here)."""
    missing = [kind.__name__ for kind in KINDS if kind not in examples()]
    assert not missing, f"no case in CASES makes {missing}"


def test_every_kind_has_a_phase_or_is_an_online_form():
    for kind in KINDS:
        assert (kind in PHASE_OF) != (kind in ONLINE_FORMS), f"{kind.__name__}: a phase in ordering.PHASE_OF, or an entry in online.ONLINE_FORMS (not both)"
    assert set(PHASE_OF.values()) == set(PHASES), "a phase no operation is in"
    for form, stands_for in ONLINE_FORMS.items():
        assert stands_for is None or issubclass(form, stands_for), f"{form.__name__} is not a form of {stands_for.__name__}"


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_kind_renders(kind):
    assert elements.dispatch(kind) is not elements.dispatch(object), f"no rendering registered for {kind.__name__} in render.py"
    case, op, _ = examples()[kind]
    forward, _ = planned(case)
    step = forward.steps[forward.operations.index(op)]
    assert step.sql and all(isinstance(sql, str) and sql.strip() for sql in step.sql), step


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_kind_has_hazards_on_every_dialect(kind):
    """Neutral and per-server hazards answer for any step, on any dialect, with known names."""
    _, op, mode = examples()[kind]
    assert hazards.neutral_hazards(op) <= set(hazards.ALL)
    assert (hazards.DATA_LOSS in hazards.neutral_hazards(op)) == op.destructive
    for name in REGISTRY:
        assert set(dialect(name).cost_hazards(op, mode)) <= set(hazards.ALL), name
        assert set(hazards.hazards_of(op, dialect(name), set(), set(), mode)) <= set(hazards.ALL), name
        assert hazards.hazards_of(op, dialect(name), {op.table}, set(), mode) == (), "a step on a new table has no hazards"


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_kind_has_a_json_form_that_the_plan_keeps(kind):
    case, op, _ = examples()[kind]
    forward, _ = planned(case)
    data = json.loads(json.dumps(op.to_dict()))
    step = forward.steps[forward.operations.index(op)]
    assert (data["op"], data["table"], data["destructive"], data["summary"]) == (step.op, step.table, step.destructive, step.summary)
    assert data["op"] and data["summary"]
    again = Plan.from_json(forward.to_json(), "plan.json")
    assert again == forward and again.hash == forward.hash


def _undone_by(kind: type[Operation]) -> tuple[type[Operation], ...]:
    if kind in ONLINE_FORMS:
        stands_for = ONLINE_FORMS[kind]
        return UNDONE_BY[stands_for] if stands_for is not None else ()
    return UNDONE_BY[kind]


def test_every_kind_says_how_it_is_undone():
    missing = [kind.__name__ for kind in KINDS if kind not in UNDONE_BY and kind not in ONLINE_FORMS]
    assert not missing, f"not in operations.UNDONE_BY: {missing}"


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_the_way_back_makes_the_steps_undone_by_names(kind):
    """Rollback plans from the applied target back to the snapshot before: that plan has the steps
    `UNDONE_BY` promises, on the same table or object (a SQLite rebuild counts for the changes it
    carries out; a renamed table is named by its new name on the way back)."""
    case, op, _ = examples()[kind]
    _, back = planned(case)
    made = {(type(step), step.table) for step in back.operations}
    made |= {(type(change), change.table) for step in back.operations for change in hazards.changes_within(step)}
    keys = {op.table, (op.table[0], op.new_name)} if isinstance(op, RenameTable) else {op.table}
    missing = [undo.__name__ for undo in _undone_by(kind) if not any((undo, key) in made for key in keys)]
    assert not missing, f"{case}: the way back has {sorted((k.__name__, key) for k, key in made)}, not {missing} on {keys}"
