"""Plans that failed half-way on real DDL (issue 16), each applied from the state where it failed.

On MariaDB every DDL statement commits itself, so a step the server refuses leaves the steps before it
applied: the plan must be ordered so that no step can be refused. Each test builds the schema and rows
where a plan used to fail, applies the models, and insists that `plan` is then empty, `check` exits 0
and the rows are still there.
"""

from __future__ import annotations

import json

import pytest

from tests.harness import converge_each as converges

only_mysql = pytest.mark.parametrize("db", ["mysql"], indirect=True)

# --- a primary key change on a table that other tables' foreign keys reference ---------------------

PARENT_AND_CHILD = """
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True{auto}), sa.Column("code", sa.String(10), nullable=False))
sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")))
"""
KEY_CHANGES = {
    # The key grows a column; the child's key follows it.
    "composite": """
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(10), primary_key=True))
sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("parent_id", sa.Integer), sa.Column("parent_code", sa.String(10)),
    sa.ForeignKeyConstraint(["parent_id", "parent_code"], ["parent.id", "parent.code"]))
""",
    # The key moves to another column; the child's key moves with it (its old column dropped).
    "moved": """
sa.Table("parent", metadata, sa.Column("id", sa.Integer, nullable=False), sa.Column("code", sa.String(10), primary_key=True))
sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("parent_code", sa.String(10), sa.ForeignKey("parent.code")))
""",
    # The key moves, and the child's unchanged key is served by a unique constraint instead.
    "moved_kept_reference": """
sa.Table("parent", metadata, sa.Column("id", sa.Integer, nullable=False, unique=True), sa.Column("code", sa.String(10), primary_key=True))
sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")))
""",
    # The key changes while the table that references it is dropped (its foreign key held the key).
    "referencing_table_dropped": """
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False), sa.Column("code", sa.String(10), primary_key=True))
""",
}


@pytest.mark.parametrize("change", sorted(KEY_CHANGES))
@pytest.mark.parametrize("auto", ["", ", autoincrement=False"], ids=["auto_increment", "plain"])
def test_primary_key_change_under_referencing_foreign_keys(project, change, auto):
    """PostgreSQL refused to drop a key a dropped table's foreign key still held; MariaDB also
    refused to drop a key led by an AUTO_INCREMENT column (error 1075), with the foreign keys
    before it already dropped and committed."""
    converges(project, PARENT_AND_CHILD.format(auto=auto))
    project.db.execute("INSERT INTO parent (id, code) VALUES (1, 'a'), (2, 'b')", "INSERT INTO child (id, parent_id) VALUES (1, 1), (2, 2)")
    converges(project, KEY_CHANGES[change])
    assert project.db.rows("SELECT id, code FROM parent ORDER BY id") == [(1, "a"), (2, "b")]
    if change != "referencing_table_dropped":
        assert project.db.rows("SELECT id FROM child ORDER BY id") == [(1,), (2,)]


def test_primary_key_change_on_a_self_referencing_table(project):
    converges(project, """
sa.Table("tree", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(10), nullable=False),
    sa.Column("up", sa.Integer, sa.ForeignKey("tree.id")))
""")
    project.db.execute("INSERT INTO tree (id, code, up) VALUES (1, 'a', NULL)", "INSERT INTO tree (id, code, up) VALUES (2, 'b', 1)")
    converges(project, """
sa.Table("tree", metadata, sa.Column("id", sa.Integer, nullable=False, unique=True), sa.Column("code", sa.String(10), primary_key=True),
    sa.Column("up", sa.Integer, sa.ForeignKey("tree.id")))
""")
    assert project.db.rows("SELECT id, code, up FROM tree ORDER BY id") == [(1, "a", None), (2, "b", 1)]


@only_mysql
def test_the_half_applied_state_the_old_order_left_converges(project, db):
    """The state the refused DROP PRIMARY KEY left behind (the child's foreign key already dropped
    and committed): the next plan finishes the job."""
    converges(project, PARENT_AND_CHILD.format(auto=""))
    project.db.execute("INSERT INTO parent (id, code) VALUES (1, 'a')", "INSERT INTO child (id, parent_id) VALUES (1, 1)")
    name = project.db.scalar("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'child'")
    project.db.execute(f"ALTER TABLE child DROP FOREIGN KEY {name}")
    converges(project, KEY_CHANGES["composite"])
    assert project.db.rows("SELECT id, code FROM parent") == [(1, "a")]


# --- MariaDB: a foreign key re-created under the name of the index the server made for the old one ---

CHILD_WITH_KEY = """
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.Integer), sa.Column("b", sa.Integer), {key})
"""
KEY_MOVES = {
    # fk_p on (a) has an index fk_p; fk_p on (b) needs one of that name.
    "same_name_other_column": ('sa.ForeignKeyConstraint(["a"], ["parent.id"], name="fk_p")', 'sa.ForeignKeyConstraint(["b"], ["parent.id"], name="fk_p")'),
    # An unnamed key on (a) has an index named a; a key named a on (b) needs one of that name.
    "named_like_the_old_index": ('sa.ForeignKeyConstraint(["a"], ["parent.id"])', 'sa.ForeignKeyConstraint(["b"], ["parent.id"], name="a")'),
}


@pytest.mark.parametrize("move", sorted(KEY_MOVES))
def test_foreign_key_recreated_under_the_name_of_its_old_index(project, move):
    """MariaDB kept the old key's index (its name was wanted again) and the new key's index clashed
    with it: "Duplicate key name" after the old key was dropped and committed."""
    before, after = KEY_MOVES[move]
    converges(project, CHILD_WITH_KEY.format(key=before))
    project.db.execute("INSERT INTO parent (id) VALUES (1)", "INSERT INTO child (id, a, b) VALUES (1, 1, 1)")
    converges(project, CHILD_WITH_KEY.format(key=after))
    converges(project, CHILD_WITH_KEY.format(key=before))
    assert project.db.rows("SELECT id, a, b FROM child") == [(1, 1, 1)]


def test_unique_index_wanting_the_name_of_a_renamed_keys_old_index(project):
    """Found by test_convergence.py once table names could be reused: MariaDB named an unnamed key's
    index c12 (so the unnamed unique index on c12 became c12_2); once the key is named, the unique
    index wants c12 back, which the old key's index still held."""
    t4 = 'sa.Table("t4", metadata, sa.Column("k5", sa.Integer, primary_key=True, autoincrement=False), sa.Column("k6", sa.String(10), primary_key=True))\n'
    t11 = ('sa.Table("t11", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("c12", sa.Integer), sa.Column("c13", sa.String(10)),'
           ' sa.ForeignKeyConstraint(["c12", "c13"], ["t4.k5", "t4.k6"]{name}), sa.UniqueConstraint("c12"))\n')
    converges(project, t4 + t11.format(name=""))
    project.db.execute("INSERT INTO t4 (k5, k6) VALUES (1, 'a')", "INSERT INTO t11 (id, c12, c13) VALUES (1, 1, 'a')")
    converges(project, t4 + t11.format(name=', name="fk17"'))
    converges(project, t4 + t11.format(name=""))
    assert project.db.rows("SELECT id, c12, c13 FROM t11") == [(1, 1, "a")]


# --- MariaDB: AUTO_INCREMENT (one per table, and first in some index, after every statement) ---------


def _auto_increment(db) -> list[tuple]:
    return db.rows("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'schema_state' AND EXTRA LIKE '%%auto_increment%%' ORDER BY 1")


@only_mysql
def test_auto_increment_kept_while_its_key_changes(project, db):
    """The key of an AUTO_INCREMENT table changes and the column stays AUTO_INCREMENT (first in the new
    key): off before DROP PRIMARY KEY, on again after ADD PRIMARY KEY; the counter goes on."""
    converges(project, 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(10), nullable=False))\n')
    project.db.execute("INSERT INTO t (code) VALUES ('a'), ('b')")
    converges(project, 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), sa.Column("code", sa.String(10), primary_key=True))\n')
    assert _auto_increment(project.db) == [("t", "id")]
    project.db.execute("INSERT INTO t (code) VALUES ('c')")
    assert project.db.rows("SELECT id, code FROM t ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]


@only_mysql
def test_auto_increment_column_dropped_with_its_key(project, db):
    """The key moves to another column and the AUTO_INCREMENT one goes (destructive, kept for rollback)."""
    converges(project, 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(10), nullable=False))\n')
    project.db.execute("INSERT INTO t (code) VALUES ('a'), ('b')")
    converges(project, 'sa.Table("t", metadata, sa.Column("code", sa.String(10), primary_key=True))\n')
    assert _auto_increment(project.db) == [] and project.db.rows("SELECT code FROM t ORDER BY code") == [("a",), ("b",)]


@only_mysql
def test_auto_increment_removed_from_the_key(project, db):
    converges(project, 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String(10)))\n')
    project.db.execute("INSERT INTO t (v) VALUES ('a'), ('b')")
    converges(project, 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False), sa.Column("v", sa.String(10)))\n')
    assert _auto_increment(project.db) == []
    converges(project, 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String(10)))\n')
    project.db.execute("INSERT INTO t (v) VALUES ('c')")
    assert project.db.rows("SELECT id, v FROM t ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]


@pytest.mark.parametrize("db", ["postgresql", "mysql"], indirect=True)
def test_new_auto_increment_key_column_numbers_the_rows_in_one_apply(project, db):
    """The known gap. MariaDB: the column is added NULL, then one statement makes it AUTO_INCREMENT
    and the primary key (a key cannot go on NULLs first, nor AUTO_INCREMENT on a column that is no
    key). PostgreSQL: added as an identity, which numbers the rows (a NOT NULL column added plain
    and made an identity after failed on them)."""
    converges(project, 'sa.Table("events", metadata, sa.Column("name", sa.String(20)))\n')
    project.db.execute("INSERT INTO events (name) VALUES ('a'), ('b')")
    models = project.write_models("keyed", "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"
                                  'sa.Table("events", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(20)))\n')
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    if db.dialect == "mysql":
        assert [op["op"] for op in plan["operations"]] == ["add_column", "alter_column"], plan
        assert plan["operations"][1]["sql"] == ["ALTER TABLE events MODIFY id INTEGER NOT NULL AUTO_INCREMENT, ADD PRIMARY KEY (id)"]
    else:
        assert plan["operations"][0]["sql"] == ["ALTER TABLE events ADD COLUMN id INTEGER GENERATED BY DEFAULT AS IDENTITY"], plan
    applied = project.cli("apply", "--yes", models=models)
    assert applied.exit_code == 0, applied.output
    assert "No changes." in project.cli("plan", models=models).output and project.cli("check", models=models).exit_code == 0
    project.db.execute("INSERT INTO events (name) VALUES ('c')")
    assert sorted(project.db.rows("SELECT id, name FROM events")) == [(1, "a"), (2, "b"), (3, "c")]
    # Back: the key and the column go (MariaDB: AUTO_INCREMENT off first), the rows stay.
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert sorted(project.db.rows("SELECT name FROM events")) == [("a",), ("b",), ("c",)]


# --- a column moved from one enum type to another ---------------------------------------------------


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_column_moved_to_another_enum_type_casts_through_text(project, db):
    """PostgreSQL has no cast from one enum type to another: the USING clause goes through text.
    The step is gated (the new type's values are not compared here) and rollback restores the type."""
    first = 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", sa.Enum("x", "y", name="e1"), server_default="x"))\n'
    second = 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", sa.Enum("x", "y", "z", name="e2"), server_default="y"))\n'
    converges(project, first)
    project.db.execute("INSERT INTO t (id, s) VALUES (1, 'x'), (2, 'y')", "INSERT INTO t (id) VALUES (3)")
    converges(project, second)
    column_type = "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 's'"
    assert project.db.scalar(column_type) == "e2"
    assert project.db.rows("SELECT id, s::text FROM t ORDER BY id") == [(1, "x"), (2, "y"), (3, "x")]
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert project.db.scalar(column_type) == "e1"
    assert project.db.rows("SELECT id, s::text FROM t ORDER BY id") == [(1, "x"), (2, "y"), (3, "x")]


@only_mysql
def test_inline_enum_values_replaced_is_counted_before_anything_runs(project, db):
    """MariaDB's strict mode refuses a MODIFY to an ENUM without a row's value ("Data truncated"),
    after the backup step committed: pre-flight counts those rows first, and nothing runs."""
    enum = 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", sa.Enum({values})))\n'
    converges(project, enum.format(values='"x", "y"'))
    project.db.execute("INSERT INTO t (id, s) VALUES (1, 'x'), (2, 'y'), (3, NULL)")
    models = project.write_models("pq", "import sqlalchemy as sa\nmetadata = sa.MetaData()\n" + enum.format(values='"y", "p", "q"'))
    refused = project.cli("apply", "--yes", "--allow-destructive", models=models)
    assert refused.exit_code == 1 and "pre-flight" in refused.output and "t.s: 1 value is not among the values of ENUM('y','p','q')" in refused.output, refused.output
    assert project.db.scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'schemasync_backup%%'") == 0
    project.db.execute("UPDATE t SET s = 'y' WHERE id = 1")
    converges(project, enum.format(values='"y", "p", "q"'))
    assert project.db.rows("SELECT id, s FROM t ORDER BY id") == [(1, "y"), (2, "y"), (3, None)]


@pytest.mark.parametrize("db", ["postgresql", "mysql"], indirect=True)
def test_non_key_identity_added_to_a_table_with_rows(project, db):
    """A default `sa.Identity()` off the key, added to a table with rows (PostgreSQL failed: "contains
    null values"), then off, on again, and removed; the rows are numbered and the counter goes on."""
    from tests.test_mysql_autoincrement import table

    converges(project, table(None))
    project.db.execute("INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')")
    converges(project, table("sa.Identity()"))
    project.db.execute("INSERT INTO t (id, v) VALUES (3, 'c')")
    assert project.db.rows("SELECT id, n FROM t ORDER BY id") == [(1, 1), (2, 2), (3, 3)]
    converges(project, table(""))
    converges(project, table("sa.Identity()"))
    project.db.execute("INSERT INTO t (id, v) VALUES (4, 'd')")
    assert project.db.rows("SELECT id, n FROM t ORDER BY id") == [(1, 1), (2, 2), (3, 3), (4, 4)]
    converges(project, table(None))
    assert project.db.rows("SELECT id, v FROM t ORDER BY id") == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
