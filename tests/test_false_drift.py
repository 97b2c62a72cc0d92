"""False drift classes (issue 16): a live schema made another way than by schemasync (by hand, by
`metadata.create_all`, by another tool) that means what the models say plans empty, and what
schemasync applies plans empty afterwards. Each test fails without its rule in docs/normalisation.md."""

from __future__ import annotations

import json

import pytest


def assert_in_sync(project, models: str) -> None:
    result = project.cli("plan", models=models)
    assert result.exit_code == 0, result.output
    assert "No changes." in result.output, result.output
    assert project.cli("check", models=models).exit_code == 0


def assert_converges(project, models: str) -> None:
    """Applied to the (empty or made-by-hand) database, the models then plan empty."""
    result = project.cli("apply", "--yes", models=models)
    assert result.exit_code == 0, result.output
    assert_in_sync(project, models)


NUMERIC_DEFAULTS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("nums", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("f1", sa.Double, server_default="5.0"),
    sa.Column("f2", sa.Double, server_default=sa.text("5")),
    sa.Column("i1", sa.Integer, server_default=sa.text("-1")),
    sa.Column("n1", sa.Numeric(10, 5), server_default="5"),
    sa.Column("n2", sa.Numeric(10, 5), server_default=sa.text("0.5")),
)
"""


def test_numeric_defaults_in_another_spelling_are_in_sync(project):
    """`5` / `5.0` / `'5'` (PostgreSQL: `'5'::double precision`, `'-1'::integer`) are one number."""
    project.db.execute(
        "CREATE TABLE nums (id INTEGER NOT NULL PRIMARY KEY, f1 DOUBLE PRECISION DEFAULT 5, f2 DOUBLE PRECISION DEFAULT '5',"
        " i1 INTEGER DEFAULT '-1', n1 NUMERIC(10,5) DEFAULT 5.0, n2 NUMERIC(10,5) DEFAULT '0.50')"
    )
    models = project.write_models("m", NUMERIC_DEFAULTS)
    assert_in_sync(project, models)


def test_numeric_defaults_converge_from_an_empty_database(project):
    assert_converges(project, project.write_models("m", NUMERIC_DEFAULTS))


def test_sqlite_boolean_defaults_in_another_spelling_are_in_sync(sqlite_project):
    """SQLite stores TRUE and '1' as 1: the same default as the models' `1` / `sa.false()`."""
    sqlite_project.db.execute("CREATE TABLE flags (id INTEGER NOT NULL PRIMARY KEY, b1 BOOLEAN DEFAULT TRUE, b2 BOOLEAN DEFAULT '0')")
    models = sqlite_project.write_models("m", """
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("flags", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("b1", sa.Boolean, server_default=sa.text("1")),
            sa.Column("b2", sa.Boolean, server_default=sa.false()),
        )
    """)
    assert_in_sync(sqlite_project, models)


def test_type_synonyms_are_in_sync(project):
    """DECIMAL is NUMERIC, INT is INTEGER, DOUBLE PRECISION is the models' Double, BOOL is BOOLEAN."""
    project.db.execute("CREATE TABLE syn (id INTEGER NOT NULL PRIMARY KEY, d DECIMAL(10,5), i INT, dp DOUBLE PRECISION, b BOOL)")
    models = project.write_models("m", """
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("syn", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("d", sa.Numeric(10, 5)),
            sa.Column("i", sa.Integer),
            sa.Column("dp", sa.Double),
            sa.Column("b", sa.Boolean),
        )
    """)
    assert_in_sync(project, models)


def test_sqlite_type_synonyms_are_in_sync(sqlite_project):
    """SQLite keeps the declared name as written: CHAR and NVARCHAR are VARCHAR, TIMESTAMP is DATETIME, REAL is FLOAT."""
    sqlite_project.db.execute(
        "CREATE TABLE syn (id INTEGER NOT NULL PRIMARY KEY, c CHAR(3), n NVARCHAR(4), t TIMESTAMP, r REAL, d DOUBLE, m DECIMAL(10, 5))"
    )
    models = sqlite_project.write_models("m", """
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("syn", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("c", sa.String(3)),
            sa.Column("n", sa.String(4)),
            sa.Column("t", sa.DateTime),
            sa.Column("r", sa.Float),
            sa.Column("d", sa.Float),
            sa.Column("m", sa.NUMERIC(10, 5)),
        )
    """)
    assert_in_sync(sqlite_project, models)


GENERATED_CHECKS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("items", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.Enum("a", "b", native_enum=False, create_constraint=True)),
    sa.Column("shade", sa.Enum("x", "y", name="ck_shade", native_enum=False, create_constraint=True, length=10)),
    sa.Column("done", sa.Boolean(create_constraint=True)),
)
"""


def test_checks_sqlalchemy_generates_converge(project):
    """PostgreSQL prints the CHECK it was given back with other casts; run again, that text prints otherwise still."""
    assert_converges(project, project.write_models("m", GENERATED_CHECKS))


def test_checks_written_otherwise_are_in_sync(project):
    """The same checks written by hand (another spacing; PostgreSQL: `= ANY (ARRAY[...])`) match the models'."""
    listed = "= ANY (ARRAY['x','y'])" if project.db.dialect == "postgresql" else "in ('x','y')"
    done = "" if project.db.dialect == "postgresql" else ", CHECK (done in (0,1))"  # native BOOLEAN there: no check
    project.db.execute(
        "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, kind VARCHAR(1), shade VARCHAR(10), done BOOLEAN,"
        f" CHECK (kind in ('a','b')), CONSTRAINT ck_shade CHECK (shade {listed}){done})"
    )
    assert_in_sync(project, project.write_models("m", GENERATED_CHECKS))


UNNAMED = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
sa.Table("child", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")),
    sa.Column("code", sa.String(5)),
    sa.Column("qty", sa.Integer),
    sa.UniqueConstraint("code"),
    sa.CheckConstraint("qty > 0"),
)
"""


def test_unnamed_constraints_match_live_ones_by_definition(project):
    """A primary key, foreign key, unique constraint or check the models leave unnamed is the live one
    with its definition, whatever the database (or whoever made it) called it."""
    project.db.execute(
        "CREATE TABLE parent (id INTEGER NOT NULL, CONSTRAINT pk_parent PRIMARY KEY (id))",
        "CREATE TABLE child (id INTEGER NOT NULL, parent_id INTEGER, code VARCHAR(5), qty INTEGER,"
        " CONSTRAINT pk_child PRIMARY KEY (id), CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id),"
        " CONSTRAINT uq_child_code UNIQUE (code), CONSTRAINT ck_child_qty CHECK (qty > 0))",
    )
    assert_in_sync(project, project.write_models("m", UNNAMED))
    # Once an apply has recorded the models' schema, `check` finds no drift in the live names either.
    assert_converges(project, project.write_models("m2", UNNAMED.replace('sa.Column("qty", sa.Integer),', 'sa.Column("qty", sa.Integer), sa.Column("extra", sa.Integer),')))


def test_unnamed_checks_and_foreign_keys_match_by_definition_on_mariadb(tmp_path):
    from tests.conftest import project_on

    for project in project_on("mysql", tmp_path):
        project.db.execute(
            "CREATE TABLE parent (id INTEGER NOT NULL PRIMARY KEY)",
            "CREATE TABLE child (id INTEGER NOT NULL PRIMARY KEY, parent_id INTEGER, qty INTEGER,"
            " CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id), CONSTRAINT ck_child_qty CHECK (qty > 0))",
        )
        assert_in_sync(project, project.write_models("m", """
            import sqlalchemy as sa
            metadata = sa.MetaData()
            sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
            sa.Table("child", metadata,
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")),
                sa.Column("qty", sa.Integer),
                sa.CheckConstraint("qty > 0"),
            )
        """))
        assert_converges(project, project.write_models("m2", """
            import sqlalchemy as sa
            metadata = sa.MetaData()
            sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
            sa.Table("child", metadata,
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")),
                sa.Column("qty", sa.Integer),
                sa.Column("extra", sa.Integer),
                sa.CheckConstraint("qty > 0"),
            )
        """))


MARIADB_UNIQUES = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("item", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(5)),
    sa.Column("qty", sa.Integer),
    sa.Column("sku", sa.String(8), unique=True),
    sa.UniqueConstraint("code"),
    sa.UniqueConstraint("code", "qty"),
    sa.UniqueConstraint("qty", name="uq_item_qty"),
)
"""


def test_unnamed_unique_constraints_match_unique_indexes_by_definition_on_mariadb(tmp_path):
    """MariaDB builds an unnamed unique constraint as a unique index named by the server (`code`,
    `code_2`): a live one with the definition under any name is that constraint; a named one is renamed."""
    from tests.conftest import project_on

    for project in project_on("mysql", tmp_path):
        project.db.execute(
            "CREATE TABLE item (id INTEGER NOT NULL PRIMARY KEY, code VARCHAR(5), qty INTEGER, sku VARCHAR(8),"
            " CONSTRAINT uq_code_qty UNIQUE (code, qty), CONSTRAINT uq_code UNIQUE (code), CONSTRAINT sku_key UNIQUE (sku),"
            " CONSTRAINT old_qty UNIQUE (qty))",
            "INSERT INTO item (id, code, qty, sku) VALUES (1, 'a', 3, 's')",
        )
        models = project.write_models("m", MARIADB_UNIQUES)
        plan = json.loads(project.cli("plan", "--json", models=models).output)
        assert [op["summary"] for op in plan["operations"]] == ["rename index old_qty on item to uq_item_qty"]
        assert_converges(project, models)
        models = project.write_models("m2", MARIADB_UNIQUES.replace('sa.Column("qty", sa.Integer),', 'sa.Column("qty", sa.Integer), sa.Column("extra", sa.Integer),'))
        assert_converges(project, models)
        names = {row[0] for row in project.db.rows("SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'item'")}
        assert names == {"PRIMARY", "uq_code", "uq_code_qty", "sku_key", "uq_item_qty"}
        # An unnamed unique constraint the live table lacks is still added, under the server's name.
        project.db.execute("ALTER TABLE item DROP INDEX uq_code")
        plan = json.loads(project.cli("plan", "--json", models=models).output)
        assert [op["summary"] for op in plan["operations"]] == ["create unique index code on item (code)"]


NAMED = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
sa.Table("child", metadata,
    sa.Column("id", sa.Integer, autoincrement=False),
    sa.Column("parent_id", sa.Integer),
    sa.Column("code", sa.String(5)),
    sa.Column("qty", sa.Integer),
    sa.PrimaryKeyConstraint("id", name="pk_child"),
    sa.ForeignKeyConstraint(["parent_id"], ["parent.id"], name="fk_child_parent"),
    sa.UniqueConstraint("code", name="uq_child_code"),
    sa.CheckConstraint("qty > 0", name="ck_child_qty"),
    sa.Index("ix_child_qty", "qty"),
)
"""


def test_named_constraints_carry_their_name(project):
    """A live constraint or index with the models' definition under another name (the server's, or an
    old one) is renamed: a visible step that keeps the rows, after which the plan is empty."""
    project.db.execute(
        "CREATE TABLE parent (id INTEGER NOT NULL PRIMARY KEY)",
        "CREATE TABLE child (id INTEGER NOT NULL PRIMARY KEY, parent_id INTEGER, code VARCHAR(5), qty INTEGER,"
        " CONSTRAINT old_fk FOREIGN KEY (parent_id) REFERENCES parent (id), CONSTRAINT old_uq UNIQUE (code),"
        " CONSTRAINT old_ck CHECK (qty > 0))",
        "CREATE INDEX old_ix ON child (qty)",
        "INSERT INTO parent (id) VALUES (1)",
        "INSERT INTO child (id, parent_id, code, qty) VALUES (1, 1, 'a', 3)",
    )
    models = project.write_models("m", NAMED)
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    summaries = " | ".join(op["summary"] for op in plan["operations"])
    if project.db.dialect == "mysql":  # no RENAME CONSTRAINT for checks and foreign keys: dropped and added
        assert "rename index old_ix on child to ix_child_qty" in summaries and "rename index old_uq on child to uq_child_code" in summaries
        assert "drop check old_ck" in summaries and "add check ck_child_qty" in summaries, summaries
    else:
        for old, new in [("old_ck", "ck_child_qty"), ("old_fk", "fk_child_parent"), ("old_uq", "uq_child_code")]:
            assert f"{old} on child to {new}" in summaries, summaries
    if project.db.dialect == "sqlite":  # no ALTER INDEX: dropped, and made by the table's rebuild
        assert "drop index old_ix" in summaries and "rebuild table child" in summaries, summaries
    if project.db.dialect == "postgresql":
        assert "rename index old_ix on child to ix_child_qty" in summaries
        assert "rename primary key child_pkey on child to pk_child" in summaries
        assert [op["op"] for op in plan["operations"]].count("rename_constraint") == 4
    assert not any(op["destructive"] for op in plan["operations"])
    assert_converges(project, models)
    assert project.db.rows("SELECT id, parent_id, code, qty FROM child") == [(1, 1, "a", 3)]


def test_sqlite_generated_columns_spelled_as_only_are_generated(sqlite_project):
    """SQLite's `c AS (expr)` (GENERATED ALWAYS is optional) is a generated column, as the models' Computed."""
    sqlite_project.db.execute("CREATE TABLE g (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, b INTEGER AS (a * 2) STORED, c INTEGER AS (a + 1))")
    sqlite_project.db.execute("ALTER TABLE g ADD COLUMN d INTEGER AS (a + 2)")
    models = sqlite_project.write_models("m", """
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("g", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("a", sa.Integer),
            sa.Column("b", sa.Integer, sa.Computed("a * 2", persisted=True)),
            sa.Column("c", sa.Integer, sa.Computed("a + 1")),
            sa.Column("d", sa.Integer, sa.Computed("a + 2")),
        )
    """)
    assert_in_sync(sqlite_project, models)


def test_a_shorter_length_is_destructive_only_where_the_server_cuts_or_refuses(project):
    """SQLite enforces no length: VARCHAR(36) -> CHAR(32) keeps every value, so it needs no --allow-destructive."""
    before = project.write_models("a", """
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("tokens", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("value", sa.String(36)))
    """)
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute("INSERT INTO tokens (id, value) VALUES (1, 'abcd')")
    after = project.write_models("b", """
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("tokens", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("value", sa.CHAR(32)))
    """)
    plan = json.loads(project.cli("plan", "--json", models=after).output)
    destructive = [op["op"] for op in plan["operations"] if op["destructive"]]
    if project.db.dialect == "sqlite":
        assert destructive == [] and [op["op"] for op in plan["operations"]] == ["rebuild_table"]
        assert project.cli("apply", "--yes", models=after).exit_code == 0
        assert project.db.rows("SELECT value FROM tokens") == [("abcd",)]
        assert_in_sync(project, after)
    else:
        assert destructive == ["alter_column"]
        assert project.cli("apply", "--yes", models=after).exit_code == 1


MIXED_CASE_SCHEMAS = """
import sqlalchemy as sa
import schemasync
metadata = sa.MetaData()
upper = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.String(5), unique=True),
    sa.Column("s", sa.Enum("a", "b", name="shade", schema="MySchema")), sa.Index("ix_t_n", "n"), schema="MySchema")
lower = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", sa.Integer),
    sa.Column("s", sa.Enum("x", "y", "z", name="shade", schema="myschema")), sa.Index("ix_t_n", "m"), schema="myschema")
sa.Table("u", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("t_id", sa.ForeignKey("MySchema.t.id")), schema="myschema")
sa.Sequence("seq", schema="MySchema", metadata=metadata)
schemasync.View("v", sa.select(upper.c.id, upper.c.n), metadata, schema="MySchema")
schemasync.View("v", sa.select(lower.c.id, lower.c.m), metadata, schema="myschema")
"""


def test_quoted_mixed_case_schema_beside_its_lower_case_spelling(tmp_path):
    """PostgreSQL: "MySchema" and myschema are two schemas: both built, nothing crosses between them,
    no drift after apply, and a change to one touches only that one."""
    from tests.conftest import project_on

    for project in project_on("postgresql", tmp_path):
        (project.path / "schemasync.yaml").write_text('include_schemas: ["MySchema", "myschema"]\n')
        models = project.write_models("m", MIXED_CASE_SCHEMAS)
        assert_converges(project, models)
        assert project.db.rows("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('MySchema', 'myschema') ORDER BY 1, 2") == [
            ("MySchema", "t"), ("MySchema", "v"), ("myschema", "t"), ("myschema", "u"), ("myschema", "v")]
        changed = project.write_models("m2", MIXED_CASE_SCHEMAS.replace('sa.Column("m", sa.Integer)', 'sa.Column("m", sa.Integer), sa.Column("k", sa.Integer)'))
        plan = json.loads(project.cli("plan", "--json", models=changed).output)
        assert [(op["op"], op["table"]) for op in plan["operations"]] == [("add_column", "myschema.t")]
        assert_converges(project, changed)


def test_integer_display_widths_and_default_time_precision_are_in_sync(project):
    """MariaDB: `INT(5)` is the models' INTEGER (a display width changes no value; MySQL 8 reports none).
    PostgreSQL: TIMESTAMP(6) and TIME(6) are TIMESTAMP and TIME (6 is the default, and the most)."""
    if project.db.dialect == "mysql":
        project.db.execute("CREATE TABLE w (id INT(5) NOT NULL PRIMARY KEY, a INT(5), c BIGINT(10), s SMALLINT(3), flag BOOL)")
    elif project.db.dialect == "postgresql":
        project.db.execute("CREATE TABLE w (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, c BIGINT, s SMALLINT, flag BOOLEAN, at TIMESTAMP(6), tm TIME(6))")
    else:
        pytest.skip("SQLite: no display width, and a time is text")
    time_columns = '\n            sa.Column("at", sa.DateTime), sa.Column("tm", sa.Time),' if project.db.dialect == "postgresql" else ""
    models = project.write_models("m", f"""
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("w", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("a", sa.Integer), sa.Column("c", sa.BigInteger), sa.Column("s", sa.SmallInteger), sa.Column("flag", sa.Boolean),{time_columns}
        )
    """)
    assert_in_sync(project, models)
    assert_converges(project, models)


SERVER_LIKE_NAMES = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
sa.Table("child", metadata,
    sa.Column("id", sa.Integer, autoincrement=False),
    sa.Column("parent_id", sa.Integer),
    sa.Column("other_id", sa.Integer),
    sa.Column("code", sa.String(5)),
    sa.Column("qty", sa.Integer),
    sa.PrimaryKeyConstraint("id", name="kid_pkey"),
    sa.ForeignKeyConstraint(["parent_id"], ["parent.id"], name="kid_parent_fkey"),
    sa.ForeignKeyConstraint(["other_id"], ["parent.id"], name="child_ibfk_7"),
    sa.UniqueConstraint("code", name="kid_code_key"),
    sa.CheckConstraint("qty > 0", name="kid_qty_check"),
)
"""


# The names each server reports back (SQLAlchemy reads no foreign key names on SQLite; MariaDB's primary key is PRIMARY).
KEPT_NAMES = {
    "sqlite": {"kid_pkey", "kid_code_key", "kid_qty_check"},
    "postgresql": {"kid_pkey", "kid_parent_fkey", "child_ibfk_7", "kid_code_key", "kid_qty_check"},
    "mysql": {"kid_parent_fkey", "child_ibfk_7", "kid_code_key", "kid_qty_check"},
}


def test_names_the_models_give_are_kept_when_they_look_like_the_servers(project):
    """A name the models give a constraint is built and kept even where it has the form of one the
    server makes up (PostgreSQL `<...>_fkey`, `_pkey`, `_key`, `_check`; MariaDB `<table>_ibfk_N`):
    Airflow and MLflow name theirs so (tests/test_real_apps.py). Such a name was taken for the
    server's and left out of the plan: the server then chose another, and nothing reported it."""
    import sqlalchemy as sa

    models = project.write_models("m", SERVER_LIKE_NAMES)
    assert_converges(project, models)
    engine = project.db.engine()
    try:
        inspector = sa.inspect(engine)
        names = {inspector.get_pk_constraint("child")["name"]} | {fk["name"] for fk in inspector.get_foreign_keys("child")}
        names |= {c["name"] for c in inspector.get_unique_constraints("child")} | {c["name"] for c in inspector.get_check_constraints("child")}
    finally:
        engine.dispose()
    assert names >= KEPT_NAMES[project.db.dialect], names
    # A database whose constraints have the server's names for them: the plan renames them to the models'.
    project.db.execute("DROP TABLE child", "DROP TABLE parent")
    unnamed = SERVER_LIKE_NAMES.replace(', name="kid_pkey"', "").replace(', name="kid_parent_fkey"', "").replace(', name="child_ibfk_7"', "")
    assert_converges(project, project.write_models("m_unnamed", unnamed.replace(', name="kid_code_key"', "").replace(', name="kid_qty_check"', "")))
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    assert plan["operations"], "the server's names were taken for the models'"
    assert_converges(project, models)
