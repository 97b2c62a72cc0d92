"""MariaDB/MySQL AUTO_INCREMENT on a column that is not the primary key (issue 3).

Declared as `sa.Identity()` on a non-key column (SQLAlchemy's MySQL DDL ignores it there); the column
must be NOT NULL and first in an index. SQLAlchemy writes AUTO_INCREMENT only on the key, so schemasync
adds it with MODIFY once the index exists (scratch build, new table, new column, on/off).
"""

from __future__ import annotations

from sqlalchemy.dialects import mysql

from schemasync.dialects import dialect_for
from schemasync.operations import (
    AddColumn,
    AlterColumn,
    DropAutoIncrement,
    SetAutoIncrement,
)
from schemasync.render import render
from tests.capabilities import lacks, requires
from tests.harness import converge, ops
from tests.test_columns import HEADER


def table(n: str | None, index: str = "unique=True", extra: str = "") -> str:
    """Table t: key id (no AUTO_INCREMENT), v, and column n as given (None: absent)."""
    column = f'sa.Column("n", sa.Integer, {n + ", " if n else ""}nullable=False, {index}),' if n is not None else ""
    return f"""
sa.Table("t", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("v", sa.String(10)),
    {column}
    {extra})
"""


def auto_increment(db) -> list[tuple]:
    return db.rows("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't' AND EXTRA LIKE '%%auto_increment%%'")


@requires("auto_increment_off_the_key")
def test_new_table_then_off_on_and_removed_rows_kept(project, db):
    plan = converge(project, HEADER + table("sa.Identity()"))
    assert auto_increment(project.db) == [("n",)]
    project.db.execute("INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')")
    assert project.db.rows("SELECT id, n FROM t ORDER BY id") == [(1, 1), (2, 2)]
    # Off (the index stays), on again, then the column goes with its index.
    plan = converge(project, HEADER + table(""))
    assert auto_increment(project.db) == []
    converge(project, HEADER + table("sa.Identity()"))
    assert auto_increment(project.db) == [("n",)]
    project.db.execute("INSERT INTO t (id, v) VALUES (3, 'c')")
    assert project.db.rows("SELECT id, n FROM t ORDER BY id") == [(1, 1), (2, 2), (3, 3)]
    plan = converge(project, HEADER + table(None), "--allow-destructive")
    assert "drop_column" in ops(plan)
    assert project.db.rows("SELECT id, v FROM t ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]


@requires("auto_increment_off_the_key")
def test_column_added_to_a_table_with_rows_numbers_them(project, db):
    converge(project, HEADER + table(None), "--allow-destructive")
    project.db.execute("INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    converge(project, HEADER + table("sa.Identity()", index="index=True"))
    assert auto_increment(project.db) == [("n",)]
    assert sorted(n for (n,) in project.db.rows("SELECT n FROM t")) == [1, 2, 3]
    project.db.execute("INSERT INTO t (id, v) VALUES (4, 'd')")
    assert project.db.rows("SELECT n FROM t WHERE id = 4") == [(4,)]
    # Off together with its index gone: AUTO_INCREMENT comes off before the index is dropped.
    converge(project, HEADER + table("", index="index=False"))
    assert auto_increment(project.db) == [] and project.db.rows("SELECT COUNT(*) FROM t") == [(4,)]
    # On together with a new unique index: after the index is made.
    converge(project, HEADER + table("sa.Identity()"))
    assert auto_increment(project.db) == [("n",)]
    # Removed together with its index.
    converge(project, HEADER + table(None), "--allow-destructive")
    assert project.db.rows("SELECT id, v FROM t ORDER BY id") == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]


@requires("auto_increment_off_the_key")
def test_models_that_cannot_hold_it_are_refused_in_one_line(project, db):
    bad = {
        "must be indexed": table("sa.Identity()", index="index=False"),
        "must be NOT NULL": table("sa.Identity()").replace("nullable=False", "nullable=True"),
        "one per table": table("sa.Identity()").replace("autoincrement=False", "autoincrement=True"),
    }
    for message, source in bad.items():
        models = project.write_models(f"bad{len(message)}", "import sqlalchemy as sa\nmetadata = sa.MetaData()\n" + source)
        result = project.cli("plan", models=models)
        assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output, result.output
    assert project.db.rows("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()") == [(0,)]  # plan changed nothing


@requires("auto_increment_off_the_key")
def test_target_cache_key_sees_the_identity(project, db):
    """The compiled MySQL DDL is the same with and without sa.Identity(): the key names it."""
    for number, source in enumerate([table(""), table("sa.Identity()"), table("")]):
        models = project.write_models(f"c{number}", HEADER + source)
        project.cli("plan", models=models)  # fills the target cache for these models
        assert converge(project, models)["operations"], source


def test_sql_for_each_step():
    """Golden SQL: the MODIFY that carries AUTO_INCREMENT, ordered around the index."""
    from schemasync.ordering import order
    from schemasync.snapshot import Column, Index, Table

    dialect = dialect_for(mysql.dialect())
    n = Column("n", "INTEGER", nullable=False, autoincrement=True)
    plain = Column("n", "INTEGER", nullable=False)
    assert render(SetAutoIncrement(("x", "t"), plain, n), dialect) == ["ALTER TABLE x.t MODIFY n INTEGER NOT NULL AUTO_INCREMENT"]
    assert render(DropAutoIncrement((None, "t"), n, plain), dialect) == ["ALTER TABLE t MODIFY n INTEGER NOT NULL"]
    from schemasync.operations import CreateTable
    from schemasync.snapshot import PrimaryKey

    t = Table("t", (Column("id", "INTEGER", nullable=False), n), primary_key=PrimaryKey(("id",)), indexes=(Index("ux", ("n",), unique=True),))
    # The unique index is made inside CREATE TABLE (render._unique_indexes_inline), the MODIFY after it.
    created = render(CreateTable((None, "t"), t), dialect)
    assert created[1:] == ["ALTER TABLE t MODIFY n INTEGER NOT NULL AUTO_INCREMENT"]
    assert "CONSTRAINT ux UNIQUE (n)" in created[0] and "AUTO_INCREMENT" not in created[0]
    assert order([SetAutoIncrement((None, "t"), plain, n), AddColumn((None, "t"), plain)], True)[0].op == "add_column"
    assert isinstance(order([DropAutoIncrement((None, "t"), n, plain), AlterColumn((None, "t"), plain, plain)], True)[0], DropAutoIncrement)


@requires("identity_columns")
def test_postgresql_identity_off_the_key(project, db):
    """A default identity off the key reads back like a SERIAL: a new table makes it an identity after CREATE TABLE."""
    converge(project, HEADER + table("sa.Identity()"))
    project.db.execute("INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')")
    assert project.db.rows("SELECT id, n FROM t ORDER BY id") == [(1, 1), (2, 2)]
    converge(project, HEADER + table(None), "--allow-destructive")


@lacks("identity_columns", "auto_increment_off_the_key")
def test_sqlite_ignores_it_and_converges(project, db):
    """SQLite has no such column (SQLAlchemy writes nothing for sa.Identity() there): the table converges without it."""
    converge(project, HEADER + table("sa.Identity()"))
    converge(project, HEADER + table(""))
