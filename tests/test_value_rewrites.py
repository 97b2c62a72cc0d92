"""The audit of issue 16: every step that drops and re-adds a column or rewrites its values, with rows,
on each dialect where it exists (docs/hazards.md, "Steps that rewrite values").

Each case applies the models before, inserts rows, applies the models after and asserts the values
then; a step that does not keep every value must be gated (destructive: refused without
`--allow-destructive`, the values kept in a backup). Then `rollback` must bring back the values the
rows had before, and the schema the models before describe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.harness import HEADER
from tests.harness import converge_each as converges

TABLE = 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False), sa.Column("a", sa.Integer), {column})\n'


@dataclass(frozen=True)
class Case:
    before: str  # the column v, as the models declare it before
    after: str
    rows: tuple[tuple[int, int, object], ...]  # (id, a, v); v None for a generated column
    values_before: tuple[object, ...]  # v by id, as the server gives them back
    values_after: dict[str, tuple[object, ...]]  # by dialect ("*": every dialect)
    gated: bool | dict[str, bool]  # destructive: not every value survives (by dialect, "*" the others)
    dialects: tuple[str, ...] = ("sqlite", "postgresql", "mysql")
    derived: bool = False  # v is generated after the step: its values are the expression's, not kept ones


def _computed(expression: str, stored: str) -> str:
    return f'sa.Column("v", sa.Integer, sa.Computed("{expression}", persisted={stored}))'


CASES = {
    # AlterColumn type change: PostgreSQL ALTER ... TYPE ... USING, MariaDB MODIFY, SQLite rebuild_table.
    "integer_to_bigint": Case('sa.Column("v", sa.Integer)', 'sa.Column("v", sa.BigInteger)', ((1, 0, 5), (2, 0, -7)), (5, -7), {"*": (5, -7)}, gated=False),
    "text_to_integer": Case('sa.Column("v", sa.String(10))', 'sa.Column("v", sa.Integer)', ((1, 0, "12"), (2, 0, "7")), ("12", "7"), {"*": (12, 7)}, gated=True),
    # PostgreSQL and MariaDB round to the new scale (MariaDB with a note, not an error); SQLite keeps the value.
    "numeric_scale_narrowed": Case(
        'sa.Column("v", sa.Numeric(10, 2))', 'sa.Column("v", sa.Numeric(10, 1))', ((1, 0, "1.55"), (2, 0, "2.25")), (1.55, 2.25),
        {"sqlite": (1.55, 2.25), "*": (1.6, 2.3)}, gated={"sqlite": False, "*": True},  # SQLite keeps every value
    ),
    "varchar_widened": Case('sa.Column("v", sa.String(5))', 'sa.Column("v", sa.String(20))', ((1, 0, "abc"), (2, 0, "xy")), ("abc", "xy"), {"*": ("abc", "xy")}, gated=False),
    # ReplaceGeneratedColumn (PostgreSQL: a new expression; MariaDB: VIRTUAL <-> STORED) and SQLite's rebuild:
    # the values are derived from the row, so none is lost and rollback derives the old ones again.
    "generated_new_expression": Case(_computed("a * 2", "{stored}"), _computed("a * 3", "{stored}"), ((1, 3, None), (2, 5, None)), (6, 10), {"*": (9, 15)}, gated=False, derived=True),
    "generated_virtual_to_stored": Case(
        _computed("a + 1", "False"), _computed("a + 1", "True"), ((1, 3, None), (2, 5, None)), (4, 6), {"*": (4, 6)}, gated=False, dialects=("sqlite", "mysql"), derived=True,
    ),
    # generated -> regular: PostgreSQL DROP EXPRESSION, MariaDB MODIFY (STORED) or drop, add and
    # UPDATE from the old expression (VIRTUAL), SQLite rebuild: the values stay. Its rollback is the
    # regular -> generated step, gated, and run by rollback (which restores).
    "generated_to_regular": Case(_computed("a * 2", "{stored}"), 'sa.Column("v", sa.Integer)', ((1, 3, None), (2, 5, None)), (6, 10), {"*": (6, 10)}, gated=False),
    # regular -> generated: the stored values are replaced by the expression's (ReplaceGeneratedColumn,
    # MariaDB's MODIFY to STORED, SQLite's rebuild): gated, kept, restored by rollback.
    "regular_to_generated": Case(
        'sa.Column("v", sa.Integer)', _computed("a * 2", "{stored}"), ((1, 3, 100), (2, 5, 200)), (100, 200), {"*": (6, 10)}, gated=True, derived=True,
    ),
    # MariaDB inline ENUM: values added and reordered keep every row; a value removed is gated.
    "inline_enum_grown": Case('sa.Column("v", sa.Enum("x", "y"))', 'sa.Column("v", sa.Enum("y", "x", "z"))', ((1, 0, "x"), (2, 0, "y")), ("x", "y"), {"*": ("x", "y")}, gated=False, dialects=("mysql",)),
    "inline_enum_value_removed": Case(
        'sa.Column("v", sa.Enum("x", "y", "z"))', 'sa.Column("v", sa.Enum("x", "y"))', ((1, 0, "x"), (2, 0, "y")), ("x", "y"), {"*": ("x", "y")}, gated=True, dialects=("mysql",),
    ),
    # PostgreSQL: a column moved to another enum type (cast through text), and SwapEnum (values
    # dropped or reordered: the type renamed aside, made anew, the column converted through text).
    "enum_type_moved": Case(
        'sa.Column("v", sa.Enum("x", "y", name="e1"))', 'sa.Column("v", sa.Enum("y", "x", name="e2"))', ((1, 0, "x"), (2, 0, "y")), ("x", "y"), {"*": ("x", "y")},
        gated=True, dialects=("postgresql",),
    ),
    "enum_swapped": Case(
        'sa.Column("v", sa.Enum("x", "y", "z", name="e"))', 'sa.Column("v", sa.Enum("z", "x", name="e"))', ((1, 0, "x"), (2, 0, "z")), ("x", "z"), {"*": ("x", "z")},
        gated=False, dialects=("postgresql",),
    ),
}


def _params():
    for name, case in sorted(CASES.items()):
        for dialect in case.dialects:
            yield pytest.param(name, dialect, id=f"{name}-{dialect}")


def _values(db, casted: bool) -> tuple[object, ...]:
    text = "v::text" if casted else "v"
    values = tuple(v for (v,) in db.rows(f"SELECT {text} FROM t ORDER BY id"))
    return tuple(float(v) if isinstance(v, (Decimal, float)) else v for v in values)


@pytest.mark.parametrize(("name", "db"), list(_params()), indirect=["db"])
def test_values_kept_or_gated_and_rolled_back(project, db, name):
    case = CASES[name]
    stored = "True" if db.dialect == "postgresql" else "False"  # PostgreSQL 15 has STORED generated columns only
    before, after = (TABLE.format(column=c.replace("{stored}", stored)) for c in (case.before, case.after))
    casted = db.dialect == "postgresql" and "name=" in case.before  # a named enum's values as text
    converges(project, before)
    for id_, a, v in case.rows:
        columns, values = ("id, a", f"{id_}, {a}") if v is None else ("id, a, v", f"{id_}, {a}, '{v}'")
        project.db.execute(f"INSERT INTO t ({columns}) VALUES ({values})")
    assert _values(project.db, casted) == case.values_before

    models = project.write_models("after", HEADER + after)
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    destructive = any(op["destructive"] for op in plan["operations"])
    gated = case.gated if isinstance(case.gated, bool) else case.gated.get(db.dialect, case.gated["*"])
    assert destructive == gated, plan
    if destructive:
        assert "backup_columns" in [op["op"] for op in plan["operations"]], plan
        refused = project.cli("apply", "--yes", models=models)
        assert refused.exit_code == 1 and "--allow-destructive" in refused.output, refused.output
        assert _values(project.db, casted) == case.values_before
    converges(project, after)
    expected = case.values_after.get(db.dialect, case.values_after["*"])
    assert _values(project.db, casted) == expected
    assert destructive or case.derived or expected == case.values_before, "a step that changes values must be gated"

    rolled = project.cli("rollback", "--yes", models=models)
    assert rolled.exit_code == 0, rolled.output
    assert _values(project.db, casted) == case.values_before
    models_before = project.write_models("before_again", HEADER + before)
    assert project.cli("check", models=models_before).exit_code == 0, project.cli("check", models=models_before).output


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_auto_increment_put_on_a_column_holding_zero_is_refused_by_preflight(project, db):
    """MariaDB renumbers the zeros of a column AUTO_INCREMENT goes on (0 became 1, silently):
    pre-flight counts them, and nothing runs until they hold other values."""
    from tests.test_mysql_autoincrement import table

    converges(project, table(""))
    project.db.execute("INSERT INTO t (id, v, n) VALUES (1, 'a', 0), (2, 'b', 5)")
    models = project.write_models("auto", HEADER + table("sa.Identity()"))
    refused = project.cli("apply", "--yes", models=models)
    assert refused.exit_code == 1 and "pre-flight" in refused.output and "t.n: 1 row holds 0, which AUTO_INCREMENT would renumber" in refused.output, refused.output
    assert project.db.rows("SELECT id, n FROM t ORDER BY id") == [(1, 0), (2, 5)]
    project.db.execute("UPDATE t SET n = 1 WHERE id = 1")
    converges(project, table("sa.Identity()"))
    assert project.db.rows("SELECT id, n FROM t ORDER BY id") == [(1, 1), (2, 5)]
