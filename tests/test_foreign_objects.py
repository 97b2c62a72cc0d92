"""Objects outside the core scope (views, triggers, enums, expression and fulltext indexes) never crash a run."""

from __future__ import annotations

import json

import yaml

from tests.capabilities import requires

EXOTIC = {
    "sqlite": [
        "CREATE TABLE legacy (id INTEGER PRIMARY KEY, body TEXT, n INTEGER)",
        "CREATE INDEX ix_legacy_lower ON legacy (lower(body))",
        "CREATE VIEW legacy_view AS SELECT id FROM legacy",
        "CREATE TRIGGER legacy_touch AFTER INSERT ON legacy BEGIN UPDATE legacy SET n = 1 WHERE id = new.id; END",
    ],
    "postgresql": [
        "CREATE TYPE mood AS ENUM ('ok', 'sad')",
        "CREATE SEQUENCE standalone_seq",
        "CREATE TABLE legacy (id serial PRIMARY KEY, body text, feeling mood, tags text[], doc jsonb, span tsrange)",
        "CREATE INDEX ix_legacy_lower ON legacy (lower(body))",
        "CREATE INDEX ix_legacy_partial ON legacy (id) WHERE body IS NOT NULL",
        "CREATE VIEW legacy_view AS SELECT id FROM legacy",
        "CREATE MATERIALIZED VIEW legacy_mat AS SELECT id FROM legacy",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER legacy_touch BEFORE INSERT ON legacy FOR EACH ROW EXECUTE FUNCTION touch()",
    ],
    "mysql": [
        "CREATE TABLE legacy (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT, kind ENUM('a','b'), flags SET('x','y'), FULLTEXT KEY ft_body (body)) ENGINE=InnoDB",
        "CREATE VIEW legacy_view AS SELECT id FROM legacy",
        "CREATE TRIGGER legacy_touch BEFORE INSERT ON legacy FOR EACH ROW SET NEW.body = COALESCE(NEW.body, '')",
    ],
}

MODELS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("managed", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


def test_exotic_objects_are_listed_and_left_alone(project):
    project.db.execute(*EXOTIC[project.db.dialect])
    models = project.write_models("m", MODELS)

    plan = json.loads(project.cli("plan", "--json", models=models).output)
    assert [op["op"] for op in plan["operations"]] == ["create_table"]
    assert "legacy" in plan["unmanaged"]

    assert project.cli("apply", "--yes", models=models).exit_code == 0
    check = project.cli("check", models=models)
    assert check.exit_code == 0, check.output
    assert "legacy" in check.output and "view legacy_view" in check.output

    inspected = project.cli("inspect", models=models)
    assert inspected.exit_code == 0, inspected.output
    data = yaml.safe_load(inspected.output)
    assert "legacy" in data["unmanaged"] and "view legacy_view" in data["other_objects"]
    assert project.db.scalar("SELECT count(*) FROM legacy") == 0  # still there, untouched


@requires("expression_indexes")  # MariaDB 10.11 has none (MySQL 8.0.13+ does)
def test_an_expression_index_on_a_managed_table_is_managed_like_any_index(project):
    """Expression indexes are managed (issue 3): one made outside the models is dropped; declared, it is kept."""
    source = """
import sqlalchemy as sa
metadata = sa.MetaData()
notes = sa.Table("notes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.String(50)))
"""
    models = project.write_models("m", source)
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    project.db.execute("CREATE INDEX ix_notes_lower ON notes (lower(body))")
    result = project.cli("plan", models=models)
    assert result.exit_code == 0 and "ix_notes_lower" in result.output and "Skipped unsupported" not in result.output
    declared = project.write_models("d", source + 'sa.Index("ix_notes_lower", sa.func.lower(notes.c.body))\n')
    assert "No changes." in project.cli("plan", models=declared).output
    assert project.cli("apply", "--yes", models=declared).exit_code == 0
    assert project.db.scalar("SELECT count(*) FROM notes WHERE lower(body) = 'x'") == 0  # index still usable
