"""Issue 16, "silent skips and dangerous silence": every schema the models name is managed, models that
define nothing are refused, a plan that drops most managed tables needs --allow-mass-drop, what the
models declare but schemasync leaves out is listed, and no plan names the scratch place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from schemasync.dialects import dialect_for
from schemasync.errors import InternalError
from schemasync.operations import CreateTable
from schemasync.render import refuse_scratch_names
from schemasync.snapshot import Column, Table
from tests.conftest import Project, assert_no_scratch_name, project_on


@pytest.fixture
def pg(tmp_path: Path):
    yield from project_on("postgresql", tmp_path)


@pytest.fixture
def maria(tmp_path: Path):
    yield from project_on("mysql", tmp_path)


def database_name(project: Project) -> str:
    return sa.engine.make_url(project.db.url).database


def applied(project: Project, models: str, *flags: str) -> str:
    result = project.cli("apply", "--yes", *flags, models=models)
    assert result.exit_code == 0, result.output
    return result.output


def tables(project: Project) -> set[str]:
    """The tables of the default schema, schemasync's backups left out."""
    engine = project.db.engine()
    try:
        return {n for n in sa.inspect(engine).get_table_names() if not n.startswith("schemasync_")}
    finally:
        engine.dispose()


def in_sync(project: Project, models: str) -> None:
    assert "No changes." in project.cli("plan", models=models).output
    check = project.cli("check", models=models)
    assert check.exit_code == 0, check.output


def refused(result, *phrases: str) -> None:
    """Exit 1 with a one-line error holding every phrase."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    error = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error) == 1, result.output
    for phrase in phrases:
        assert phrase in error[0], result.output


# --- 1. the schemas the models name ---------------------------------------------------------------

NAMED = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("customers", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("total", sa.Integer), schema="{schema}")
"""


def named_schema(project: Project) -> str:
    """A schema name this test owns (MariaDB: a database beside the URL's, dropped by the caller)."""
    return "sales" if project.db.dialect == "postgresql" else database_name(project) + "_sales"


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_a_schema_the_models_name_is_managed_without_include_schemas(dialect, tmp_path):
    for project in project_on(dialect, tmp_path):
        schema = named_schema(project)
        try:
            models = project.write_models("named", NAMED.format(schema=schema))
            plan = json.loads(project.cli("plan", "--json", models=models).output)
            assert plan["operations"][0]["op"] == "create_schema"
            assert f"{schema}.orders" in plan["target_tables"] and plan["ignored"] == []
            applied(project, models)
            assert project.db.scalar(f"SELECT count(*) FROM {schema}.orders") == 0
            in_sync(project, models)
            # Its table leaves the models: the last apply managed it, so it is dropped (destructive), not forgotten.
            only_customers = project.write_models("without", NAMED.format(schema=schema).split('sa.Table("orders"')[0])
            plan = json.loads(project.cli("plan", "--json", models=only_customers).output)
            assert [(s["op"], s["table"]) for s in plan["operations"] if s["op"] == "drop_table"] == [("drop_table", f"{schema}.orders")]
            assert plan["tables"] == {"managed": 2, "defined": 1}
        finally:
            if dialect == "mysql":
                project.db.execute(f"DROP DATABASE IF EXISTS {schema}")


SPELLED = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("authors", metadata, sa.Column("id", sa.Integer, primary_key=True){schema})
sa.Table("books", metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("author_id", sa.Integer, sa.ForeignKey("{prefix}authors.id")), sa.Index("ix_books_author", "author_id"))
"""


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_the_default_schema_spelled_out_means_no_schema(dialect, tmp_path):
    """schema="public" (MariaDB: the URL's database) is the default schema: no false drift, no drop + create."""
    for project in project_on(dialect, tmp_path):
        default = "public" if dialect == "postgresql" else database_name(project)
        plain = project.write_models("plain", SPELLED.format(schema="", prefix=""))
        spelled = project.write_models("spelled", SPELLED.format(schema=f', schema="{default}"', prefix=f"{default}."))
        applied(project, plain)
        in_sync(project, spelled)
        sql = project.cli("plan", "--sql", models=spelled).output
        assert default + "." not in sql
        # And the other way round, from an empty database: the spelled-out models build the same schema.
        project.db.execute("DROP TABLE books", "DROP TABLE authors", "DROP TABLE schema_state")
        output = applied(project, spelled)
        assert f"{default}." not in output
        in_sync(project, plain)
        in_sync(project, spelled)


def test_exclude_schemas_leaves_a_named_schema_out_and_says_so(pg):
    (pg.path / "schemasync.yaml").write_text("exclude_schemas: [audit]\n")
    models = pg.write_models("audit", NAMED.format(schema="audit").replace('"orders"', '"trail"'))
    plan = pg.cli("plan", models=models)
    assert "Ignored (in the models, not managed): schema audit: excluded by exclude_schemas (audit.trail)" in plan.output
    assert json.loads(pg.cli("plan", "--json", models=models).output)["ignored"] == ["schema audit: excluded by exclude_schemas (audit.trail)"]
    assert "schema audit: excluded by exclude_schemas" in applied(pg, models)
    assert pg.db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'audit'") == 0
    check = pg.cli("check", "--json", models=models)
    assert check.exit_code == 0 and json.loads(check.output)["ignored"] == ["schema audit: excluded by exclude_schemas (audit.trail)"]


def test_sqlite_refuses_a_named_schema_the_models_name_in_one_line(sqlite_project):
    """Without include_schemas too (the table was silently left out before)."""
    models = sqlite_project.write_models("s", NAMED.format(schema="other"))
    refused(sqlite_project.cli("plan", models=models), "SQLite has no named schemas")
    refused(sqlite_project.cli("apply", "--yes", models=models), "SQLite has no named schemas")


# --- 2. models that define nothing, or only part of the application --------------------------------

EMPTY = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

class Base(DeclarativeBase):
    pass
# The model modules that subclass Base were never imported.
"""

THREE = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("posts", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("tags", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


def test_models_that_define_nothing_are_refused_in_one_line(project):
    models = project.write_models("empty", EMPTY).replace(":metadata", ":Base")
    for command in (("plan",), ("check",), ("apply", "--yes", "--allow-destructive", "--allow-mass-drop")):
        refused(project.cli(*command, models=models), "define no tables", "did you import your model modules?")


def test_a_plan_that_drops_most_managed_tables_needs_allow_mass_drop(project):
    applied(project, project.write_models("three", THREE))
    project.db.execute("INSERT INTO posts (id) VALUES (1)")
    one = project.write_models("one", THREE.split('sa.Table("posts"')[0])
    text = project.cli("plan", models=one).output
    assert "Tables: the models define 1 of the 3 managed tables (2 dropped)" in text and "--allow-mass-drop" in text
    plan = json.loads(project.cli("plan", "--json", models=one).output)
    assert plan["tables"] == {"managed": 3, "defined": 1}
    refused(project.cli("apply", "--yes", "--allow-destructive", models=one), "drops 2 of the 3 managed tables", "--allow-mass-drop")
    refused(project.cli("apply", "--yes", models=one), "drops 2 of the 3 managed tables")
    # A saved plan is held to the same rule (the counts come from the live schema, not the file).
    assert project.cli("plan", "--out", "plan.json", models=one).exit_code == 0
    refused(project.cli("apply", "--yes", "--allow-destructive", "--plan", str(project.path / "plan.json")), "--allow-mass-drop")
    assert project.db.scalar("SELECT count(*) FROM posts") == 1
    # --allow-mass-drop alone is not enough: data loss still needs --allow-destructive.
    refused(project.cli("apply", "--yes", "--allow-mass-drop", models=one), "--allow-destructive")
    applied(project, one, "--allow-destructive", "--allow-mass-drop")
    assert tables(project) == {"schema_state", "users"}
    in_sync(project, one)


def test_dropping_half_or_less_needs_only_allow_destructive(project):
    applied(project, project.write_models("three", THREE))
    two = project.write_models("two", THREE.replace('sa.Table("tags", metadata, sa.Column("id", sa.Integer, primary_key=True))\n', ""))
    assert "Tables: the models define 2 of the 3 managed tables (1 dropped)" in project.cli("plan", models=two).output
    applied(project, two, "--allow-destructive")
    in_sync(project, two)


def test_the_multi_target_apply_refuses_a_mass_drop(project):
    (project.path / "schemasync.yaml").write_text(f"targets:\n  - name: main\n    database_url: {project.db.url}\n")
    applied(project, project.write_models("three", THREE))
    one = project.write_models("one", THREE.split('sa.Table("posts"')[0])
    result = project.cli("apply", "--all-targets", "--yes", "--allow-destructive", models=one)
    assert result.exit_code == 1 and "--allow-mass-drop" in result.output, result.output
    assert project.db.scalar("SELECT count(*) FROM tags") == 0  # still there
    result = project.cli("apply", "--all-targets", "--yes", "--allow-destructive", "--allow-mass-drop", models=one)
    assert result.exit_code == 0, result.output
    in_sync(project, one)


# --- 3. what the models declare but schemasync does not manage ----------------------------------------

EXCLUDED = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True), comment="people")
sa.Table("legacy_orders", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


def test_tables_left_out_by_exclude_tables_are_listed_in_plan_check_and_apply(project):
    (project.path / "schemasync.yaml").write_text("exclude_tables: [legacy_*]\n")
    models = project.write_models("excluded", EXCLUDED)
    line = "table legacy_orders: excluded by exclude_tables (legacy_*)"
    assert line in project.cli("plan", models=models).output
    assert line in json.loads(project.cli("plan", "--json", models=models).output)["ignored"]
    assert line in applied(project, models)
    check = project.cli("check", models=models)
    assert check.exit_code == 0 and line in check.output
    assert line in json.loads(project.cli("check", "--json", models=models).output)["ignored"]
    assert "legacy_orders" not in tables(project)


def test_an_offline_plan_lists_what_it_ignores_too(sqlite_project):
    (sqlite_project.path / "schemasync.yaml").write_text("exclude_tables: [legacy_*]\n")
    models = sqlite_project.write_models("offline", EXCLUDED)
    result = sqlite_project.cli("plan", "--from", "empty", "--dialect", "sqlite", "--json", models=models)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert "table legacy_orders: excluded by exclude_tables (legacy_*)" in plan["ignored"]
    assert [s["table"] for s in plan["operations"] if s["op"] == "create_table"] == ["users"]


def test_comments_sqlite_cannot_keep_are_listed(sqlite_project):
    models = sqlite_project.write_models("comments", EXCLUDED)
    check = json.loads(sqlite_project.cli("check", "--json", models=models).output)
    assert "comment on table users: sqlite keeps no comments" in check["ignored"]


# --- 4. no scratch name in a plan -----------------------------------------------------------------------

SEQUENCE_DEFAULT = """
import sqlalchemy as sa
metadata = sa.MetaData()
seq = sa.Sequence("ticket_no", metadata=metadata, schema="sales")
sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("no", sa.Numeric(20, 0), server_default=seq.next_value()), schema="sales")
sa.Table("plain", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


def test_a_default_on_a_sequence_in_a_named_schema_names_that_schema_not_the_scratch_one(pg):
    """Regression: the server prints the scratch schema into such a default (nextval('schemasync_scratch_..._1.ticket_no'));
    it read back unmapped, so the plan named a schema gone by the time it ran."""
    models = pg.write_models("seq", SEQUENCE_DEFAULT)
    sql = pg.cli("plan", "--sql", models=models).output
    assert_no_scratch_name(sql)
    assert "DEFAULT nextval('sales.ticket_no'::regclass)" in sql
    applied(pg, models)
    in_sync(pg, models)


def test_render_refuses_a_statement_naming_the_scratch_place():
    from sqlalchemy.dialects import postgresql

    dialect = dialect_for(postgresql.dialect())
    step = CreateTable((None, "t"), Table("t", (Column("id", "INTEGER", False),)))
    with pytest.raises(InternalError, match="names the scratch place schemasync_scratch_"):
        refuse_scratch_names(["CREATE TABLE t (id INTEGER DEFAULT nextval('schemasync_scratch_ab12_1.s'))"], step, dialect)
    assert refuse_scratch_names(["CREATE TABLE t (id INTEGER)"], step, dialect) == ["CREATE TABLE t (id INTEGER)"]
