"""Hazard classes: what each kind of step is labelled on each dialect, and the server agreeing.

The expectations are per dialect (the costs are the server's). Where the server can be asked, it
is: PostgreSQL's relfilenode and SQLite's rootpage change exactly when a step rewrites the table,
and MariaDB accepts ALGORITHM=NOCOPY exactly when no rewrite is claimed and LOCK=NONE exactly when
no long lock is.
"""

from __future__ import annotations

import json

import pytest

from tests.capabilities import requires, supports

V1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("p", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
sa.Table(
    "t", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(20), nullable=False),
    sa.Column("n", sa.Integer),
    sa.Column("code", sa.String(20)),
    sa.Column("p_id", sa.Integer),
    {extra}
)
sa.Table("loose", metadata, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer))
"""
ROWS = [
    "INSERT INTO p (id) VALUES (1)",
    "INSERT INTO t (id, name, n, code, p_id) VALUES (1, 'one', 1, 'c1', 1)",
    "INSERT INTO t (id, name, n, code, p_id) VALUES (2, 'two', 2, 'c2', NULL)",
    "INSERT INTO loose (a, b) VALUES (1, 2)",
]


def _models(**replace: str) -> str:
    source = V1.replace("{extra}", replace.pop("extra", ""))
    for name, line in replace.items():
        start = source.index(f'sa.Column("{name}"')
        source = source[:start] + line + source[source.index("\n", start):]
    return source


REWRITE, LOCK = "table-rewrite", "long-lock"
SQLITE_REBUILD = (REWRITE, LOCK)

# edit -> (models, table, {dialect: hazards of the step on that table})
EDITS = {
    "widen_varchar": (_models(name='sa.Column("name", sa.String(40), nullable=False),'), "t",
                      {"postgresql": (), "mysql": (), "sqlite": SQLITE_REBUILD}),
    "int_to_bigint": (_models(n='sa.Column("n", sa.BigInteger),'), "t",
                      {"postgresql": (REWRITE, LOCK), "mysql": (REWRITE, LOCK), "sqlite": SQLITE_REBUILD}),
    "set_not_null": (_models(n='sa.Column("n", sa.Integer, nullable=False),'), "t",
                     {"postgresql": ("data-dependent", LOCK), "mysql": ("data-dependent", REWRITE), "sqlite": ("data-dependent", *SQLITE_REBUILD)}),
    "drop_not_null": (_models(name='sa.Column("name", sa.String(20)),'), "t",
                      {"postgresql": (), "mysql": (REWRITE,), "sqlite": SQLITE_REBUILD}),
    "narrow_varchar": (_models(code='sa.Column("code", sa.String(10)),'), "t",  # SQLite keeps every value: a plain rebuild
                       {"postgresql": ("data-loss", "data-dependent", REWRITE, LOCK), "mysql": ("data-loss", "data-dependent", REWRITE, LOCK), "sqlite": SQLITE_REBUILD}),
    "add_nullable_column": (_models(extra='sa.Column("extra", sa.Integer),'), "t",
                            {"postgresql": (), "mysql": (), "sqlite": ()}),
    "add_not_null_column_without_default": (_models(extra='sa.Column("extra", sa.Integer, nullable=False),'), "t",
                                            {"postgresql": ("data-dependent",), "mysql": ("data-dependent",), "sqlite": ("data-dependent", *SQLITE_REBUILD)}),
    "add_index": (_models(extra='sa.Index("ix_t_n", "n"),'), "t",
                  {"postgresql": (LOCK, "index-build"), "mysql": ("index-build",), "sqlite": ("index-build",)}),
    "add_unique_index": (_models(extra='sa.Index("ix_t_code", "code", unique=True),'), "t",
                         {"postgresql": ("data-dependent", LOCK, "index-build"), "mysql": ("data-dependent", "index-build"), "sqlite": ("data-dependent", "index-build")}),
    "add_foreign_key": (_models(extra='sa.ForeignKeyConstraint(["p_id"], ["p.id"], name="fk_t_p"),'), "t",
                        {"postgresql": ("data-dependent", LOCK), "mysql": ("data-dependent", REWRITE, LOCK), "sqlite": ("data-dependent", *SQLITE_REBUILD)}),
    "add_check": (_models(extra='sa.CheckConstraint("n < 100", name="ck_t_n"),'), "t",
                  {"postgresql": ("data-dependent", LOCK), "mysql": ("data-dependent", REWRITE, LOCK), "sqlite": ("data-dependent", *SQLITE_REBUILD)}),
    "drop_column": (_models(code=""), "t",
                    {"postgresql": ("data-loss",), "mysql": ("data-loss",), "sqlite": ("data-loss", *SQLITE_REBUILD)}),
    # No primary key to match the values by: they cannot be kept, so the loss is irreversible.
    "drop_column_without_key": (_models().replace('sa.Column("b", sa.Integer)', ""), "loose",
                                {"postgresql": ("data-loss", "irreversible"), "mysql": ("data-loss", "irreversible"),
                                 "sqlite": ("data-loss", "irreversible", *SQLITE_REBUILD)}),
}


def _step(project, models: str, table: str) -> dict:
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    steps = [s for s in plan["operations"] if s["table"] == table and not s["op"].startswith("backup_")]
    assert len(steps) == 1, [s["summary"] for s in plan["operations"]]
    return steps[0]


def _prepare(project) -> str:
    before = project.write_models("v1", _models())
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute(*ROWS)
    return before


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_each_kind_of_step_carries_its_hazards(project, edit):
    source, table, expected = EDITS[edit]
    _prepare(project)
    after = project.write_models("v2", source)
    step = _step(project, after, table)
    assert tuple(step["hazards"]) == expected[project.db.dialect], step["summary"]
    if edit == "add_not_null_column_without_default":  # the rows are there: pre-flight refuses (test_preflight.py)
        assert project.cli("apply", "--yes", models=after).exit_code == 1
        return
    applied = project.cli("apply", "--yes", "--allow-destructive", models=after)
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=after).exit_code == 0


_STORAGE = {
    "postgresql": "SELECT relfilenode FROM pg_class WHERE relname = 't' AND relkind = 'r'",
    "sqlite": "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 't'",
}
_STORAGE_EDITS = ["widen_varchar", "int_to_bigint", "set_not_null", "drop_not_null", "narrow_varchar", "add_nullable_column", "add_check", "drop_column"]


@requires("observable_table_storage")  # MariaDB is asked with ALGORITHM=NOCOPY instead (below)
@pytest.mark.parametrize("edit", _STORAGE_EDITS)
def test_table_rewrite_is_claimed_exactly_when_the_table_gets_new_storage(project, edit):
    """PostgreSQL (relfilenode) and SQLite (rootpage) say when a table was written anew."""
    source, table, _ = EDITS[edit]
    _prepare(project)
    project.db.execute("UPDATE t SET n = 1")  # set NOT NULL must succeed
    after = project.write_models("v2", source)
    claimed = "table-rewrite" in _step(project, after, table)["hazards"]
    before = project.db.scalar(_STORAGE[project.db.dialect])
    assert project.cli("apply", "--yes", "--allow-destructive", models=after).exit_code == 0
    assert (project.db.scalar(_STORAGE[project.db.dialect]) != before) == claimed


def _with_clause(statement: str, clause: str) -> str:
    return f"{statement} {clause}" if statement.upper().startswith("CREATE") else f"{statement}, {clause}"


_MARIADB_EDITS = ["widen_varchar", "int_to_bigint", "set_not_null", "drop_not_null", "narrow_varchar", "add_nullable_column",
                  "add_index", "add_unique_index", "add_foreign_key", "add_check", "drop_column"]


@requires("online_algorithms")  # asks MariaDB's online DDL about its own statements
@pytest.mark.parametrize("edit", _MARIADB_EDITS)
def test_mariadb_agrees_with_the_rewrite_and_lock_claims(project, edit):
    """ALGORITHM=NOCOPY is refused exactly when we claim a rewrite; LOCK=NONE exactly when we claim a long lock."""
    source, table, _ = EDITS[edit]
    before = _prepare(project)
    project.db.execute("UPDATE t SET n = 1")
    after = project.write_models("v2", source)
    step = _step(project, after, table)
    assert len(step["sql"]) == 1, step["sql"]
    for clause, hazard in (("ALGORITHM=NOCOPY", "table-rewrite"), ("LOCK=NONE", "long-lock")):
        try:
            project.db.execute(_with_clause(step["sql"][0], clause))
            accepted = True
        except Exception as error:  # noqa: BLE001  (the server's refusal is the answer)
            assert "not supported" in str(error), error
            accepted = False
        assert accepted == (hazard not in step["hazards"]), (clause, step["summary"], step["hazards"])
        assert project.cli("apply", "--yes", "--allow-destructive", models=before).exit_code == 0  # back to v1


def test_steps_on_a_table_the_plan_creates_carry_no_hazards(project):
    _prepare(project)
    after = project.write_models("v2", _models() + (
        '\nsa.Table("fresh", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Integer),'
        ' sa.UniqueConstraint("v"), sa.CheckConstraint("v > 0", name="ck_fresh_v"))\n'
        'sa.Index("ix_fresh_v", metadata.tables["fresh"].c.v)\n'
    ))
    plan = json.loads(project.cli("plan", "--json", models=after).output)
    fresh = [s for s in plan["operations"] if s["table"] == "fresh"]
    assert fresh and all(s["hazards"] == [] for s in fresh)


def test_block_hazards_refuses_until_allowed(project):
    _prepare(project)
    (project.path / "schemasync.yaml").write_text("block_hazards:\n  - table-rewrite\n  - index-build\n")
    after = project.write_models("v2", EDITS["int_to_bigint"][0])
    refused = project.cli("apply", "--yes", models=after)
    assert refused.exit_code == 1
    assert "block_hazards refuses 1 step(s)" in refused.output and "--allow-hazard table-rewrite" in refused.output
    assert project.cli("check", models=after).exit_code == 2  # nothing ran
    allowed = project.cli("apply", "--yes", "--allow-hazard", "table-rewrite", models=after)
    assert allowed.exit_code == 0, allowed.output
    assert project.cli("check", models=after).exit_code == 0


def test_unknown_hazard_names_are_one_line_errors(sqlite_project):
    sqlite_project.path.joinpath("schemasync.yaml").write_text("block_hazards: [slow]\n")
    result = sqlite_project.cli("plan", models="x:metadata")
    assert result.exit_code == 1 and "block_hazards: unknown hazard 'slow'" in result.output
    sqlite_project.path.joinpath("schemasync.yaml").unlink()
    result = sqlite_project.cli("apply", "--allow-hazard", "slow", models="x:metadata")
    assert result.exit_code == 1 and "--allow-hazard slow: unknown hazard" in result.output


def test_the_plan_and_the_prompt_name_the_hazards(project, monkeypatch):
    from schemasync import cli

    _prepare(project)
    after = project.write_models("v2", EDITS["add_unique_index"][0])
    shown = project.cli("plan", models=after).output
    assert "[data-dependent" in shown and "Hazards: 1 data-dependent" in shown
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    asked = project.cli("apply", models=after, input="n\n")
    assert "(1 data-dependent, " in asked.output and "index-build)? [y/N]" in asked.output


@pytest.mark.parametrize("edit", ["add_index", "add_foreign_key", "add_check", "set_not_null"])
def test_online_mode_takes_the_long_lock_away(project, edit):
    """What online mode is for (docs/online.md): its steps carry no long-lock where the server allows one."""
    source, table, _ = EDITS[edit]
    _prepare(project)
    after = project.write_models("v2", source)
    plan = json.loads(project.cli("plan", "--json", "--online", models=after).output)
    steps = [s for s in plan["operations"] if s["table"] == table]
    locked = [s["summary"] for s in steps if "long-lock" in s["hazards"]]
    if not supports(project.db, "online_ddl") and edit != "add_index":
        assert locked, "SQLite has no online DDL: the rebuild still holds the write lock"
    elif supports(project.db, "online_algorithms") and edit == "add_check":
        assert locked, "MariaDB copies the table to add a check, online or not"
    else:
        assert not locked, locked
        assert any(("index-build" if edit == "add_index" else "data-dependent") in s["hazards"] for s in steps)
