"""Failures leave the database in a known state, and schema_state says so.

PostgreSQL and SQLite: all or nothing. MariaDB commits each DDL statement: the failed step is
recorded, `plan` shows exactly what is left, and a re-run finishes the job.
"""

from __future__ import annotations

import json
import threading

import sqlalchemy as sa

from tests.capabilities import supports

V1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("people", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(40)))
"""
V2 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table(
    "people", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(40)),
    sa.Column("nickname", sa.String(20)),
    sa.UniqueConstraint("email", name="uq_people_email"),
)
sa.Table("audit", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


def _columns(db, table: str) -> list[str]:
    engine = db.engine()
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns(table)]
    finally:
        engine.dispose()


def test_a_failing_statement_leaves_a_known_state(project):
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    project.db.execute("INSERT INTO people (id, email) VALUES (1, 'same@example.com'), (2, 'same@example.com')")

    # Pre-flight catches the duplicates before anything runs (test_preflight.py); without it the statement fails.
    refused = project.cli("apply", "--yes", models=v2)
    assert refused.exit_code == 1 and "pre-flight" in refused.output and "2 rows share a value" in refused.output
    failed = project.cli("apply", "--yes", "--no-preflight", models=v2)
    assert failed.exit_code == 1
    assert "failed" in failed.output and "Traceback" not in failed.output
    history = json.loads(project.cli("history", "--json").output)
    assert history[0]["status"] == "failed" and history[0]["error"]

    if not supports(project.db, "transactional_ddl"):
        assert "statements were applied and committed" in failed.output
        assert history[0]["steps_done"] >= 1
        left = json.loads(project.cli("plan", "--json", models=v2).output)
        assert [op["op"] for op in left["operations"]] == ["create_index"]  # MariaDB's unique is an index
    else:
        assert "nothing was changed" in failed.output
        assert history[0]["steps_done"] == 0
        assert "nickname" not in _columns(project.db, "people")
        assert sa.inspect(project.db.engine()).has_table("audit") is False
    assert project.db.scalar("SELECT count(*) FROM people") == 2

    project.db.execute("DELETE FROM people WHERE id = 2")
    assert project.cli("apply", "--yes", models=v2).exit_code == 0
    assert project.cli("check", models=v2).exit_code == 0


def _hold_lock(db, ready: threading.Event, release: threading.Event) -> None:
    engine = sa.create_engine(db.url, isolation_level="AUTOCOMMIT") if db.dialect != "sqlite" else sa.create_engine(db.url)
    with engine.connect() as connection:
        if db.dialect == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_lock(hashtext('schemasync:public'))")  # per default schema
        elif db.dialect == "mysql":
            name = connection.exec_driver_sql("SELECT DATABASE()").scalar()
            connection.exec_driver_sql(f"SELECT GET_LOCK('schemasync:{name}', 10)")
        else:
            connection.connection.dbapi_connection.isolation_level = None
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        ready.set()
        release.wait(30)
        if db.dialect == "sqlite":
            connection.exec_driver_sql("ROLLBACK")
    engine.dispose()


def test_a_second_apply_waits_for_the_lock_then_fails_clearly(project):
    (project.path / "schemasync.yaml").write_text("lock_timeout: 1\n")
    v1 = project.write_models("v1", V1)
    ready, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(project.db, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        result = project.cli("apply", "--yes", models=v1)
    finally:
        release.set()
        holder.join()
    assert result.exit_code == 1
    assert "lock" in result.output.lower() and "Traceback" not in result.output
    assert project.cli("check", models=v1).exit_code == 2  # nothing was applied
    assert project.cli("apply", "--yes", models=v1).exit_code == 0


def test_sqlite_rebuild_keeps_rows_and_references_of_a_referenced_table(sqlite_project):
    before = sqlite_project.write_models("b", """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(10), nullable=False))
sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id", ondelete="CASCADE")))
""")
    after = sqlite_project.write_models("a", """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50), nullable=True),
         sa.CheckConstraint("length(name) > 0", name="ck_parent_name"))
sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id", ondelete="CASCADE")))
""")
    assert sqlite_project.cli("apply", "--yes", models=before).exit_code == 0
    sqlite_project.db.execute("INSERT INTO parent VALUES (1, 'a'), (2, 'b')", "INSERT INTO child VALUES (10, 1), (11, 2)")
    plan = json.loads(sqlite_project.cli("plan", "--json", models=after).output)
    assert [op["op"] for op in plan["operations"]] == ["rebuild_table"]
    assert sqlite_project.cli("apply", "--yes", models=after).exit_code == 0
    assert sqlite_project.db.rows("SELECT id, name FROM parent ORDER BY id") == [(1, "a"), (2, "b")]
    assert sqlite_project.db.rows("SELECT id, parent_id FROM child ORDER BY id") == [(10, 1), (11, 2)]
    assert sqlite_project.db.rows("PRAGMA foreign_key_check") == []
    fks = sqlite_project.db.rows("PRAGMA foreign_key_list(child)")
    assert fks and fks[0][2] == "parent"
    assert sqlite_project.cli("check", models=after).exit_code == 0
