"""Each dialect's bulk catalog reader reads every schema exactly as SQLAlchemy's Inspector does.

The Inspector is the reference (docs/performance.md). The schemas compared: the golden cases,
the blog fixture, hypothesis-generated schemas (the convergence test's generator), the models as
built in the scratch place (PostgreSQL's scratch schema), hand-written DDL in the spellings the
Inspector's parsers care about, and the foreign objects other tests create. The whole suite can
also run with `SCHEMASYNC_TEST_READER=compare` (both readers on every read) or `=inspector`.
"""

from __future__ import annotations

import runpy
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

from schemasync.dialects import dialect_for
from schemasync.snapshot import fingerprint_of
from tests.capabilities import requires
from tests.readers import assert_same_reading, differences, read_both
from tests.test_convergence import reset, schemas, to_metadata
from tests.test_foreign_objects import EXOTIC

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
MODEL_FILES = sorted(str(p.relative_to(ROOT)) for p in [*GOLDEN.glob("*/*.py"), *(ROOT / "fixtures" / "blog").glob("*.py")])
EXAMPLES = {"sqlite": 60, "postgresql": 15, "mysql": 15}


def load(relative: str) -> sa.MetaData:
    found = runpy.run_path(str(ROOT / relative))
    return found["metadata"] if "metadata" in found else found["Base"].metadata


def create(url: str, metadata: sa.MetaData) -> None:
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()


def test_every_dialect_has_a_bulk_reader(db):
    """Not a silent fallback: on every dialect the comparisons below compare two different readers."""
    create(db.url, load("fixtures/blog/models.py"))
    engine = sa.create_engine(db.url)
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        assert dialect_for(connection.dialect).read_catalog(connection, None, names) is not None
    engine.dispose()


@pytest.mark.parametrize("models", MODEL_FILES)
def test_the_models_of_the_suite_read_alike(db, models):
    metadata = load(models)
    create(db.url, metadata)
    snapshot = assert_same_reading(db.url)
    assert len(snapshot.tables) == len(metadata.tables)
    # A snapshot's fingerprint, made without its canonical form, is the digest of that form (every
    # field: a fresh copy, enum types and views included, for the golden cases that have them).
    assert replace(snapshot).fingerprint() == fingerprint_of(snapshot.to_dict())


def test_the_scratch_build_reads_alike(db):
    """Models built where plan builds them (PostgreSQL: a scratch schema, so serial defaults name it)."""
    metadata = sa.MetaData()
    for relative in ("fixtures/blog/models.py", "tests/golden/fk_cycle/after.py"):
        for table in load(relative).tables.values():
            if table.key not in metadata.tables:
                table.to_metadata(metadata)
    engine = sa.create_engine(db.url)
    dialect = dialect_for(engine.dialect)
    try:
        with dialect.scratch(engine, [None]) as (connection, mapping):
            metadata.create_all(connection.execution_options(schema_translate_map=dict(mapping)))
            reverse = {scratch: schema for schema, scratch in mapping.items()}
            catalog, inspector = read_both(connection, reverse)
            assert catalog.tables and not differences(catalog, inspector)
    finally:
        engine.dispose()


@pytest.mark.slow  # a hypothesis hunt
def test_generated_schemas_read_alike(db):
    @settings(max_examples=EXAMPLES[db.dialect], deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(schema=schemas())
    def run(schema) -> None:
        reset(db.url)
        create(db.url, to_metadata(schema))
        assert_same_reading(db.url)

    run()


def test_foreign_objects_read_alike(db):
    db.execute(*EXOTIC[db.dialect])
    snapshot = assert_same_reading(db.url)
    assert [t.name for t in snapshot.tables] == ["legacy"]


HAND_WRITTEN = {
    # The spellings SQLite keeps verbatim and the Inspector parses: quoting styles, inline and
    # table-level constraints, actions, checks with parentheses in literals, odd type names.
    "sqlite": [
        (
            'CREATE TABLE "Parent" ("Id" INTEGER PRIMARY KEY, code VARCHAR(8) UNIQUE, [name] TEXT, `k` INT UNIQUE, '
            "CONSTRAINT uq_parent UNIQUE (name, code))"
        ),
        (
            'CREATE TABLE child (id INTEGER CONSTRAINT pk_child PRIMARY KEY, parent_id INTEGER REFERENCES "Parent" ("Id") ON DELETE CASCADE, '
            "other INTEGER, amount NUMERIC(10, 2) DEFAULT 0 CHECK (amount >= 0), note TEXT DEFAULT 'a (b) ''c''', "
            "flag BOOLEAN NOT NULL DEFAULT 1, born DATE, seen DATETIME DEFAULT CURRENT_TIMESTAMP, ratio DOUBLE, blob_ BLOB, anything, "
            'weird VARYING CHARACTER(20), CONSTRAINT fk_child_other FOREIGN KEY (other) REFERENCES "Parent" ("Id") '
            "ON UPDATE SET NULL ON DELETE SET DEFAULT, "
            """CONSTRAINT "ck child" CHECK (note <> ')'), CHECK (length(note) < 100), UNIQUE (born, ratio))"""
        ),
        "CREATE TABLE no_rowid (a TEXT NOT NULL, b INTEGER, c INTEGER GENERATED ALWAYS AS (b * 2) VIRTUAL, PRIMARY KEY (a, b)) WITHOUT ROWID",
        "CREATE TABLE implied (id INTEGER PRIMARY KEY, p INTEGER, FOREIGN KEY (p) REFERENCES child)",
        "CREATE INDEX ix_child_parent ON child (parent_id, other DESC)",
        "CREATE UNIQUE INDEX ux_child_note ON child (note) WHERE note IS NOT NULL",
        "CREATE INDEX ix_child_expr ON child (lower(note))",
    ],
    # Enums, domains, arrays, collations, identities, serials, partial/INCLUDE/expression indexes,
    # keys with actions, NOT VALID checks, comments.
    "postgresql": [
        "CREATE TYPE mood AS ENUM ('ok', 'sad')",
        "CREATE DOMAIN positive AS integer DEFAULT 1 NOT NULL CHECK (VALUE > 0)",
        (
            'CREATE TABLE "Parent" ("Id" serial PRIMARY KEY, code varchar(8) UNIQUE, name text COLLATE "C", '
            "CONSTRAINT uq_parent UNIQUE (name, code))"
        ),
        (
            'CREATE TABLE child (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, parent_id integer REFERENCES "Parent" ON DELETE CASCADE, '
            "other integer, amount numeric(10, 2) DEFAULT 0 CHECK (amount >= 0), note text DEFAULT 'a (b) ''c''', feeling mood, "
            "n positive, tags text[], at timestamp(3) with time zone DEFAULT now(), span interval day, bits bit varying(5), "
            """d double precision, r real, j jsonb, u uuid, counter numeric DEFAULT nextval('"Parent_Id_seq"'::regclass), """
            'CONSTRAINT fk_child_other FOREIGN KEY (other) REFERENCES "Parent" ("Id") ON UPDATE SET NULL ON DELETE SET NULL (other) DEFERRABLE)'
        ),
        "ALTER TABLE child ADD CONSTRAINT ck_later CHECK (note <> ')') NOT VALID",
        "COMMENT ON TABLE child IS 'it''s a child'",
        "COMMENT ON COLUMN child.note IS '100%% sure'",  # %%: the driver formats parameters
        "CREATE INDEX ix_child_parent ON child (parent_id, other DESC) INCLUDE (note)",
        "CREATE UNIQUE INDEX ux_child_note ON child (note) WHERE note IS NOT NULL",
        "CREATE INDEX ix_child_expr ON child (lower(note), parent_id)",
    ],
    # Character sets and collations against the table's, enum/set values with quotes, zerofill,
    # timestamps with ON UPDATE, expression defaults, every referential action, column-level checks.
    "mysql": [
        (
            "CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(8) UNIQUE, "
            "name VARCHAR(20) CHARACTER SET latin1, tag VARCHAR(10) COLLATE utf8mb4_bin, "
            "UNIQUE KEY uq_parent (name, code)) COMMENT 'it''s a parent'"
        ),
        (
            "CREATE TABLE child (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, a INT, b INT, c INT, d INT, "
            "amount DECIMAL(10,2) DEFAULT 0 CHECK (amount >= 0), note VARCHAR(30) DEFAULT 'a (b) ''c''', "
            "kind ENUM('a','b''c') DEFAULT 'a', flags SET('x','y'), z INT(10) UNSIGNED ZEROFILL DEFAULT 5 COMMENT 'it''s 100%%', "
            "at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), "
            "upd DATETIME DEFAULT '2020-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP, "
            "e INT DEFAULT (1 + 1), g VARCHAR(20) DEFAULT concat('a','b'), doc JSON, body TEXT, dt DATETIME(6), f FLOAT, dbl DOUBLE, "
            "CONSTRAINT fa FOREIGN KEY (a) REFERENCES parent (id) ON DELETE RESTRICT, "
            "CONSTRAINT fb FOREIGN KEY (b) REFERENCES parent (id) ON DELETE NO ACTION ON UPDATE RESTRICT, "
            "CONSTRAINT fc FOREIGN KEY (c) REFERENCES parent (id), "
            "CONSTRAINT fd FOREIGN KEY (d) REFERENCES parent (id) ON DELETE SET NULL ON UPDATE CASCADE, "
            "CONSTRAINT ck_note CHECK (note <> ')'), KEY ix_child (a, note(10)), FULLTEXT KEY ft_body (body))"
        ),
    ],
}


def test_hand_written_schemas_read_alike(db):
    db.execute(*HAND_WRITTEN[db.dialect])
    snapshot = assert_same_reading(db.url)
    assert len(snapshot.tables) >= 2


@requires("named_schemas")
def test_a_named_postgresql_schema_reads_alike(db):
    """Tables outside the search path: foreign keys name the schema they point into."""
    db.execute(
        "CREATE SCHEMA other",
        "CREATE TABLE other.parent (id serial PRIMARY KEY)",
        "CREATE TABLE other.child (id serial PRIMARY KEY, parent_id integer REFERENCES other.parent, home_id integer)",
        "CREATE TABLE public.home (id serial PRIMARY KEY, other_id integer REFERENCES other.parent)",
        "ALTER TABLE other.child ADD FOREIGN KEY (home_id) REFERENCES public.home",
    )
    both = assert_same_reading(db.url, {None: None, "other": "other"})
    child = both.table(("other", "child"))
    assert {fk.referred_schema for fk in child.foreign_keys} == {"other", None}
    assert both.table((None, "home")).foreign_keys[0].referred_schema == "other"


def test_the_catalog_is_read_with_a_fixed_number_of_queries(db):
    """Bulk: the number of queries does not grow with the number of tables (the Inspector's does on SQLite and MySQL)."""

    def queries(tables: int) -> int:
        reset(db.url)
        metadata = sa.MetaData()
        for n in range(tables):
            sa.Table(f"t{n}", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String(10), index=True),
                     *([sa.Column("p", sa.Integer, sa.ForeignKey(f"t{n - 1}.id"))] if n else []))
        create(db.url, metadata)
        engine = sa.create_engine(db.url)
        counted: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", lambda *args: counted.append(args[2]))
        with engine.connect() as connection:
            names = sa.inspect(connection).get_table_names()
            counted.clear()
            dialect_for(connection.dialect).read_catalog(connection, None, names)
        engine.dispose()
        return len(counted)

    assert queries(3) == queries(30)
