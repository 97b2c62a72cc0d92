"""PostgreSQL's schema-level objects: named schemas, native enum types, standalone sequences.

Each test drives the real CLI on a fresh database: apply from empty, change, remove, with rows
kept, and `plan` empty / `check` exit 0 after every step. Plus MariaDB's and SQLite's answer to
`schema=` (a database; refused).
"""

from __future__ import annotations

import json

from tests.capabilities import lacks, requires
from tests.harness import converge, ops

SCHEMAS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("owners", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(40)))
sa.Table("pets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id")),
    sa.Column("vet_id", sa.Integer, sa.ForeignKey("clinic.vets.id")),
    {extra}
    schema="zoo")
sa.Table("vets", metadata, sa.Column("id", sa.Integer, primary_key=True), schema="clinic")
"""


@requires("named_schemas")
def test_named_schemas_are_created_with_cross_schema_foreign_keys(project):
    (project.path / "schemasync.yaml").write_text("include_schemas: [zoo, clinic]\n")
    first = project.write_models("s1", SCHEMAS.format(extra=""))
    plan = converge(project, first)
    assert ops(plan)[:2] == ["create_schema", "create_schema"], ops(plan)
    sql = "\n".join(s for op in plan["operations"] for s in op["sql"])
    assert "CREATE SCHEMA IF NOT EXISTS clinic" in sql and "REFERENCES clinic.vets (id)" in sql
    project.db.execute("INSERT INTO owners (id, name) VALUES (1, 'Ada')", "INSERT INTO clinic.vets (id) VALUES (7)",
                  "INSERT INTO zoo.pets (id, owner_id, vet_id) VALUES (1, 1, 7)")

    second = project.write_models("s2", SCHEMAS.format(extra='sa.Column("name", sa.String(20)),'))
    plan = converge(project, second)
    assert ops(plan) == ["add_column"]
    assert project.db.rows("SELECT id, owner_id, vet_id FROM zoo.pets") == [(1, 1, 7)]

    # The tables go; the schemas stay (never dropped: other things may live there). Two of three: a mass drop.
    third = project.write_models("s3", SCHEMAS.split("sa.Table(\"pets\"")[0])
    plan = converge(project, third, "--allow-destructive", "--allow-mass-drop")
    assert "create_schema" not in ops(plan) and not any("schema" in op for op in ops(plan) if op != "drop_table")
    assert project.db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname IN ('zoo', 'clinic')") == 2


@requires("named_schemas")
def test_a_schema_that_exists_empty_is_used_as_it_is(project):
    project.db.execute("CREATE SCHEMA zoo")
    (project.path / "schemasync.yaml").write_text("include_schemas: [zoo]\n")
    models = project.write_models("e", 'import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), schema="zoo")\n')
    plan = converge(project, models)
    assert ops(plan) == ["create_schema", "create_table"]


ENUMS = """
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
metadata = sa.MetaData()
mood = sa.Enum({values}, name="mood")
sa.Table("people", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("mood", mood{info}),
    sa.Column("last_mood", mood, server_default={default!r}))
sa.Table("tags", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", postgresql.ENUM("red", "green", name="colour", schema="paint")),
    schema="paint")
"""


def enums(values: str, default: str, info: str = "") -> str:
    return ENUMS.format(values=", ".join(repr(v) for v in values.split(",")), default=default, info=info)


@requires("enum_types", "named_schemas")
def test_enum_types_created_grown_renamed_swapped_and_dropped_with_rows_kept(project):
    (project.path / "schemasync.yaml").write_text("include_schemas: [paint]\n")
    plan = converge(project, project.write_models("e1", enums("happy,sad", "happy")))
    assert ops(plan) == ["create_schema", "create_enum", "create_enum", "create_table", "create_table"], ops(plan)
    project.db.execute("INSERT INTO people (id, mood) VALUES (1, 'sad'), (2, 'happy')", "INSERT INTO paint.tags (id, kind) VALUES (1, 'green')")

    # A value in the middle: ADD VALUE ... BEFORE, in place.
    plan = converge(project, project.write_models("e2", enums("happy,ok,sad,glad", "happy")))
    assert [s for op in plan["operations"] for s in op["sql"]] == [
        "ALTER TYPE mood ADD VALUE 'ok' BEFORE 'sad'", "ALTER TYPE mood ADD VALUE 'glad' AFTER 'sad'"]

    # A declared value rename: the rows follow.
    info = ', info={"schemasync": {"renamed_values": {"sad": "blue"}}}'
    plan = converge(project, project.write_models("e3", enums("happy,ok,blue,glad", "happy", info)))
    assert ops(plan) == ["rename_enum_value"]
    assert project.db.rows("SELECT id, mood::text FROM people ORDER BY id") == [(1, "blue"), (2, "happy")]

    # A new value the same plan uses (a default): ADD VALUE could not be used in the transaction, so a swap.
    plan = converge(project, project.write_models("e4", enums("happy,ok,blue,glad,calm", "calm")))
    assert "swap_enum" in ops(plan), ops(plan)

    # Dropping a value in use is refused by pre-flight, with the count; once unused, a swap drops it.
    in_use = project.write_models("e5", enums("happy,ok,glad,calm", "calm"))
    refused = project.cli("apply", "--yes", models=in_use)
    assert refused.exit_code != 0 and "1 row" in refused.output and "enum mood" in refused.output, refused.output
    project.db.execute("UPDATE people SET mood = 'ok' WHERE mood = 'blue'")
    plan = converge(project, in_use)
    assert ops(plan) == ["swap_enum"] and "data-dependent" in plan["operations"][0]["hazards"]
    # Reordering is a swap too.
    plan = converge(project, project.write_models("e6", enums("calm,glad,ok,happy", "calm")))
    assert ops(plan) == ["swap_enum"]
    assert project.db.rows("SELECT id, mood::text, last_mood::text FROM people ORDER BY id") == [(1, "ok", "happy"), (2, "happy", "happy")]

    # No column uses it any more: the type goes after the column.
    tags = ENUMS[ENUMS.index('sa.Table("tags"'):]
    people = 'sa.Table("people", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))\n'
    plan = converge(project, project.write_models("e7", ENUMS.split("mood = ")[0] + people + tags), "--allow-destructive")
    assert ops(plan)[-1] == "drop_enum" and ops(plan)[-2] == "drop_column", ops(plan)
    # The kept values stay, as text: the backup stores them so, and nothing holds the type up.
    kept = [s for op in plan["operations"] if op["op"] == "backup_columns" for s in op["sql"]]
    assert any("CAST(mood AS TEXT) AS mood" in s for s in kept), kept
    backup = project.db.scalar("SELECT table_name FROM information_schema.columns WHERE table_name LIKE 'schemasync_backup_%%people%%' AND column_name = 'mood'")
    assert project.db.scalar(f"SELECT data_type FROM information_schema.columns WHERE table_name = '{backup}' AND column_name = 'mood'") == "text"
    assert project.db.rows("SELECT id FROM people ORDER BY id") == [(1,), (2,)]
    assert project.db.rows("SELECT kind::text FROM paint.tags") == [("green",)]


@requires("enum_types")
def test_enum_values_change_the_target_cache_key(project):
    """Only the values change: CREATE TABLE names the type alone, the cache key must still see it."""
    converge(project, project.write_models("k1", enums("a,b", "a")))
    plan = json.loads(project.cli("plan", "--json", models=project.write_models("k2", enums("a,b,c", "a"))).output)
    assert ops(plan) == ["add_enum_value"]


SEQUENCES = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Sequence("ticket_numbers", metadata=metadata, start={start}, increment={increment})
sa.Table("orders", metadata,
    sa.Column("id", sa.Integer, sa.Sequence("orders_number_seq", start=100), primary_key=True),
    sa.Column("note", sa.String(20)))
sa.Table("plain", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


@requires("sequences")
def test_sequences_created_altered_and_dropped_keeping_their_value(project):
    (project.path / "schemasync.yaml").write_text("exclude_tables: [ext_*]\n")
    project.db.execute("CREATE SEQUENCE ext_counter")  # excluded by pattern: never touched
    plan = converge(project, project.write_models("q1", SEQUENCES.format(start=5, increment=2)))
    assert sorted(op for op in ops(plan) if "sequence" in op) == ["create_sequence", "create_sequence"]
    assert project.db.scalar("SELECT nextval('ticket_numbers')") == 5
    assert project.db.scalar("SELECT nextval('ticket_numbers')") == 7
    project.db.execute("INSERT INTO plain DEFAULT VALUES")  # the SERIAL's own sequence is the column's, never listed

    plan = converge(project, project.write_models("q2", SEQUENCES.format(start=5, increment=10)))
    assert ops(plan) == ["alter_sequence"] and plan["operations"][0]["sql"] == ["ALTER SEQUENCE ticket_numbers INCREMENT BY 10"]
    assert project.db.scalar("SELECT nextval('ticket_numbers')") == 17  # the current value is kept

    removed = project.write_models("q3", SEQUENCES.replace('sa.Sequence("ticket_numbers", metadata=metadata, start={start}, increment={increment})', ""))
    refused = project.cli("apply", "--yes", models=removed)
    assert refused.exit_code != 0 and "destructive" in refused.output
    plan = converge(project, removed, "--allow-destructive")
    assert ops(plan) == ["drop_sequence"] and plan["operations"][0]["destructive"]
    assert project.db.rows("SELECT id FROM plain") == [(1,)]
    assert project.db.scalar("SELECT count(*) FROM pg_class WHERE relname = 'ext_counter'") == 1


@requires("sequences")
def test_sequence_options_change_the_target_cache_key(project):
    converge(project, project.write_models("c1", SEQUENCES.format(start=1, increment=1)))
    plan = json.loads(project.cli("plan", "--json", models=project.write_models("c2", SEQUENCES.format(start=1, increment=4))).output)
    assert ops(plan) == ["alter_sequence"]


@requires("enum_types", "sequences")
def test_rollback_restores_enum_types_and_sequences(project):
    converge(project, project.write_models("r1", enums("a,b", "a")))
    converge(project, project.write_models("r2", enums("a,b,c", "a") + 'sa.Sequence("extra", metadata=metadata, start=3)\n'))
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert project.db.scalar("SELECT count(*) FROM pg_class WHERE relname = 'extra'") == 0
    assert project.db.rows("SELECT enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE typname = 'mood' ORDER BY enumsortorder") == [("a",), ("b",)]
    assert ops(converge(project, enums("a,b", "a"), name="r3")) == []  # the rollback left nothing to do


@requires("schemas_are_databases")
def test_mariadb_named_schemas_are_databases(project):
    """On MariaDB a schema is a database: include_schemas names databases, created when missing."""
    other = project.db.url.rsplit("/", 1)[1] + "_x"
    (project.path / "schemasync.yaml").write_text(f"include_schemas: [{other}]\n")
    models = project.write_models("m", f"""
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("b", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("c_id", sa.Integer, sa.ForeignKey("{other}.c.id")), schema="{other}")
sa.Table("c", metadata, sa.Column("id", sa.Integer, primary_key=True), schema="{other}")
""")
    try:
        plan = converge(project, models)
        assert ops(plan)[0] == "create_schema"
        project.db.execute(f"INSERT INTO {other}.c (id) VALUES (1)", f"INSERT INTO {other}.b (id, c_id) VALUES (1, 1)")
        converge(project, project.write_models("m2", (project.path / (models.split(":")[0] + ".py")).read_text().replace(f'primary_key=True), schema="{other}")', f'primary_key=True), sa.Column("n", sa.Integer), schema="{other}")')))
        assert project.db.rows(f"SELECT c_id FROM {other}.b") == [(1,)]
        # A key from a named database into the URL's own one cannot be spelled without its name: refused in one line.
        into_default = project.write_models("m3", f"""
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("d", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("a_id", sa.Integer, sa.ForeignKey("a.id")), schema="{other}")
""")
        refused = project.cli("plan", models=into_default)
        assert refused.exit_code != 0 and "not supported" in refused.output and "Traceback" not in refused.output
    finally:
        project.db.execute(f"DROP DATABASE IF EXISTS {other}")


@lacks("named_schemas", "schemas_are_databases")
def test_sqlite_refuses_named_schemas_in_one_line(project):
    models = project.write_models("s", 'import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), schema="other")\n')
    (project.path / "schemasync.yaml").write_text("include_schemas: [other]\n")
    result = project.cli("plan", models=models)
    assert result.exit_code != 0 and "SQLite has no named schemas" in result.output
    assert "Traceback" not in result.output


ENUM_TABLES = """
import sqlalchemy as sa
metadata = sa.MetaData()
mood = sa.Enum("happy", "sad", name="mood")
sa.Table("keep", metadata, sa.Column("id", sa.Integer, primary_key=True){keep_extra})
{pets}
"""
PETS = 'sa.Table("pets", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("mood", mood))'


@requires("enum_types")
def test_rollback_restores_rows_of_enum_columns_whose_type_was_dropped_with_them(project):
    """The backup holds the values as text once their type is gone: the restore casts them back."""
    converge(project, project.write_models("e1", ENUM_TABLES.format(keep_extra=', sa.Column("m", mood)', pets=PETS)))
    project.db.execute("INSERT INTO pets (id, mood) VALUES (1, 'happy'), (2, 'sad'), (3, NULL)", "INSERT INTO keep (id, m) VALUES (1, 'sad')")
    # The table, the column and the type all go in one apply.
    dropped = project.write_models("e2", ENUM_TABLES.format(keep_extra="", pets=""))
    converge(project, dropped, "--allow-destructive")
    assert project.db.scalar("SELECT count(*) FROM pg_type WHERE typname = 'mood'") == 0
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert project.db.rows("SELECT id, mood::text FROM pets ORDER BY id") == [(1, "happy"), (2, "sad"), (3, None)]
    assert project.db.rows("SELECT id, m::text FROM keep") == [(1, "sad")]
    assert ops(converge(project, ENUM_TABLES.format(keep_extra=', sa.Column("m", mood)', pets=PETS), name="e3")) == []  # the rollback left nothing to do


@requires("enum_types")
def test_an_enum_type_goes_after_an_earlier_apply_kept_a_column_of_it(project):
    """Backups keep enum values as text: a backup made by an earlier apply must not hold the type
    up when a later apply drops it (found by test_convergence_pgobjects: "cannot drop type")."""
    two = 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True){columns})\n'
    header = 'import sqlalchemy as sa\nmetadata = sa.MetaData()\nshade = sa.Enum("red", name="shade")\n'
    converge(project, project.write_models("k1", header + two.format(columns=', sa.Column("a", shade), sa.Column("b", shade)')))
    project.db.execute("INSERT INTO t (id, a, b) VALUES (1, 'red', 'red')")
    converge(project, project.write_models("k2", header + two.format(columns=', sa.Column("a", shade)')), "--allow-destructive")
    converge(project, project.write_models("k3", header + two.format(columns="")), "--allow-destructive")
    assert project.db.scalar("SELECT count(*) FROM pg_type WHERE typname = 'shade'") == 0
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert project.db.rows("SELECT id, a::text FROM t") == [(1, "red")]


@requires("enum_types", "named_schemas")
def test_an_offline_plan_declares_enum_value_renames_as_the_live_plan_does(project):
    """The target from a lock file gets the same declarations as a built one (renames.declare)."""
    from tests.test_offline import offline

    (project.path / "schemasync.yaml").write_text("include_schemas: [paint]\n")
    converge(project, project.write_models("o1", enums("happy,sad", "happy")))
    renamed = project.write_models("o2", enums("happy,blue", "happy", ', info={"schemasync": {"renamed_values": {"sad": "blue"}}}'))
    assert project.cli("snapshot", "--live", "--out", "before.lock.yaml", models=renamed).exit_code == 0
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=renamed).exit_code == 0
    live = json.loads(project.cli("plan", "--json", models=renamed).output)
    off = offline(project, "plan", "--from", "before.lock.yaml", "--dialect", "postgresql", "--json", models=renamed)
    assert off.exit_code == 0, off.output
    assert ops(live) == ["rename_enum_value"] and ops(json.loads(off.output)) == ops(live)
