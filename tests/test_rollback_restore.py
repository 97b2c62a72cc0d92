"""Restores that the schema makes hard: NOT NULL columns coming back, and rows that reference each other.

A re-added NOT NULL column without a default is added nullable, its values restored, then set NOT
NULL (SQLite: a second, late rebuild). Rows of re-created tables are restored before their foreign
keys to each other are added, so self-references and cycles restore on every dialect (MariaDB
checks a foreign key per row, PostgreSQL per statement).
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.capabilities import supports

V1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("nick", sa.String(30), nullable=False))
sa.Table("notes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.String(80), nullable=False))
"""

# v2 drops users.nick (NOT NULL, no default) and narrows notes.body, which also becomes nullable.
V2 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False))
sa.Table("notes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.String(10)))
"""


def _seed(db) -> None:
    db.execute(
        "INSERT INTO users (id, name, nick) VALUES (1, 'ada', 'countess'), (2, 'alan', 'prof')",
        "INSERT INTO notes (id, body) VALUES (1, 'short'), (2, 'tiny')",
    )
    if not supports(db, "refuses_cutting_text"):  # MariaDB's strict mode refuses to narrow a value that does not fit
        db.execute("INSERT INTO notes (id, body) VALUES (3, 'a body much longer than ten')")


def _data(db) -> dict:
    return {
        "users": db.rows("SELECT id, name, nick FROM users ORDER BY id"),
        "notes": db.rows("SELECT id, body FROM notes ORDER BY id"),
    }


def test_a_dropped_not_null_column_comes_back_with_its_values(project):
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    before = _data(project.db)
    assert project.cli("apply", "--yes", "--allow-destructive", models=v2).exit_code == 0
    if not supports(project.db, "narrowing_keeps_values"):  # SQLite's narrowing loses nothing, so nothing was kept
        project.db.execute("UPDATE notes SET body = NULL WHERE id = 1")  # allowed by v2, not by v1: the kept value comes back

    sql = project.cli("rollback", "--sql")
    assert sql.exit_code == 0, sql.output
    text = sql.output
    assert text.index("UPDATE") < text.rindex("NOT NULL")  # the values come back before the column requires them

    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    check = project.cli("check", models=v1)
    assert check.exit_code == 0, check.output
    assert _data(project.db) == before

    # Forward and back again: the new plan keeps nick again, the next rollback brings it back again.
    assert project.cli("apply", "--yes", "--allow-destructive", models=v2).exit_code == 0
    assert project.cli("check", models=v2).exit_code == 0
    assert project.cli("rollback", "--yes").exit_code == 0
    assert project.cli("check", models=v1).exit_code == 0
    assert _data(project.db) == before


def test_rows_written_since_without_a_value_for_a_required_column_refuse_the_rollback(project):
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    before = _data(project.db)
    assert project.cli("apply", "--yes", "--allow-destructive", models=v2).exit_code == 0
    project.db.execute("INSERT INTO users (id, name) VALUES (3, 'grace')", "INSERT INTO notes (id, body) VALUES (4, NULL)")

    refused = project.cli("rollback", "--yes")
    assert refused.exit_code == 1
    line = refused.output.strip()
    # notes.body's narrowed values are kept where the narrowing loses some (not SQLite: nothing kept, nothing to count).
    kept_body = not supports(project.db, "narrowing_keeps_values")
    assert len(line.splitlines()) == 1 and "users.nick" in line and "1 row" in line and ("notes.body" in line) == kept_body, line
    assert project.cli("check", models=v2).exit_code == 0  # nothing was changed, on MariaDB too
    assert json.loads(project.cli("history", "--json").output)[0]["kind"] == "apply"

    project.db.execute("DELETE FROM users WHERE id = 3", "DELETE FROM notes WHERE id = 4")
    assert project.cli("rollback", "--yes").exit_code == 0
    assert project.cli("check", models=v1).exit_code == 0
    assert _data(project.db) == before


# Roll forward: v2 adds a NOT NULL column without a default (to an empty table); the rollback keeps
# its values, and the next apply of v2 re-adds it and brings them back.
F1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("players", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(40), nullable=False))
"""
F2 = F1.replace('sa.Column("name", sa.String(40), nullable=False))', 'sa.Column("name", sa.String(40), nullable=False), sa.Column("level", sa.Integer, nullable=False))')


def test_roll_forward_brings_back_a_not_null_column_without_a_default(project):
    f1, f2 = project.write_models("f1", F1), project.write_models("f2", F2)
    assert project.cli("apply", "--yes", models=f1).exit_code == 0
    assert project.cli("apply", "--yes", models=f2).exit_code == 0
    project.db.execute("INSERT INTO players (id, name, level) VALUES (1, 'ada', 7), (2, 'alan', 3)")
    assert project.cli("rollback", "--yes").exit_code == 0
    assert project.cli("check", models=f1).exit_code == 0

    plan = json.loads(project.cli("plan", "--json", models=f2).output)
    ops = [op["op"] for op in plan["operations"]]
    assert ops.index("restore_columns") < len(ops) - 1 and ops[-1] in ("alter_column", "rebuild_table"), ops
    forward = project.cli("apply", "--yes", models=f2)
    assert forward.exit_code == 0, forward.output
    assert project.cli("check", models=f2).exit_code == 0
    assert project.db.rows("SELECT id, name, level FROM players ORDER BY id") == [(1, "ada", 7), (2, "alan", 3)]


# Rows that reference each other: a self-referencing table whose child row comes before its parent
# in key order, and two tables that reference each other.
R1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("keep", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("comments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("comments.id")),
    sa.Column("body", sa.String(40), nullable=False))
sa.Table("people", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("desk_id", sa.Integer, sa.ForeignKey("desks.id", use_alter=True, name="fk_people_desk")))
sa.Table("desks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("people.id", name="fk_desks_owner")))
"""
R2 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("keep", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


def _graph(db) -> dict:
    return {
        "comments": db.rows("SELECT id, parent_id, body FROM comments ORDER BY id"),
        "people": db.rows("SELECT id, desk_id FROM people ORDER BY id"),
        "desks": db.rows("SELECT id, owner_id FROM desks ORDER BY id"),
    }


def test_rows_that_reference_each_other_are_restored(project):
    r1, r2 = project.write_models("r1", R1), project.write_models("r2", R2)
    assert project.cli("apply", "--yes", models=r1).exit_code == 0
    project.db.execute(
        "INSERT INTO comments (id, parent_id, body) VALUES (1, NULL, 'root'), (3, 1, 'reply'), (2, 3, 'reply to a later id')",
        "INSERT INTO people (id, desk_id) VALUES (1, NULL), (2, NULL)",
        "INSERT INTO desks (id, owner_id) VALUES (1, 1), (2, 2)",
        "UPDATE people SET desk_id = id",
    )
    before = _graph(project.db)
    # Three of the four tables go: a mass drop, on purpose.
    assert project.cli("apply", "--yes", "--allow-destructive", "--allow-mass-drop", models=r2).exit_code == 0

    plan = project.cli("rollback", "--sql").output
    assert plan.rindex("INSERT INTO") < plan.index("FOREIGN KEY") or supports(project.db, "alter_by_rebuild"), plan
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    check = project.cli("check", models=r1)
    assert check.exit_code == 0, check.output
    assert _graph(project.db) == before
    if project.db.dialect == "sqlite":
        assert project.db.rows("PRAGMA foreign_key_check") == []

    # The foreign keys are back and enforced (SQLite enforces them only when a connection asks).
    if project.db.dialect != "sqlite":
        for statement in ("INSERT INTO comments (id, parent_id, body) VALUES (9, 99, 'orphan')", "UPDATE desks SET owner_id = 99 WHERE id = 1"):
            try:
                project.db.execute(statement)
            except sa.exc.IntegrityError as error:
                assert "foreign key" in str(error).lower()
            else:
                raise AssertionError(f"{statement} was accepted: the foreign key is missing")


def test_a_roll_forward_with_rows_that_have_no_kept_value_fails_like_any_not_null_addition(project):
    f1, f2 = project.write_models("f1", F1), project.write_models("f2", F2)
    assert project.cli("apply", "--yes", models=f1).exit_code == 0
    assert project.cli("apply", "--yes", models=f2).exit_code == 0
    project.db.execute("INSERT INTO players (id, name, level) VALUES (1, 'ada', 7), (2, 'alan', 3)")
    assert project.cli("rollback", "--yes").exit_code == 0
    project.db.execute("INSERT INTO players (id, name) VALUES (3, 'grace')")  # written after the rollback: no level

    failed = project.cli("apply", "--yes", models=f2)
    assert failed.exit_code == 1 and "failed" in failed.output
    latest = json.loads(project.cli("history", "--json").output)[0]
    if not supports(project.db, "transactional_ddl"):  # stopped at the set NOT NULL step: the column is there, its kept values back
        assert latest["status"] == "failed" and latest["steps_done"] == latest["steps_total"] - 1
        assert project.db.rows("SELECT id, level FROM players ORDER BY id") == [(1, 7), (2, 3), (3, None)]
        left = json.loads(project.cli("plan", "--json", models=f2).output)["operations"]
        assert [op["summary"] for op in left] == ["alter column players.level: set NOT NULL"]
    else:  # nothing changed
        assert latest["steps_done"] == 0
        assert project.cli("check", models=f1).exit_code == 0

    if not supports(project.db, "transactional_ddl"):
        project.db.execute("UPDATE players SET level = 1 WHERE id = 3")
    else:
        project.db.execute("DELETE FROM players WHERE id = 3")
    applied = project.cli("apply", "--yes", models=f2)
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=f2).exit_code == 0
    assert project.db.rows("SELECT id, level FROM players WHERE id < 3 ORDER BY id") == [(1, 7), (2, 3)]


def test_the_dialect_difference_behind_it_adding_a_not_null_column_to_a_table_with_rows(db):
    """Why the restore adds such a column nullable first: PostgreSQL and SQLite refuse to add it to a
    table with rows; MariaDB adds it and fills its implicit default ('' here), a value nobody wrote."""
    db.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY)", "INSERT INTO probe (id) VALUES (1)")
    try:
        db.execute("ALTER TABLE probe ADD COLUMN c VARCHAR(5) NOT NULL")
    except sa.exc.DBAPIError:
        assert db.dialect != "mysql"
    else:
        assert db.dialect == "mysql" and db.rows("SELECT id, c FROM probe") == [(1, "")]


# The required column's table and its key are renamed by the apply: the rows are counted under the
# live names, before the rollback renames them back.
N1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("uid", sa.Integer, primary_key=True), sa.Column("nick", sa.String(30), nullable=False))
"""
N2 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("people", metadata, sa.Column("pid", sa.Integer, primary_key=True, info={"schemasync": {"renamed_from": "uid"}}),
         info={"schemasync": {"renamed_from": "users"}})
"""


def test_rows_without_a_value_are_counted_through_the_renames_the_rollback_reverses(project):
    n1, n2 = project.write_models("n1", N1), project.write_models("n2", N2)
    assert project.cli("apply", "--yes", models=n1).exit_code == 0
    project.db.execute("INSERT INTO users (uid, nick) VALUES (1, 'a'), (2, 'b')")
    assert project.cli("apply", "--yes", "--allow-destructive", models=n2).exit_code == 0
    project.db.execute("INSERT INTO people (pid) VALUES (3)")

    refused = project.cli("rollback", "--yes")
    assert refused.exit_code == 1 and "1 row would have no value for users.nick" in refused.output, refused.output
    project.db.execute("DELETE FROM people WHERE pid = 3")
    assert project.cli("rollback", "--yes").exit_code == 0
    assert project.cli("check", models=n1).exit_code == 0
    assert project.db.rows("SELECT uid, nick FROM users ORDER BY uid") == [(1, "a"), (2, "b")]
