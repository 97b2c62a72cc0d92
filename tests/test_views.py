"""Views: created after what they read, re-created when their definition changes or what they read
changes under them, dropped when removed; what schemasync does not manage is listed and left alone."""

from __future__ import annotations

import json

import yaml

from tests.capabilities import lacks, requires
from tests.harness import converge, ops

USERS = """
import sqlalchemy as sa
import schemasync
metadata = sa.MetaData()
users = sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("score", sa.Integer))
"""

V1 = USERS + """
active = schemasync.View("active_users", sa.select(users.c.id, users.c.name).where(users.c.active == sa.true()), metadata)
schemasync.View("active_names", sa.select(active.c.name).where(active.c.name != "nobody"), metadata)
"""

# The definition changes (a filter, then a column more); the view on top is kept and re-created around it.
V2 = USERS + """
active = schemasync.View("active_users", sa.select(users.c.id, users.c.name, users.c.score).where(users.c.active == sa.true(), users.c.name.like("a%")), metadata)
schemasync.View("active_names", sa.select(active.c.name).where(active.c.name != "nobody"), metadata)
"""

# A column the first view reads changes type, another it does not read is dropped.
V3 = V2.replace('sa.Column("score", sa.Integer))', 'sa.Column("score", sa.BigInteger))')

NONE = USERS.replace('sa.Column("score", sa.Integer))', 'sa.Column("score", sa.BigInteger))')


def _steps(project, models):
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    return [(op["op"], op["table"]) for op in plan["operations"]]


def test_views_are_created_replaced_re_created_around_changes_and_dropped(project):
    v1, v2, v3, none = (project.write_models(n, s) for n, s in (("v1", V1), ("v2", V2), ("v3", V3), ("none", NONE)))
    assert _steps(project, v1) == [("create_table", "users"), ("create_view", "active_users"), ("create_view", "active_names")]
    converge(project, v1)
    project.db.execute("INSERT INTO users (id, name, active, score) VALUES (1, 'ada', TRUE, 3), (2, 'bob', FALSE, 1), (3, 'al', TRUE, NULL)")
    assert project.db.rows("SELECT name FROM active_names ORDER BY name") == [("ada",), ("al",)]

    steps = _steps(project, v2)
    assert steps == [("drop_view", "active_names"), ("drop_view", "active_users"), ("create_view", "active_users"), ("create_view", "active_names")]
    converge(project, v2)
    assert project.db.rows("SELECT id, score FROM active_users ORDER BY id") == [(1, 3), (3, None)]

    steps = _steps(project, v3)
    assert steps[0] == ("drop_view", "active_names") and steps[-1] == ("create_view", "active_names"), steps
    assert ("alter_column", "users") in steps or ("rebuild_table", "users") in steps
    converge(project, v3)
    assert project.db.rows("SELECT name FROM active_names ORDER BY name") == [("ada",), ("al",)]

    assert _steps(project, none) == [("drop_view", "active_names"), ("drop_view", "active_users")]
    converge(project, none)
    assert project.db.scalar("SELECT count(*) FROM users") == 3


DROP_COLUMN_BEFORE = USERS + """
schemasync.View("names", sa.select(users.c.id, users.c.name), metadata)
"""
DROP_COLUMN_AFTER = """
import sqlalchemy as sa
import schemasync
metadata = sa.MetaData()
users = sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
schemasync.View("names", sa.select(users.c.id, users.c.name), metadata)
"""


def test_a_view_is_re_created_around_a_rebuild_or_a_change_of_what_it_reads(project):
    before, after = project.write_models("b", DROP_COLUMN_BEFORE), project.write_models("a", DROP_COLUMN_AFTER)
    converge(project, before)
    project.db.execute("INSERT INTO users (id, name, active, score) VALUES (1, 'ada', TRUE, 3)")
    after_renamed = project.write_models("r", DROP_COLUMN_AFTER.replace('sa.Column("name", sa.String(40), nullable=False)', 'sa.Column("name", sa.String(60), nullable=False)'))
    converge(project, after, "--allow-destructive")
    steps = _steps(project, after_renamed)
    assert steps[0] == ("drop_view", "names") and steps[-1] == ("create_view", "names"), steps
    converge(project, after_renamed)
    assert project.db.rows("SELECT id, name FROM names") == [(1, "ada")]


def test_a_rollback_brings_a_dropped_view_back(project):
    v1, none = project.write_models("v1", V1), project.write_models("none", NONE)
    converge(project, v1)
    converge(project, none)
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert project.db.scalar("SELECT count(*) FROM active_names") == 0
    assert ops(converge(project, v1)) == []  # the rollback left nothing to do


def _unqualified(sql: str) -> str:
    """`users.score` -> `score`: how PostgreSQL 15 and 18 differ in printing a one-table view."""
    return sql.replace("users.", "")


MATERIALIZED = USERS + """
schemasync.View("scores", sa.select(users.c.id, users.c.score).where(users.c.score > 1), metadata, materialized=True)
"""


@lacks("materialized_views")
def test_materialized_views_are_refused_in_one_line_where_there_are_none(project):
    result = project.cli("plan", models=project.write_models("m", MATERIALIZED))
    assert result.exit_code == 1 and "only PostgreSQL" in result.output and "Traceback" not in result.output


@requires("materialized_views")
def test_materialized_views(project):
    source = MATERIALIZED
    models = project.write_models("m", source)
    sql = _unqualified(project.cli("plan", "--sql", models=models).output)
    # The statement is made from the definition as the server prints it (pg_get_viewdef), never from the
    # models' text (PostgreSQL 18 leaves out the table name a one-table query does not need; 15 writes it).
    assert "CREATE MATERIALIZED VIEW scores AS SELECT id,\n    score\n   FROM users\n  WHERE score > 1 WITH DATA;" in sql, sql
    converge(project, models)
    project.db.execute("INSERT INTO users (id, name, score) VALUES (1, 'ada', 3)")
    assert project.db.scalar("SELECT count(*) FROM scores") == 0  # filled when created, not after
    changed = project.write_models("c", source.replace("users.c.score > 1", "users.c.score > 2"))
    assert _steps(project, changed) == [("drop_view", "scores"), ("create_view", "scores")]
    sql = _unqualified(project.cli("plan", "--sql", models=changed).output)
    assert "DROP MATERIALIZED VIEW scores;" in sql and "CREATE MATERIALIZED VIEW scores AS SELECT id,\n    score\n   FROM users\n  WHERE score > 2 WITH DATA;" in sql, sql
    converge(project, changed)
    assert project.db.scalar("SELECT count(*) FROM scores") == 1  # created WITH DATA
    plain = project.write_models("p", source.replace(", materialized=True", ""))
    converge(project, plain)
    assert project.db.scalar("SELECT relkind FROM pg_class WHERE relname = 'scores'") == "v"
    converge(project, project.write_models("n", USERS))


def test_a_changed_view_definition_changes_the_target_cache_key(project):
    models = project.write_models("a", V1)
    converge(project, models)
    changed = project.write_models("b", V1.replace('"nobody"', '"somebody"'))
    assert _steps(project, changed) == [("drop_view", "active_names"), ("create_view", "active_names")]
    assert _steps(project, changed) == [("drop_view", "active_names"), ("create_view", "active_names")]  # served from the cache


UNMANAGED = {
    "sqlite": [
        "CREATE VIEW hand_view AS SELECT id FROM users",
        "CREATE TRIGGER hand_trigger AFTER INSERT ON users BEGIN UPDATE users SET score = 0 WHERE id = new.id AND score IS NULL; END",
    ],
    "postgresql": [
        "CREATE VIEW hand_view AS SELECT id FROM users",
        "CREATE FUNCTION hand_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.score := COALESCE(NEW.score, 0); RETURN NEW; END $$",
        "CREATE TRIGGER hand_trigger BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION hand_fn()",
        "CREATE POLICY hand_policy ON users USING (true)",
        "GRANT SELECT, UPDATE ON users TO PUBLIC",
    ],
    "mysql": [
        "CREATE VIEW hand_view AS SELECT id FROM users",
        "CREATE FUNCTION hand_fn(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
        "CREATE TRIGGER hand_trigger BEFORE INSERT ON users FOR EACH ROW SET NEW.score = COALESCE(NEW.score, 0)",
        "CREATE USER IF NOT EXISTS '{probe}'@'localhost'",
        "GRANT SELECT ON users TO '{probe}'@'localhost'",
    ],
}
CLEANUP = {"mysql": ["DROP USER IF EXISTS '{probe}'@'localhost'"]}  # what outlives the test database
EXPECTED = {
    "sqlite": ["trigger hand_trigger on users", "view hand_view"],
    "postgresql": ["function hand_fn()", "grant SELECT, UPDATE on users to PUBLIC", "policy hand_policy on users", "trigger hand_trigger on users", "view hand_view"],
    "mysql": ["function hand_fn", "grant SELECT on users to '{probe}'@'localhost'", "trigger hand_trigger on users", "view hand_view"],
}


def test_objects_schemasync_does_not_manage_are_listed_and_survive_apply(project):
    v1 = project.write_models("v1", V1)
    converge(project, v1)
    probe = project.db.url.rsplit("/", 1)[1] + "_probe"  # server-wide: one per test database, so parallel runs never share it
    project.db.execute(*(statement.format(probe=probe) for statement in UNMANAGED[project.db.dialect]))
    inspected = project.cli("inspect", models=v1)
    assert inspected.exit_code == 0, inspected.output
    data = yaml.safe_load(inspected.output)
    assert data["other_objects"] == [line.format(probe=probe) for line in EXPECTED[project.db.dialect]]
    assert set(data["views"]) == {"active_users", "active_names", "hand_view"}

    more = project.write_models("more", V1 + 'sa.Table("extra", metadata, sa.Column("id", sa.Integer, primary_key=True))\n')
    plan = project.cli("plan", models=more)
    assert "view hand_view" in plan.output
    converge(project, more)
    # and with no views declared at all: the declared ones go, the hand-made one stays
    converge(project, project.write_models("none", USERS + 'sa.Table("extra", metadata, sa.Column("id", sa.Integer, primary_key=True))\n'))
    again = yaml.safe_load(project.cli("inspect").output)
    assert again["other_objects"] == [line.format(probe=probe) for line in EXPECTED[project.db.dialect]]
    project.db.execute("INSERT INTO users (id, name) VALUES (7, 'trig')")
    assert project.db.scalar("SELECT score FROM users WHERE id = 7") == 0  # the trigger still runs
    project.db.execute(*(statement.format(probe=probe) for statement in CLEANUP.get(project.db.dialect, [])))


def test_a_bad_view_is_one_line(project):
    models = project.write_models("bad", USERS + 'schemasync.View("v", "SELECT 1", metadata)\n')
    result = project.cli("plan", models=models)
    assert result.exit_code == 1 and "must be a select" in result.output and "Traceback" not in result.output


def test_views_go_through_the_lock_file_and_offline_plans(project):
    from tests.test_offline import offline, run_script

    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("snapshot", "--out", "v1.lock.yaml", models=v1).exit_code == 0
    assert project.cli("snapshot", "--out", "v2.lock.yaml", models=v2).exit_code == 0
    lock = yaml.safe_load((project.path / "v1.lock.yaml").read_text())
    assert [v["name"] for v in lock["dialects"][project.db.dialect]["views"]] == ["active_names", "active_users"]

    created = offline(project, "plan", "--from", "empty", "--dialect", project.db.dialect, "--to", "v1.lock.yaml", "--sql", models=v1)
    assert created.exit_code == 0, created.output
    run_script(project.db, created.output)
    assert project.cli("check", "--lock", "v1.lock.yaml", models=v1).exit_code == 0
    live = json.loads(project.cli("plan", "--json", models=v2).output)
    off = json.loads(offline(project, "plan", "--from", "v1.lock.yaml", "--dialect", project.db.dialect, "--to", "v2.lock.yaml", "--json", models=v2).output)
    assert [op["sql"] for op in off["operations"]] == [op["sql"] for op in live["operations"]]
    stale = project.cli("check", "--lock", "v1.lock.yaml", models=v2)
    assert stale.exit_code != 0 and "view active_users (changed)" in stale.output


def test_a_view_changed_by_hand_is_drift(project):
    v1 = project.write_models("v1", V1)
    converge(project, v1)
    project.db.execute("DROP VIEW active_names", "CREATE VIEW active_names AS SELECT name FROM users")
    check = project.cli("check", models=v1)
    assert check.exit_code == 2, check.output
    assert "create view active_names" in check.output
    converge(project, v1)


def test_views_in_online_mode(project):
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V3)
    converge(project, v1, "--online")
    converge(project, v2, "--online")


RENAMED = """
import sqlalchemy as sa
import schemasync
metadata = sa.MetaData()
people = sa.Table("people", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("full_name", sa.String(40), nullable=False, info={"schemasync": {"renamed_from": "name"}}),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("score", sa.Integer),
    info={"schemasync": {"renamed_from": "users"}})
schemasync.View("names", sa.select(people.c.id, people.c.full_name), metadata)
"""


def test_a_view_is_re_created_around_declared_renames_of_what_it_reads(project):
    before, after = project.write_models("b", DROP_COLUMN_BEFORE), project.write_models("a", RENAMED)
    converge(project, before)
    project.db.execute("INSERT INTO users (id, name, active, score) VALUES (1, 'ada', TRUE, 3)")
    steps = _steps(project, after)
    assert steps[0] == ("drop_view", "names") and steps[-1] == ("create_view", "names"), steps
    assert ("rename_table", "users") in steps and ("rename_column", "people") in steps, steps
    converge(project, after)
    assert project.db.rows("SELECT id, full_name FROM names") == [(1, "ada")]
