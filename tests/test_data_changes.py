"""Declared data changes (data_changes.py): `backfill` fills a column, `using` converts one.

Every case runs with rows on each dialect, through the CLI: the plan shows the fill (or the
conversion) as a step, `apply` converges (`plan` empty, `check` 0: the hint is inert once applied),
every row's values are checked, then `rollback` brings every original value back.
"""

from __future__ import annotations

import json
from decimal import Decimal

from schemasync.errors import ExitCode
from tests.alembic_project import alembic, write_setup
from tests.harness import assert_converged, converge, ops

PEOPLE = """
import sqlalchemy as sa
metadata = sa.MetaData()
people = sa.Table("people", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("first_name", sa.String(40)),
    sa.Column("last_name", sa.String(40)),
    sa.Column("code", sa.String(10)),
    sa.Column("price", sa.String(20)))
"""
ROWS = [(1, "Ada", "Lovelace", "AB-123", "12,50"), (2, "Alan", "Turing", "CD-4", "3"), (3, "Grace", "Hopper", "EF-56", "0,99")]


def _seed(project) -> str:
    before = project.write_models("before", PEOPLE)
    assert project.cli("apply", "--yes", models=before).exit_code == ExitCode.OK
    project.db.execute(*(f"INSERT INTO people VALUES ({i}, '{f}', '{la}', '{c}', '{p}')" for i, f, la, c, p in ROWS))
    return before


def _people(project, columns: str) -> list[tuple]:
    return project.db.rows(f"SELECT {columns} FROM people ORDER BY id")


def _rolled_back(project) -> None:
    """`rollback` converges on the first models, with every original value back."""
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == ExitCode.OK, rolled.output
    assert _people(project, "id, first_name, last_name, code, price") == ROWS


FULL_NAME = PEOPLE + """
people.append_column(sa.Column("full_name", sa.String(90), nullable=False,
    info={"schemasync": {"backfill": people.c.first_name + " " + people.c.last_name}}))
"""


def test_a_new_not_null_column_is_added_nullable_filled_then_required(project):
    _seed(project)
    after = project.write_models("after", FULL_NAME)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    fills = [s for s in planned["operations"] if s["op"] == "fill_column"]
    if project.db.dialect == "sqlite":  # the rebuild's copy fills it
        assert ops(planned) == ["rebuild_table"], ops(planned)
        assert "fill people.full_name from (" in planned["operations"][0]["summary"]
    else:
        assert ops(planned) == ["add_column", "fill_column", "alter_column"], ops(planned)
        assert "NOT NULL" not in planned["operations"][0]["sql"][0]
        assert "UPDATE" in fills[0]["sql"][0] and "data-dependent" in fills[0]["hazards"]
        assert "set NOT NULL" in planned["operations"][2]["summary"]
    assert "Lovelace" not in json.dumps(planned) and "last_name" in project.cli("plan", "--sql", models=after).output

    converge(project, after)  # the hint is inert once applied
    assert _people(project, "id, full_name") == [(1, "Ada Lovelace"), (2, "Alan Turing"), (3, "Grace Hopper")]
    _rolled_back(project)
    assert "full_name" not in project.cli("inspect").output


def test_the_fill_expression_is_part_of_the_plan_hash(project):
    _seed(project)
    one = project.write_models("one", FULL_NAME)
    other = project.write_models("other", FULL_NAME.replace('" "', '"-"'))
    hashes = {json.loads(project.cli("plan", "--json", models=m).output)["hash"] for m in (one, other)}
    assert len(hashes) == 2


TEXT_FILLS = PEOPLE + """
people.append_column(sa.Column("shout", sa.String(40), nullable=False, server_default="?", info={"schemasync": {"backfill": "UPPER(first_name)"}}))
people.append_column(sa.Column("quiet", sa.String(40), info={"schemasync": {"backfill": sa.text("LOWER(last_name)")}}))
"""


def test_text_and_sa_text_fills_with_a_default_and_a_nullable_column(project):
    _seed(project)
    converge(project, project.write_models("after", TEXT_FILLS))
    assert _people(project, "shout, quiet") == [("ADA", "lovelace"), ("ALAN", "turing"), ("GRACE", "hopper")]
    project.db.execute("INSERT INTO people (id) VALUES (4)")
    assert project.db.scalar("SELECT shout FROM people WHERE id = 4") == "?"  # the declared default is in place after the fill
    assert project.cli("rollback", "--yes").exit_code == ExitCode.OK
    assert _people(project, "id, first_name, last_name, code, price")[:3] == ROWS


def test_preflight_counts_the_rows_the_fill_leaves_null_and_changes_nothing(project):
    before = _seed(project)
    project.db.execute("UPDATE people SET last_name = NULL WHERE id IN (1, 3)")
    refused = project.cli("apply", "--yes", models=project.write_models("after", FULL_NAME))
    assert refused.exit_code == ExitCode.ERROR
    assert "gives NULL for 2 rows" in refused.output and "Traceback" not in refused.output
    assert_converged(project, before)  # nothing changed


def test_an_expression_naming_an_unknown_column_is_one_line_and_changes_nothing(project):
    before = _seed(project)
    bad = PEOPLE + '\npeople.append_column(sa.Column("nick", sa.String(40), nullable=False, info={"schemasync": {"backfill": "UPPER(no_such_column)"}}))\n'
    refused = project.cli("apply", "--yes", models=project.write_models("after", bad))
    assert refused.exit_code == ExitCode.ERROR, refused.output
    assert "people.nick: the expression (UPPER(no_such_column)) fails" in refused.output and "Traceback" not in refused.output
    assert_converged(project, before)


def test_a_backfill_on_a_column_that_exists_and_is_filled_is_inert(project):
    _seed(project)
    converge(project, project.write_models("after", PEOPLE.replace('sa.Column("code", sa.String(10))',
                                                                  'sa.Column("code", sa.String(10), info={"schemasync": {"backfill": "\'x\'"}})')))
    assert _people(project, "id, first_name, last_name, code, price") == ROWS


def test_a_backfill_fills_the_nulls_of_a_column_made_not_null(project):
    _seed(project)
    project.db.execute("UPDATE people SET code = NULL WHERE id = 2")
    required = PEOPLE.replace('sa.Column("code", sa.String(10))', 'sa.Column("code", sa.String(10), nullable=False, info={"schemasync": {"backfill": "first_name"}})')
    converge(project, project.write_models("after", required))
    assert _people(project, "code") == [("AB-123",), ("Alan",), ("EF-56",)]


def test_using_on_a_change_that_is_not_a_type_change_or_on_a_new_column_is_refused(project):
    before = _seed(project)
    not_a_type = PEOPLE.replace('sa.Column("code", sa.String(10))', 'sa.Column("code", sa.String(10), nullable=False, info={"schemasync": {"using": "UPPER(code)"}})')
    new = PEOPLE + '\npeople.append_column(sa.Column("n", sa.Integer, info={"schemasync": {"using": "1"}}))\n'
    for models, said in ((not_a_type, "not a type change"), (new, "a column the plan adds")):
        refused = project.cli("apply", "--yes", models=project.write_models("after", models))
        assert refused.exit_code == ExitCode.ERROR, refused.output
        assert said in refused.output and len(refused.output.strip().splitlines()) == 1, refused.output
    assert_converged(project, before)


CONVERTED = PEOPLE.replace('sa.Column("price", sa.String(20))',
                           'sa.Column("price", sa.Numeric(10, 2), info={"schemasync": {"using": "CAST(REPLACE(price, \',\', \'.\') AS DECIMAL(10, 2))"}})')


def test_using_converts_a_type_change_and_rollback_brings_the_old_values_back(project):
    _seed(project)
    after = project.write_models("after", CONVERTED)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    assert any("using (CAST(REPLACE(price" in s["summary"] for s in planned["operations"]), planned["operations"]
    converge(project, after, "--allow-destructive")
    assert [Decimal(str(p)) for (p,) in _people(project, "price")] == [Decimal("12.50"), Decimal("3.00"), Decimal("0.99")]
    _rolled_back(project)


SPLIT = PEOPLE.replace('sa.Column("code", sa.String(10)),', '''
    sa.Column("prefix", sa.String(2), nullable=False, info={"schemasync": {"backfill": "SUBSTR(code, 1, 2)"}}),
    sa.Column("number", sa.String(8), info={"schemasync": {"backfill": "SUBSTR(code, 4)"}}),''')

MERGE = """
import sqlalchemy as sa
metadata = sa.MetaData()
people = sa.Table("people", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(10)),
    sa.Column("price", sa.String(20)))
source = sa.table("people", sa.column("first_name", sa.String), sa.column("last_name", sa.String))
people.append_column(sa.Column("full_name", sa.String(90), nullable=False,
    info={"schemasync": {"backfill": source.c.first_name + " " + source.c.last_name}}))
"""


def test_a_split_fills_before_the_drop_and_rollback_restores_the_dropped_column(project):
    _seed(project)
    after = project.write_models("after", SPLIT)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    steps = ops(planned)
    if "fill_column" in steps:
        assert max(i for i, s in enumerate(steps) if s == "fill_column") < steps.index("drop_column"), steps
    converge(project, after, "--allow-destructive")
    assert _people(project, "id, prefix, number") == [(1, "AB", "123"), (2, "CD", "4"), (3, "EF", "56")]
    _rolled_back(project)


def test_a_merge_fills_from_two_columns_it_drops_and_rollback_restores_both(project):
    _seed(project)
    converge(project, project.write_models("after", MERGE), "--allow-destructive")
    assert _people(project, "id, full_name") == [(1, "Ada Lovelace"), (2, "Alan Turing"), (3, "Grace Hopper")]
    _rolled_back(project)


def test_alembic_revision_exports_the_fill_and_runs_both_ways(project):
    _seed(project)
    ini = write_setup(project.path, project.db.url, None)
    after = project.write_models("after", FULL_NAME)
    exported = project.cli("plan", "--alembic-revision", "migrations/versions", models=after)
    assert exported.exit_code == ExitCode.OK, exported.output
    [path] = (project.path / "migrations" / "versions").glob("*.py")
    text = path.read_text()
    fill = "INSERT INTO _schemasync_new_people" if project.db.dialect == "sqlite" else "UPDATE people SET full_name"
    assert fill in text and "last_name" in text and "op.execute" in text
    alembic(ini, "upgrade", "head")
    assert "No changes." in project.cli("plan", models=after).output  # (check reports drift: Alembic changed it, not schemasync)
    assert _people(project, "id, full_name") == [(1, "Ada Lovelace"), (2, "Alan Turing"), (3, "Grace Hopper")]
    alembic(ini, "downgrade", "base")
    assert _people(project, "id, first_name, last_name, code, price") == ROWS
