"""What is managed: tables in the models, plus tables a recorded apply managed. Nothing else is touched."""

from __future__ import annotations

import json

MODELS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("kept", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String(10)))
{extra}
"""
EXTRA = 'sa.Table("extra", metadata, sa.Column("id", sa.Integer, primary_key=True))'


def test_unmanaged_tables_are_listed_and_left_alone(project):
    project.db.execute("CREATE TABLE legacy (id INTEGER PRIMARY KEY, note VARCHAR(20))", "INSERT INTO legacy (id, note) VALUES (1, 'keep me')")
    models = project.write_models("m", MODELS.format(extra=""))
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    assert [op["op"] for op in plan["operations"]] == ["create_table"]
    assert plan["unmanaged"] == ["legacy"]
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    check = project.cli("check", "--json", models=models)
    assert check.exit_code == 0
    assert json.loads(check.output)["unmanaged"] == ["legacy"]
    assert "Not managed (left alone): legacy" in project.cli("check", models=models).output
    assert project.db.rows("SELECT note FROM legacy") == [("keep me",)]
    assert "legacy" in project.cli("inspect", models=models).output


def test_a_table_removed_from_the_models_is_dropped_only_with_permission(project):
    with_extra = project.write_models("with", MODELS.format(extra=EXTRA))
    without = project.write_models("without", MODELS.format(extra=""))
    assert project.cli("apply", "--yes", models=with_extra).exit_code == 0
    project.db.execute("INSERT INTO extra (id) VALUES (7)")

    plan = json.loads(project.cli("plan", "--json", models=without).output)
    assert [(op["op"], op["destructive"]) for op in plan["operations"]] == [("backup_table", False), ("drop_table", True)]
    refused = project.cli("apply", "--yes", models=without)
    assert refused.exit_code == 1 and "--allow-destructive" in refused.output
    assert project.db.scalar("SELECT count(*) FROM extra") == 1

    assert project.cli("apply", "--yes", "--allow-destructive", models=without).exit_code == 0
    assert project.cli("check", models=without).exit_code == 0
    assert "No changes." in project.cli("plan", models=without).output


def test_exclude_tables_narrows_both_sides(project):
    (project.path / "schemasync.yaml").write_text("exclude_tables:\n  - 'ext*'\n")
    with_extra = project.write_models("with", MODELS.format(extra=EXTRA))
    plan = json.loads(project.cli("plan", "--json", models=with_extra).output)
    assert [op["table"] for op in plan["operations"]] == ["kept"]
    project.db.execute("CREATE TABLE extension_data (id INTEGER PRIMARY KEY)")
    assert project.cli("apply", "--yes", models=with_extra).exit_code == 0
    check = json.loads(project.cli("check", "--json", models=with_extra).output)
    assert check["in_sync"] and check["unmanaged"] == []


def test_drop_unmanaged_opts_in_to_dropping_tables_never_managed(project):
    (project.path / "schemasync.yaml").write_text("drop_unmanaged: true\n")
    project.db.execute("CREATE TABLE stray (id INTEGER PRIMARY KEY)")
    models = project.write_models("m", MODELS.format(extra=""))
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    assert sorted((op["op"], op["table"]) for op in plan["operations"]) == [("backup_table", "stray"), ("create_table", "kept"), ("drop_table", "stray")]
    assert plan["unmanaged"] == []
    # The one table there is dropped: a mass drop, which needs its own flag even with drop_unmanaged.
    assert "--allow-mass-drop" in project.cli("apply", "--yes", "--allow-destructive", models=models).output
    assert project.cli("apply", "--yes", "--allow-destructive", "--allow-mass-drop", models=models).exit_code == 0
    assert project.cli("check", models=models).exit_code == 0
