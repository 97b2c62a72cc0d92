"""check: 0 in sync, 2 when models changed (pending) or the database changed behind schemasync's back (drift)."""

from __future__ import annotations

import json

from tests.capabilities import supports

MODELS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("accounts", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(40), nullable=False))
"""


def test_out_of_band_change_is_reported_as_drift_and_pending(project):
    models = project.write_models("m", MODELS)
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    assert project.cli("check", models=models).exit_code == 0

    project.db.execute("ALTER TABLE accounts ADD COLUMN hotfix INTEGER")
    result = project.cli("check", models=models)
    assert result.exit_code == 2
    assert "Drift" in result.output and "hotfix" in result.output
    assert "Pending changes" in result.output

    report = json.loads(project.cli("check", "--json", models=models).output)
    assert report["in_sync"] is False
    assert report["drift"]["state_id"] == 1
    assert any("hotfix" in change for change in report["drift"]["changes"])
    expected = "rebuild_table" if supports(project.db, "alter_by_rebuild") else "drop_column"
    assert [(op["op"], op["destructive"]) for op in report["pending"]["operations"]] == [("backup_columns", False), (expected, True)]


def test_drift_clears_after_apply_brings_the_schema_back(project):
    models = project.write_models("m", MODELS)
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    project.db.execute("CREATE INDEX ix_manual ON accounts (name)")
    assert project.cli("check", models=models).exit_code == 2
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    assert project.cli("check", models=models).exit_code == 0


def test_check_on_an_empty_database_is_pending(project):
    models = project.write_models("m", MODELS)
    result = project.cli("check", models=models)
    assert result.exit_code == 2
    assert "create table accounts" in result.output


def test_a_record_made_by_an_older_version_is_no_drift_while_the_models_match(project):
    """An older schemasync normalised by other rules (say `INTEGER(11)` where this one writes `INTEGER`):
    its fingerprint cannot be compared, so `check` compares with the models instead and says so. A
    record of this version with the same mismatch is drift, and so is an older one with pending changes."""
    models = project.write_models("m", MODELS)
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    project.db.execute("UPDATE schema_state SET target_fingerprint = 'sha256:spelled-otherwise'")
    assert project.cli("check", models=models).exit_code == 2  # this version's record: drift
    project.db.execute("UPDATE schema_state SET tool_version = '0.0.1'")
    result = project.cli("check", models=models)
    assert result.exit_code == 0 and "recorded by schemasync 0.0.1" in result.output and "Drift" not in result.output, result.output
    report = json.loads(project.cli("check", "--json", models=models).output)
    assert report["in_sync"] is True and report["drift"] is None and report["notes"], report
    project.db.execute("ALTER TABLE accounts ADD COLUMN hotfix INTEGER")
    assert project.cli("check", models=models).exit_code == 2  # a real difference still fails
