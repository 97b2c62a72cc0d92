"""Constructs that must converge (issue 16): each applied from empty, changed and removed through the
real CLI, rows kept, `plan` empty and `check` 0 after every step (tests.test_indexes.run_chain)."""

from __future__ import annotations

import json

import pytest

from tests.harness import converge, ops, sql
from tests.test_indexes import HEADER, run_chain

PG_SQLITE = pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
POSTGRES = pytest.mark.parametrize("db", ["postgresql"], indirect=True)
MYSQL = pytest.mark.parametrize("db", ["mysql"], indirect=True)

# --- PostgreSQL 15: NULLS NOT DISTINCT ---------------------------------------------------------------

ACCOUNTS = HEADER + """
accounts = sa.Table("accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(80)), sa.Column("code", sa.Integer),
    sa.UniqueConstraint("email", name="uq_accounts_email"{unique}),
    sa.Index("ix_accounts_code", "code", unique=True{index}))
"""
ACCOUNT_ROWS = ["INSERT INTO accounts (id, email, code) VALUES (1, NULL, NULL)", "INSERT INTO accounts (id, email, code) VALUES (2, 'b@x.org', 2)"]


@POSTGRES
def test_postgresql_nulls_not_distinct_on_unique_constraints_and_indexes(project):
    on = ", postgresql_nulls_not_distinct=True"
    plans = run_chain(project, [
        ACCOUNTS.format(unique=on, index=on),
        ACCOUNTS.format(unique="", index=on),
        ACCOUNTS.format(unique=on, index=""),
        ACCOUNTS.format(unique="", index=""),
    ], table="accounts", rows=ACCOUNT_ROWS)
    assert "CONSTRAINT uq_accounts_email UNIQUE NULLS NOT DISTINCT (email)" in sql(plans[0])
    assert "CREATE UNIQUE INDEX ix_accounts_code ON accounts (code) NULLS NOT DISTINCT" in sql(plans[0])
    assert sorted(ops(plans[1])) == ["add_unique", "drop_unique"]
    assert sorted(ops(plans[2])) == ["add_unique", "create_index", "drop_index", "drop_unique"]
    assert sorted(ops(plans[3])) == ["add_unique", "drop_unique"]


@POSTGRES
def test_postgresql_nulls_not_distinct_is_enforced(project):
    on = ", postgresql_nulls_not_distinct=True"
    converge(project, ACCOUNTS.format(unique=on, index=""), "--allow-destructive", name="v0")
    project.db.execute("INSERT INTO accounts (id, email) VALUES (1, NULL)")
    with pytest.raises(Exception, match="uq_accounts_email"):
        project.db.execute("INSERT INTO accounts (id, email) VALUES (2, NULL)")


# --- foreign key options: MATCH, DEFERRABLE, INITIALLY ---------------------------------------------

FAMILY = HEADER + """
parents = sa.Table("parents", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("id2", sa.Integer, nullable=False),
    sa.UniqueConstraint("id", "id2", name="uq_parents_pair"))
kids = sa.Table("kids", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("pid", sa.Integer), sa.Column("pid2", sa.Integer),
    sa.ForeignKeyConstraint(["pid", "pid2"], ["parents.id", "parents.id2"], name="fk_kids_parent"{options}))
"""
FAMILY_ROWS = ["INSERT INTO parents (id, id2) VALUES (1, 1)", "INSERT INTO kids (id, pid, pid2) VALUES (1, 1, 1)", "INSERT INTO kids (id, pid, pid2) VALUES (2, NULL, NULL)"]


@PG_SQLITE
def test_foreign_key_match_and_deferral_are_compared_and_applied(project):
    plans = run_chain(project, [
        FAMILY.format(options=', match="FULL", deferrable=True, initially="DEFERRED"'),
        FAMILY.format(options=', match="FULL"'),
        FAMILY.format(options=', deferrable=True'),
        FAMILY.format(options=""),
    ], table="kids", rows=FAMILY_ROWS)
    assert "MATCH FULL DEFERRABLE INITIALLY DEFERRED" in sql(plans[0])
    rebuilt = ["rebuild_table"] if project.db.dialect == "sqlite" else ["add_foreign_key", "drop_foreign_key"]
    for plan in plans[1:]:
        assert sorted(ops(plan)) == rebuilt
    assert "MATCH" not in sql(plans[2]) and "DEFERRABLE" in sql(plans[2])


@POSTGRES
def test_postgresql_match_full_is_enforced(project):
    converge(project, FAMILY.format(options=', match="FULL"'), "--allow-destructive", name="v0")
    project.db.execute("INSERT INTO parents (id, id2) VALUES (1, 1)")
    with pytest.raises(Exception, match="MATCH FULL"):
        project.db.execute("INSERT INTO kids (id, pid, pid2) VALUES (1, 1, NULL)")


@MYSQL
def test_mariadb_refuses_match_in_one_line(project):
    spec = project.write_models("v0", FAMILY.format(options=', match="FULL"'))
    result = project.cli("plan", models=spec)
    assert result.exit_code == 1
    assert "MATCH" in result.output and len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


# --- MariaDB / MySQL 8: descending key parts ---------------------------------------------------------

EVENTS = HEADER + """
events = sa.Table("events", metadata,
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Integer), sa.Column("kind", sa.String(20)),
    {indexes})
"""
EVENT_ROWS = ["INSERT INTO events (id, at, kind) VALUES (1, 10, 'a')", "INSERT INTO events (id, at, kind) VALUES (2, 20, 'b')"]


def collations(project, table: str) -> list[tuple]:
    return project.db.rows(f"SELECT INDEX_NAME, COLUMN_NAME, COLLATION FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX")


@MYSQL
def test_mariadb_descending_index_parts(project):
    plans = run_chain(project, [
        EVENTS.format(indexes='sa.Index("ix_events_at", sa.column("at").desc(), "kind")'),
        EVENTS.format(indexes='sa.Index("ix_events_at", sa.column("at").desc(), sa.desc("kind")), sa.Index("ux_events_kind", sa.column("kind").desc(), unique=True)'),
        EVENTS.format(indexes='sa.Index("ix_events_at", "at", "kind")'),
    ], table="events", rows=EVENT_ROWS)
    assert "CREATE INDEX ix_events_at ON events (at DESC, kind)" in sql(plans[0])
    assert sorted(ops(plans[1])) == ["create_index", "create_index", "drop_index"]
    assert sorted(ops(plans[2])) == ["create_index", "drop_index", "drop_index"]
    assert collations(project, "events") == [("ix_events_at", "at", "A"), ("ix_events_at", "kind", "A")]


@MYSQL
def test_mariadb_descending_parts_are_built_descending(project):
    converge(project, EVENTS.format(indexes='sa.Index("ix_events_at", sa.column("at").desc(), "kind")'), "--allow-destructive", name="v0")
    assert collations(project, "events") == [("ix_events_at", "at", "D"), ("ix_events_at", "kind", "A")]


@MYSQL
def test_mariadb_descending_parts_written_as_text_are_column_parts(project):
    """`sa.text("at DESC")` names a column, descending (MLflow writes its indexes so, tests/test_real_apps.py):
    built as one on MariaDB, not refused as an expression index."""
    converge(project, EVENTS.format(indexes='sa.Index("ix_events_at", "kind", sa.text("at DESC"), sa.text("`id`"))'), name="v0")
    assert collations(project, "events") == [("ix_events_at", "kind", "A"), ("ix_events_at", "at", "D"), ("ix_events_at", "id", "A")]


# --- PostgreSQL: a column whose default is a named sequence ------------------------------------------

ORDERS = HEADER + """
{sequences}
orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("no", sa.BigInteger{no}), schema={schema})
"""


def orders(sequences: str = "", no: str = "", schema: str | None = None) -> str:
    return ORDERS.format(sequences=sequences, no=no, schema=repr(schema))


@POSTGRES
@pytest.mark.parametrize("schema", [None, "side"])
def test_postgresql_sequence_defaults_stay_sequence_defaults(project, schema):
    """SQLAlchemy's documented pattern (the column's sequence, server_default=seq.next_value()), and a
    nextval() written as text: a default, never an identity column (which needed NOT NULL and failed)."""
    if schema:
        (project.path / "schemasync.yaml").write_text(f"include_schemas: [{schema}]\n")
    table = f"{schema}.orders" if schema else "orders"
    documented = f'seq = sa.Sequence("order_no_seq", metadata=metadata, schema={schema!r})'
    plans = run_chain(project, [
        orders(documented, ", seq, server_default=seq.next_value()", schema),
        # As text in the default schema (a schema named in text is not translated to the scratch place: use next_value()).
        orders(documented + f'\nother = sa.Sequence("other_seq", metadata=metadata, start=100, schema={schema!r})',
               ", server_default=other.next_value()" if schema else ", server_default=sa.text(\"nextval('other_seq')\")", schema),
        orders(schema=schema),
    ], table=table, rows=[f"INSERT INTO {table} (id) VALUES (1)", f"INSERT INTO {table} (id) VALUES (2)"])
    assert "DEFAULT nextval(" in sql(plans[0]) and "IDENTITY" not in sql(plans[0]).upper()
    assert "schemasync_scratch" not in json.dumps(plans)
    assert ops(plans[1]) == ["create_sequence", "alter_column"]
    assert sorted(ops(plans[2])) == ["alter_column", "drop_sequence", "drop_sequence"]
    assert project.db.rows(f"SELECT id, no FROM {table} ORDER BY id") == [(1, 1), (2, 2)]


@POSTGRES
def test_postgresql_sequence_default_draws_from_its_sequence(project):
    converge(project, orders('seq = sa.Sequence("order_no_seq", metadata=metadata, start=7)', ", seq, server_default=seq.next_value()"), "--allow-destructive", name="v0")
    project.db.execute("INSERT INTO orders (id) VALUES (1)", "INSERT INTO orders (id) VALUES (2)")
    assert project.db.rows("SELECT no FROM orders ORDER BY id") == [(7,), (8,)]


# --- SQLAlchemy's ddl_if(): "not on other dialects" ----------------------------------------------------

NOTES = HEADER + """
def not_on_sqlite(ddl, target, bind, dialect=None, **kw):
    return dialect.name != "sqlite"

notes = sa.Table("notes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(40)), sa.Column("n", sa.Integer))
{extra}
"""
LOWER = 'sa.Index("ix_notes_lower", sa.func.lower(notes.c.title)).ddl_if(dialect="postgresql")\n'
NOTE_ROWS = ["INSERT INTO notes (id, title, n) VALUES (1, 'A', 1)", "INSERT INTO notes (id, title, n) VALUES (2, 'b', 2)"]


def test_ddl_if_is_honoured_per_dialect(project):
    """A PostgreSQL-only expression index no longer blocks MariaDB; a callable and a dialect on an
    index and a constraint decide what each dialect builds, and a change of them reaches the plan
    (the target cache key sees them)."""
    dialect = project.db.dialect
    plans = run_chain(project, [
        NOTES.format(extra=LOWER + 'sa.Index("ix_notes_n", notes.c.n)'),
        NOTES.format(extra=LOWER + 'sa.Index("ix_notes_n", notes.c.n).ddl_if(callable_=not_on_sqlite)'),
        NOTES.format(extra=LOWER + 'sa.Index("ix_notes_n", notes.c.n)\nnotes.append_constraint(sa.CheckConstraint("n > 0", name="ck_notes_n").ddl_if(dialect=("mysql", "sqlite")))'),
        NOTES.format(extra=""),
    ], table="notes", rows=NOTE_ROWS)
    assert ("ix_notes_lower" in sql(plans[0])) == (dialect == "postgresql")
    assert ops(plans[1]) == (["drop_index"] if dialect == "sqlite" else [])
    expected = {"sqlite": ["rebuild_table"], "mysql": ["add_check"], "postgresql": []}[dialect]
    assert [op for op in ops(plans[2]) if op != "create_index"] == expected
    assert ops(plans[3]).count("drop_index") == (2 if dialect == "postgresql" else 1)
    # What was left out is named, one line each, in every plan (text and JSON), apply and check included.
    left_out = {"mysql": ["index ix_notes_lower on notes is left out on mysql (its ddl_if)"],
                "sqlite": ["index ix_notes_lower on notes is left out on sqlite (its ddl_if)"], "postgresql": []}[dialect]
    # (endswith: the first plan also says the SQLite file, whose path names this test, does not exist yet)
    assert [h for h in plans[0]["hints"] if h.endswith("(its ddl_if)")] == left_out
    if dialect == "sqlite":
        assert "index ix_notes_n on notes is left out on sqlite (its ddl_if)" in plans[1]["hints"]
    if dialect == "postgresql":
        assert "check constraint ck_notes_n on notes is left out on postgresql (its ddl_if)" in plans[2]["hints"]
    text = project.cli("plan", models=project.write_models("again", NOTES.format(extra=LOWER)))
    assert text.exit_code == 0 and ("left out" in text.output) == (dialect != "postgresql"), text.output


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_failing_ddl_if_callable_is_one_line(project):
    spec = project.write_models("v0", NOTES.format(extra='sa.Index("ix_notes_n", notes.c.n).ddl_if(callable_=lambda ddl, target, bind, **kw: bind.dialect.name == "x")'))
    result = project.cli("plan", models=spec)
    assert result.exit_code == 1 and "ddl_if() condition of index ix_notes_n failed" in result.output and "Traceback" not in result.output


# --- MariaDB / MySQL: partitioning (mysql_partition_by, mysql_partitions) ---------------------------

LOGS = HEADER + """
logs = sa.Table("logs", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("msg", sa.String(40)){options})
"""
LOG_ROWS = [f"INSERT INTO logs (id, msg) VALUES ({n}, 'm{n}')" for n in (1, 5, 12, 40)]


def partitions(project) -> list[tuple]:
    return project.db.rows("SELECT PARTITION_NAME, PARTITION_METHOD, TABLE_ROWS FROM information_schema.PARTITIONS"
                           " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'logs' ORDER BY PARTITION_ORDINAL_POSITION")


@MYSQL
def test_mariadb_partitioning_built_changed_and_removed(project):
    plans = run_chain(project, [
        LOGS.format(options=', mysql_partition_by="HASH(id)", mysql_partitions="4"'),
        LOGS.format(options=', mysql_partition_by="RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)"'),
        LOGS.format(options=""),
        LOGS.format(options=', mysql_partition_by="KEY(id)", mysql_partitions="2"'),
    ], table="logs", rows=LOG_ROWS, count=4)
    assert "PARTITION BY HASH (`id`) PARTITIONS 4" in sql(plans[0])
    assert sql(plans[1]).startswith("ALTER TABLE logs PARTITION BY RANGE (`id`) (PARTITION `p0` VALUES LESS THAN (10)")
    assert sql(plans[2]) == "ALTER TABLE logs REMOVE PARTITIONING"
    assert [(name, method) for name, method, _ in partitions(project)] == [("p0", "KEY"), ("p1", "KEY")]
    assert not any(step["destructive"] for plan in plans for step in plan["operations"])


@MYSQL
def test_mariadb_partitioning_reaches_the_server(project):
    converge(project, LOGS.format(options=', mysql_partition_by="RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)"'), "--allow-destructive", name="v0")
    assert [(name, method) for name, method, _ in partitions(project)] == [("p0", "RANGE"), ("p1", "RANGE")]


# --- PostgreSQL: exclusion constraints (ExcludeConstraint) -------------------------------------------

BOOKINGS = HEADER + """
from sqlalchemy.dialects.postgresql import ExcludeConstraint, TSRANGE
bookings = sa.Table("bookings", metadata,
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("room", sa.Integer), sa.Column("during", TSRANGE),
    {exclusions})
"""
BOOKING_ROWS = ["INSERT INTO bookings (id, room, during) VALUES (1, 1, '[2026-01-01 10:00, 2026-01-01 11:00)')",
                "INSERT INTO bookings (id, room, during) VALUES (2, 2, '[2026-01-01 12:00, 2026-01-01 13:00)')"]
NAMED = 'ExcludeConstraint((sa.column("during"), "&&"), name="ex_bookings_during", using="gist")'
UNNAMED = 'ExcludeConstraint((sa.column("during"), "&&"), where=sa.text("room > 0"), deferrable=True)'


@POSTGRES
def test_postgresql_exclusion_constraints_created_changed_and_dropped(project):
    plans = run_chain(project, [
        BOOKINGS.format(exclusions=f"{NAMED}, {UNNAMED}"),
        BOOKINGS.format(exclusions=f"{NAMED.replace('gist', 'GIST')}, {UNNAMED.replace(', deferrable=True', '').replace('room > 0', 'room > 1')}"),
        BOOKINGS.format(exclusions=UNNAMED.replace(", deferrable=True", "").replace("room > 0", "room > 1")),
        BOOKINGS.format(exclusions=""),
    ], table="bookings", rows=BOOKING_ROWS)
    assert "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_during EXCLUDE USING gist (during WITH &&)" in sql(plans[0])
    assert "ALTER TABLE bookings ADD EXCLUDE USING gist (during WITH &&) WHERE (room > 0) DEFERRABLE" in sql(plans[0])
    assert sorted(ops(plans[1])) == ["add_exclusion", "drop_exclusion"]  # the unnamed one changed; GIST is gist
    assert "ALTER TABLE bookings DROP CONSTRAINT bookings_during_excl" in sql(plans[1])
    assert ops(plans[2]) == ["drop_exclusion"] and "DROP CONSTRAINT ex_bookings_during" in sql(plans[2])
    assert ops(plans[3]) == ["drop_exclusion"]


@POSTGRES
def test_postgresql_exclusion_constraint_is_enforced(project):
    converge(project, BOOKINGS.format(exclusions=NAMED), "--allow-destructive", name="v0")
    project.db.execute(BOOKING_ROWS[0])
    with pytest.raises(Exception, match="ex_bookings_during"):
        project.db.execute("INSERT INTO bookings (id, room, during) VALUES (3, 1, '[2026-01-01 10:30, 2026-01-01 10:45)')")
    plan = json.loads(project.cli("plan", "--json", models=project.write_models("v1", BOOKINGS.format(exclusions=""))).output)
    assert plan["operations"][0]["summary"] == "drop exclusion constraint ex_bookings_during on bookings"


def test_exclusions_survive_the_lock_file_and_the_target_cache_forms(tmp_path):
    """The stored form the lock file and the target cache share keeps the server's name of an unnamed
    exclusion (an offline drop needs it); a table without exclusions keeps its canonical form."""
    from schemasync.snapshot import (
        Column,
        Exclusion,
        Snapshot,
        Table,
        table_from_stored,
        table_to_dict,
        table_to_stored,
    )
    from schemasync.target_cache import BuiltOn, TargetCache

    table = Table("bookings", (Column("id", "INTEGER"),), exclusions=(
        Exclusion("EXCLUDE USING gist (during WITH &&)", None, "bookings_during_excl"), Exclusion("EXCLUDE USING gist (room WITH =)", "ex_room", "ex_room")))
    stored = json.loads(json.dumps(table_to_stored(table)))
    assert stored["exclusions"] == [{"definition": "EXCLUDE USING gist (during WITH &&)", "name": None}, {"definition": "EXCLUDE USING gist (room WITH =)", "name": "ex_room"}]
    assert stored["server_names"] == {"exclusions": ["bookings_during_excl", "ex_room"]}
    cache, built_on = TargetCache(tmp_path / "cache"), BuiltOn("postgresql", "15", "")
    cache.store(built_on.identity, {"bookings": "key"}, Snapshot("postgresql", (table,)))
    cached = cache.load(built_on.identity, {"bookings": "key"})
    assert cached is not None
    for restored in (table_from_stored(stored), cached.matching({"bookings": "key"})["bookings"]):
        assert restored == table and [e.db_name for e in restored.exclusions] == ["bookings_during_excl", "ex_room"]
    assert "exclusions" not in table_to_dict(Table("plain", (Column("id", "INTEGER"),)))


@MYSQL
def test_mariadb_prefix_length_beside_a_descending_part_is_refused_in_one_line(project):
    spec = project.write_models("v0", EVENTS.format(indexes='sa.Index("ix_events_kind", sa.column("kind").desc(), "at", mysql_length={"kind": 4})'))
    result = project.cli("plan", models=spec)
    assert result.exit_code == 1 and "cannot write mysql_length on an index with a descending part" in result.output and "Traceback" not in result.output
