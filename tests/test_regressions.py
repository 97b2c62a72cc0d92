"""Counterexamples the convergence property (test_convergence.py) found, kept as explicit tests.

Each test walks the models through the versions that failed, applying each one with
`--allow-destructive --yes`, and insists the database is then in sync (`check` exits 0).
"""

from __future__ import annotations

import pytest

from tests.harness import converge, converge_each

PARENT = 'sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True){extra})\n'
CHILD = 'sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("parent_id", {type}, sa.ForeignKey("parent.id")))\n'


def test_renaming_a_primary_key_that_a_foreign_key_references(project):
    """Dropping a referenced primary key (to rename it) failed: the foreign keys on it stayed in the way."""
    converge_each(
        project,
        PARENT.format(extra="") + CHILD.format(type="sa.Integer"),
        PARENT.format(extra=', sa.PrimaryKeyConstraint("id", name="pk_parent")') + CHILD.format(type="sa.Integer"),
    )


def test_named_unique_on_a_referenced_primary_key(project):
    """PostgreSQL folds a named UNIQUE on the primary key's columns into the key (renaming it); the rename failed."""
    converge_each(
        project,
        PARENT.format(extra="") + CHILD.format(type="sa.Integer"),
        PARENT.format(extra=', sa.UniqueConstraint("id", name="uq_parent_id")') + CHILD.format(type="sa.Integer"),
    )


def test_widening_a_referenced_key_while_the_referencing_table_is_dropped(project):
    """The foreign key of a table being dropped was put back after the referenced column changed type."""
    converge_each(
        project,
        PARENT.format(extra="") + CHILD.format(type="sa.Integer"),
        'sa.Table("parent", metadata, sa.Column("id", sa.BigInteger, primary_key=True))\n',
    )


@pytest.mark.parametrize("index", ['sa.Index("ix_child_parent", "parent_id")', 'sa.UniqueConstraint("parent_id")'])
def test_dropping_the_index_a_foreign_key_uses(project, index):
    """MySQL refuses to drop the only index a foreign key can use (error 1553): the key must come off around it."""
    child = (
        'sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("parent_id", sa.Integer),'
        ' sa.ForeignKeyConstraint(["parent_id"], ["parent.id"], name="fk_child_parent"){extra})\n'
    )
    parent = PARENT.format(extra="")
    converge_each(project, parent + child.format(extra=""), parent + child.format(extra=", " + index), parent + child.format(extra=""))


def test_identical_unnamed_checks_are_two_steps(project):
    """Two identical unnamed checks made two equal operations, and ordering merged them into one step."""
    table = 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", {type}){checks})\n'
    converge_each(
        project,
        table.format(type="sa.Numeric(7, 3)", checks=', sa.CheckConstraint("n > 0")'),
        table.format(type="sa.Integer", checks=', sa.CheckConstraint("n > 0")' * 2),
        table.format(type="sa.Integer", checks=""),
    )


def test_changing_the_type_of_a_column_whose_old_default_cannot_be_cast(project):
    """PostgreSQL casts the old default during a type change ('' to bigint) and failed, though a new default was set."""
    table = 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", {type}, server_default={default}))\n'
    converge_each(project, table.format(type="sa.String(200)", default='""'), table.format(type="sa.BigInteger", default='"5"'))


def test_an_index_name_moving_to_a_new_table_while_its_old_table_is_rebuilt(project):
    """SQLite index names are global: the new table took the name before the rebuild had dropped the old index."""
    converge_each(
        project,
        'a = sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("c", sa.Integer), sa.Column("d", sa.Integer))\n'
        'sa.Index("ix_c", a.c.c)\n',
        'sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("c", sa.Integer))\n'
        'b = sa.Table("b", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("c", sa.Integer))\n'
        'sa.Index("ix_c", b.c.c)\n',
    )


def test_replacing_every_column_of_a_table(project):
    """The SQLite rebuild copied rows with no column in common: `INSERT INTO t () SELECT  FROM ...`."""
    converge_each(
        project,
        'sa.Table("t", metadata, sa.Column("k1", sa.Integer, primary_key=True), sa.Column("k2", sa.String(10), primary_key=True), sa.Column("c3", sa.BigInteger))\n',
        'sa.Table("t", metadata, sa.Column("k4", sa.Integer, primary_key=True), sa.Column("k5", sa.String(10), primary_key=True), sa.Column("c6", sa.Float))\n',
    )


def test_a_new_table_referencing_a_key_whose_type_changes(project):
    """The new table's foreign key was created before the referenced key changed type (MySQL errno 150)."""
    converge_each(
        project,
        'sa.Table("parent", metadata, sa.Column("id", sa.BigInteger, primary_key=True))\n',
        'sa.Table("parent", metadata, sa.Column("id", sa.SmallInteger, primary_key=True))\n'
        'sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("parent_id", sa.SmallInteger, sa.ForeignKey("parent.id")))\n',
    )


def test_unnamed_constraints_are_not_called_none():
    """SQLite's unnamed constraints have no name at all, and their drop summaries said 'None'."""
    from schemasync.operations import DropCheck, DropForeignKey, DropUnique
    from schemasync.snapshot import Check, ForeignKey, Unique

    summaries = [
        DropCheck((None, "t"), Check("n > 0")).summary(),
        DropUnique((None, "t"), Unique(("a", "b"))).summary(),
        DropForeignKey((None, "t"), ForeignKey(("p",), "parent", ("id",))).summary(),
    ]
    assert summaries == ["drop check on t: n > 0", "drop unique constraint on t (a, b)", "drop foreign key on t(p)"]


def test_adopting_a_table_whose_integer_key_has_no_sequence(project):
    """PostgreSQL rendered no SQL for an autoincrement-only change: the step 'applied' and never converged."""
    project.db.execute("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, n INTEGER)", "INSERT INTO t (id, n) VALUES (1, 10), (2, 20)")
    serial = 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True{options}), sa.Column("n", sa.Integer))\n'
    converge_each(project, serial.format(options=""))
    project.db.execute("INSERT INTO t (n) VALUES (30)")
    assert project.db.rows("SELECT id, n FROM t ORDER BY id") == [(1, 10), (2, 20), (3, 30)]
    converge_each(project, serial.format(options=", autoincrement=False"), serial.format(options=""))


def test_a_new_table_referencing_a_primary_key_being_renamed(project):
    """The new table's foreign key was created while the referenced primary key was off (being renamed)."""
    converge_each(
        project,
        PARENT.format(extra=""),
        PARENT.format(extra=', sa.PrimaryKeyConstraint("id", name="pk_parent")') + CHILD.format(type="sa.Integer"),
    )


def test_adding_an_autoincrement_key_to_an_existing_table_converges_in_one_apply(project):
    """PostgreSQL added a plain integer and made it an identity only on the next apply."""
    before = project.write_models("b", """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("events", metadata, sa.Column("name", sa.String(20)))
""")
    after = project.write_models("a", """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("events", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(20)))
""")
    converge(project, before)
    converge(project, after)
    project.db.execute("INSERT INTO events (name) VALUES ('a'), ('b')")
    assert project.db.rows("SELECT id, name FROM events ORDER BY id") == [(1, "a"), (2, "b")]


def test_a_colon_in_a_default_or_a_check_is_text_not_a_parameter(project):
    """`text(":draft")` took the colon for a bind parameter: the server got DEFAULT NULL (found by export)."""
    converge_each(
        project,
        'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True))\n',
        'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), '
        'sa.Column("status", sa.String(20), nullable=False, server_default=":draft"), '
        'sa.Column("quota", sa.String(10), server_default="100%"), sa.CheckConstraint("status <> \':x\'", name="ck_status"))\n',
    )


def test_an_unnamed_unique_named_like_the_index_a_new_tables_foreign_key_would_get(project):
    """MariaDB names an unnamed unique index after its first column, and so the index it gives a
    foreign key of CREATE TABLE that has none: the unique index goes inside CREATE TABLE (found by
    test_convergence.py: "Duplicate key name 'c11'")."""
    converge_each(project, """
sa.Table("t0", metadata, sa.Column("k1", sa.Integer, primary_key=True), sa.Column("k2", sa.String(10), primary_key=True))
sa.Table("t7", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("c11", sa.Integer, nullable=False),
    sa.Column("c12", sa.String(10), nullable=False), sa.ForeignKeyConstraint(["c11", "c12"], ["t0.k1", "t0.k2"]),
    sa.UniqueConstraint("c11"), sa.UniqueConstraint("c11", "c12", name="uq15"))
""")
