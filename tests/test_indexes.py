"""Indexes beyond plain columns, constraint options and table options, per dialect (issue 3).

Each test applies a chain of model versions through the real CLI: from empty, changed, removed.
Rows inserted after the first apply must survive every step, and after each apply `plan` is
empty and `check` exits 0.
"""

from __future__ import annotations

import json

import pytest

from tests.capabilities import lacks, requires, supports
from tests.harness import converge, ops, sql

HEADER = """
import sqlalchemy as sa
metadata = sa.MetaData()
"""
USERS = """
users = sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(80), nullable=False),
    sa.Column("name", sa.String(40)),
    sa.Column("n", sa.Integer),
    {extra})
"""
ROWS = ["INSERT INTO users (id, email, name, n) VALUES (1, 'A@x.org', 'Ada', 1)", "INSERT INTO users (id, email, name, n) VALUES (2, 'b@x.org', NULL, -1)"]


def models(extra: str = "", after: str = "") -> str:
    return HEADER + USERS.format(extra=extra) + after


def run_chain(project, versions: list[str], table: str = "users", rows: list[str] = ROWS, count: int = 2) -> list[dict]:
    """Apply each version in turn; rows go in after the first and `count` rows of `table` must be there after each step."""
    plans = []
    for number, source in enumerate(versions):
        plans.append(converge(project, source, "--allow-destructive", name=f"v{number}"))
        if number == 0:
            project.db.execute(*rows)
        assert project.db.scalar(f"SELECT COUNT(*) FROM {table}") == count
    return plans


@requires("partial_indexes")
def test_partial_indexes(project):
    where = "postgresql_where=sa.text('n > 0'), sqlite_where=sa.text('n > 0')"
    plans = run_chain(project, [
        models(f'sa.Index("ix_users_name", "name", {where})'),
        models(f'sa.Index("ix_users_name", "name", {where.replace("n > 0", "n > 5")})'),
        models('sa.Index("ix_users_name", "name")'),
        models(),
    ])
    assert "WHERE" in sql(plans[0]) and "n > 0" in sql(plans[0])
    assert ops(plans[1]) == ops(plans[2]) == ["drop_index", "create_index"]
    assert ops(plans[3]) == ["drop_index"]


@requires("expression_indexes")
def test_expression_indexes(project):
    plans = run_chain(project, [
        models('sa.Index("ix_users_lower_email", sa.func.lower(sa.column("email")), unique=True)'),
        models('sa.Index("ix_users_lower_email", sa.func.lower(sa.column("email")), "name", unique=True)'),
        models('sa.Index("ix_users_lower_email", sa.text("upper(email)"))'),
        models(),
    ])
    assert "lower(" in sql(plans[0]).lower()
    assert ops(plans[1]) == ops(plans[2]) == ["drop_index", "create_index"]
    assert ops(plans[3]) == ["drop_index"]


@requires("descending_indexes")
def test_descending_and_nulls_ordering(project):
    plans = run_chain(project, [
        models('sa.Index("ix_users_n", sa.column("n").desc(), "name")'),
        models('sa.Index("ix_users_n", sa.column("n").desc().nulls_last(), "name")' if supports(project.db, "nulls_ordering") else 'sa.Index("ix_users_n", "n", sa.column("name").desc())'),
        models('sa.Index("ix_users_n", "n", "name")'),
    ])
    assert "DESC" in sql(plans[0])
    assert ops(plans[1]) == ops(plans[2]) == ["drop_index", "create_index"]


@requires("index_methods", "covering_indexes", "operator_classes")
def test_postgresql_methods_include_and_operator_classes(project):
    after = 'sa.Index("ix_users_name_id", users.c.name, postgresql_using="hash")\n'
    plans = run_chain(project, [
        models('sa.Index("ix_users_email", "email", postgresql_include=["name"], postgresql_ops={"email": "text_pattern_ops"})', after),
        models('sa.Index("ix_users_email", "email", postgresql_include=["name", "n"])', after.replace("hash", "brin")),
        models('sa.Index("ix_users_email", "email", postgresql_using="gist")'.replace('"email", postgresql_using="gist"', 'sa.func.int4range(sa.column("n"), sa.column("n")), postgresql_using="gist"')),
        models('sa.Index("ix_users_email", sa.func.to_tsvector(sa.literal_column("\'simple\'::regconfig"), sa.column("email")), postgresql_using="gin")'),
        models(),
    ])
    assert "INCLUDE (name)" in sql(plans[0]) and "text_pattern_ops" in sql(plans[0]) and "USING hash" in sql(plans[0])
    assert "USING brin" in sql(plans[1])
    assert "USING gist" in sql(plans[2]) and "USING gin" in sql(plans[3])


@requires("concurrent_index_builds", "expression_indexes", "partial_indexes")
def test_postgresql_index_changes_go_online(project):
    """Online mode keeps CREATE/DROP INDEX CONCURRENTLY for the new forms."""
    first = project.write_models("v0", models('sa.Index("ix_users_name", "name")'))
    assert project.cli("apply", "--yes", models=first).exit_code == 0
    project.db.execute(*ROWS)
    spec = project.write_models("v1", models('sa.Index("ix_users_name", sa.func.lower(sa.column("name")), postgresql_where=sa.text("n > 0"))'))
    plan = json.loads(project.cli("plan", "--json", "--online", models=spec).output)
    assert "DROP INDEX CONCURRENTLY" in sql(plan) and "CREATE INDEX CONCURRENTLY ix_users_name ON users (lower(name::text)) WHERE (n > 0)" in sql(plan)
    converge(project, spec, "--online")
    assert project.db.scalar("SELECT COUNT(*) FROM users") == 2


PARENT = """
parents = sa.Table("parents", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(8)), {unique})
kids = sa.Table("kids", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id"{fk})))
"""
FAMILY_ROWS = ["INSERT INTO parents (id, code) VALUES (1, 'a')", "INSERT INTO kids (id, parent_id) VALUES (1, 1)"]


def family(unique: str = "", fk: str = "") -> str:
    return HEADER + PARENT.format(unique=unique, fk=fk)


@requires("deferrable_constraints")
def test_postgresql_deferrable_constraints(project):
    plans = run_chain(project, [
        family('sa.UniqueConstraint("code", name="uq_parents_code", deferrable=True)', ', deferrable=True, initially="DEFERRED"'),
        family('sa.UniqueConstraint("code", name="uq_parents_code", deferrable=True, initially="DEFERRED")', ", deferrable=True"),
        family('sa.UniqueConstraint("code", name="uq_parents_code")'),
    ], table="kids", rows=FAMILY_ROWS, count=1)
    assert "DEFERRABLE INITIALLY DEFERRED" in sql(plans[0])
    assert sorted(ops(plans[1])) == ["add_foreign_key", "add_unique", "drop_foreign_key", "drop_unique"]
    assert sorted(ops(plans[2])) == ["add_foreign_key", "add_unique", "drop_foreign_key", "drop_unique"]


@requires("deferrable_constraints")
def test_postgresql_deferred_key_is_checked_at_commit(project):
    converge(project, family(fk=', deferrable=True, initially="DEFERRED"'), "--allow-destructive", name="v0")
    engine = project.db.engine()
    with engine.begin() as connection:  # the child row first: allowed, the key is checked at commit
        connection.exec_driver_sql("INSERT INTO kids (id, parent_id) VALUES (1, 7)")
        connection.exec_driver_sql("INSERT INTO parents (id, code) VALUES (7, 'x')")
    engine.dispose()
    assert project.db.scalar("SELECT COUNT(*) FROM kids") == 1


@requires("index_prefix_lengths", "fulltext_indexes")
def test_mariadb_prefix_lengths_and_fulltext(project):
    plans = run_chain(project, [
        models('sa.Index("ix_users_email", "email", mysql_length=10), sa.Index("ft_users_name", "name", mysql_prefix="FULLTEXT")'),
        models('sa.Index("ix_users_email", "email", "name", mysql_length={"email": 12, "name": 4}), sa.Index("ft_users_name", "name", "email", mysql_prefix="FULLTEXT")'),
        models('sa.Index("ix_users_email", "email"), sa.Index("ft_users_name", "name")'),
        models(),
    ])
    assert "email(10)" in sql(plans[0]) and "CREATE FULLTEXT INDEX ft_users_name" in sql(plans[0])
    assert sorted(ops(plans[1])) == sorted(ops(plans[2])) == ["create_index", "create_index", "drop_index", "drop_index"]
    assert ops(plans[3]) == ["drop_index", "drop_index"]


@lacks("expression_indexes")
def test_mariadb_refuses_expression_indexes_clearly(project):
    spec = project.write_models("v0", models('sa.Index("ix_users_lower", sa.func.lower(sa.column("email")))'))
    result = project.cli("plan", models=spec)
    assert result.exit_code != 0
    assert "MariaDB has no expression (functional) indexes" in result.output and "Traceback" not in result.output


# --- table options -----------------------------------------------------------------------------


def table_with(options: str) -> str:
    return HEADER + f"""
users = sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(80), nullable=False),
    sa.Column("name", sa.String(40)),
    sa.Column("n", sa.Integer),
    {options})
"""


@requires("strict_tables")
def test_sqlite_table_options_rebuild(project):
    def strict(options: str) -> str:  # STRICT tables take INTEGER, REAL, TEXT, BLOB and ANY only
        return table_with(options).replace("sa.String(80)", "sa.Text").replace("sa.String(40)", "sa.Text")

    plans = run_chain(project, [
        strict("sqlite_autoincrement=True"),
        strict("sqlite_strict=True"),
        strict("sqlite_with_rowid=False, sqlite_strict=True"),
        strict(""),
    ])
    assert "AUTOINCREMENT" in sql(plans[0])
    assert all(ops(plan) == ["rebuild_table"] for plan in plans[1:]), [ops(p) for p in plans]
    assert "STRICT" in sql(plans[1]) and "WITHOUT ROWID" in sql(plans[2])


@requires("storage_engines")
def test_mariadb_table_options_in_place(project):
    plans = run_chain(project, [
        table_with('mysql_engine="MyISAM"'),
        table_with('mysql_engine="InnoDB", mysql_row_format="COMPRESSED"'.replace("COMPRESSED", "DYNAMIC")),
        table_with('mysql_charset="latin1"'),
        table_with('mysql_charset="latin1", mysql_collate="latin1_bin"'),
        table_with(""),
    ])
    assert "ENGINE=MyISAM" in sql(plans[0])
    assert all(ops(plan) == ["set_table_options"] for plan in plans[1:]), [ops(p) for p in plans]
    assert "ROW_FORMAT=DYNAMIC" in sql(plans[1]) and "CONVERT TO CHARACTER SET latin1" in sql(plans[2])
    assert project.db.rows("SELECT email FROM users ORDER BY id") == [("A@x.org",), ("b@x.org",)]


# --- SQLite's rebuild keeps what is around the table ---------------------------------------------

FAMILY = HEADER + """
parents = sa.Table("parents", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(8)){extra})
kids = sa.Table("kids", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id", ondelete="CASCADE")))
log = sa.Table("log", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("what", sa.String(40)))
"""


@requires("alter_by_rebuild")
def test_sqlite_rebuild_keeps_referencing_rows_and_triggers(project):
    converge(project, FAMILY.format(extra=""), "--allow-destructive", name="v0")
    project.db.execute(
        "INSERT INTO parents (id, code) VALUES (1, 'a'), (2, 'b')",
        "INSERT INTO kids (id, parent_id) VALUES (10, 1), (11, 2)",
        "CREATE TRIGGER parents_log AFTER INSERT ON parents BEGIN INSERT INTO log (what) VALUES ('parent ' || NEW.code); END",
    )
    # A change SQLite makes by rebuilding the referenced table: a new NOT NULL column with a default and a check.
    plan = converge(project, FAMILY.format(extra=', sa.Column("flag", sa.Integer, nullable=False, server_default="0"), sa.CheckConstraint("flag >= 0")'), "--allow-destructive", name="v1")
    assert "rebuild_table" in ops(plan) and "CREATE TRIGGER parents_log" in sql(plan)
    engine = project.db.engine()
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert connection.exec_driver_sql("SELECT id, parent_id FROM kids ORDER BY id").fetchall() == [(10, 1), (11, 2)]
        connection.exec_driver_sql("INSERT INTO parents (id, code) VALUES (3, 'c')")  # the trigger survived
        assert connection.exec_driver_sql("SELECT what FROM log").fetchall() == [("parent c",)]
        connection.exec_driver_sql("DELETE FROM parents WHERE id = 1")  # the key still points at the rebuilt table
        assert connection.exec_driver_sql("SELECT id FROM kids").fetchall() == [(11,)]
    engine.dispose()
    assert ops(converge(project, FAMILY.format(extra=', sa.Column("flag", sa.Integer, nullable=False, server_default="0"), sa.CheckConstraint("flag >= 0")'), name="v2")) == []


# --- the target cache's key sees every feature ----------------------------------------------------

FEATURES = [
    ('sa.Index("ix", "name")', 'sa.Index("ix", "name", postgresql_where=sa.text("n > 0"), sqlite_where=sa.text("n > 0"))'),
    ('sa.Index("ix", sa.func.lower(sa.column("email")))', 'sa.Index("ix", sa.func.upper(sa.column("email")))'),
    ('sa.Index("ix", "name")', 'sa.Index("ix", sa.column("name").desc())'),
    ('sa.Index("ix", sa.column("name").desc())', 'sa.Index("ix", sa.column("name").desc().nulls_first())'),
    ('sa.Index("ix", "name")', 'sa.Index("ix", "name", postgresql_using="hash")'),
    ('sa.Index("ix", "name")', 'sa.Index("ix", "name", postgresql_include=["n"])'),
    ('sa.Index("ix", "name")', 'sa.Index("ix", "name", postgresql_ops={"name": "text_pattern_ops"})'),
    ('sa.Index("ix", "name", mysql_length=4)', 'sa.Index("ix", "name", mysql_length=5)'),
    ('sa.Index("ix", "name")', 'sa.Index("ix", "name", mysql_prefix="FULLTEXT")'),
    ('sa.UniqueConstraint("name", deferrable=True)', 'sa.UniqueConstraint("name", deferrable=True, initially="DEFERRED")'),
    ('mysql_engine="InnoDB"', 'mysql_engine="MyISAM"'),
    ('mysql_charset="utf8mb4"', 'mysql_charset="latin1"'),
    ('sqlite_autoincrement=False', 'sqlite_autoincrement=True'),
    ('sqlite_with_rowid=True', 'sqlite_with_rowid=False'),
    ('sqlite_strict=False', 'sqlite_strict=True'),
]


@pytest.mark.parametrize(("before", "after"), FEATURES)
def test_the_cache_key_sees_each_feature(before, after):
    from schemasync.dialects import offline_dialect
    from schemasync.model_key import describe

    def table(extra: str):
        found: dict = {}
        exec(models(extra), found)
        return found["users"]

    for name in ("sqlite", "postgresql", "mysql"):
        dialect = offline_dialect(name).sa_dialect
        assert describe(table(before), dialect) != describe(table(after), dialect), (name, before, after)
