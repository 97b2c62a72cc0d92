"""`check --format text|json|markdown|github`: JSON validated against docs/check-report.schema.json,
Markdown against a golden file (SQLite: the same bytes on every machine), GitHub annotations and the
step summary. Regenerate the golden after a deliberate change with
`SCHEMASYNC_UPDATE_GOLDEN=1 python -m pytest tests/test_report_formats.py`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from schemasync.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "check-report.schema.json").read_text())
GOLDEN = Path(__file__).resolve().parent / "golden_reports"

BEFORE = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("accounts", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(40), nullable=False),
         sa.Column("legacy", sa.String(10)))
"""
AFTER = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("accounts", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(80), nullable=False),
         sa.Column("email", sa.String(100)))
sa.Table("notes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text))
"""


def validate(report: dict) -> None:
    jsonschema.validate(report, SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.fixture
def out_of_sync(sqlite_project):
    """Applied BEFORE, changed behind schemasync's back (drift), models now AFTER (pending, destructive)."""
    project = sqlite_project
    before = project.write_models("before", BEFORE)
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute("CREATE INDEX ix_manual ON accounts (name)")
    return project, project.write_models("after", AFTER)


def test_json_validates_against_the_schema_in_every_state(db, tmp_path, project):
    models = project.write_models("before", BEFORE)
    pending = project.cli("check", "--format", "json", models=models)
    assert pending.exit_code == ExitCode.PENDING
    report = json.loads(pending.output)
    validate(report)
    assert report["reasons"] == ["pending"] and report["kind"] == "database"

    assert project.cli("apply", "--yes", models=models).exit_code == 0
    in_sync = json.loads(project.cli("check", "--format", "json", models=models).output)
    validate(in_sync)
    assert in_sync["in_sync"] is True and in_sync["reasons"] == [] and in_sync["pending"] is None

    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=models).exit_code == 0
    project.db.execute("ALTER TABLE accounts ADD COLUMN hotfix INTEGER")
    drifted = json.loads(project.cli("check", "--json", "--lock", "schema.lock.yaml", models=models).output)
    validate(drifted)
    assert drifted["reasons"] == ["pending", "drift", "lock"]
    against = json.loads(project.cli("check", "--format", "json", "--against", "schema.lock.yaml", models=models).output)
    validate(against)


def test_schema_rejects_what_it_should():
    with pytest.raises(jsonschema.ValidationError):
        validate({"format": 1, "kind": "database", "in_sync": "yes"})
    with pytest.raises(jsonschema.ValidationError):
        validate({"format": 2, "kind": "lock", "in_sync": True, "reasons": [], "lock": []})


def test_json_flag_is_an_alias_of_format_json(out_of_sync):
    project, models = out_of_sync
    first = project.cli("check", "--json", models=models)
    second = project.cli("check", "--format", "json", models=models)
    assert first.exit_code == second.exit_code == ExitCode.PENDING
    assert first.output == second.output


def test_markdown_matches_the_golden_file(out_of_sync):
    project, models = out_of_sync
    result = project.cli("check", "--format", "markdown", models=models)
    assert result.exit_code == ExitCode.PENDING
    golden = GOLDEN / "check_out_of_sync.md"
    if os.environ.get("SCHEMASYNC_UPDATE_GOLDEN"):
        golden.write_text(result.output)
    assert golden.exists(), "no golden file: run with SCHEMASYNC_UPDATE_GOLDEN=1"
    assert result.output == golden.read_text()


def test_markdown_when_in_sync_is_one_line(sqlite_project):
    models = sqlite_project.write_models("before", BEFORE)
    assert sqlite_project.cli("apply", "--yes", models=models).exit_code == 0
    result = sqlite_project.cli("check", "--format", "markdown", models=models)
    assert result.exit_code == ExitCode.OK
    assert result.output == "## schemasync check: in sync\n"


def test_github_annotations_and_step_summary(out_of_sync, tmp_path):
    project, models = out_of_sync
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = project.cli("check", "--format", "github", models=models, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == ExitCode.PENDING
    lines = result.output.splitlines()
    assert lines[0].startswith("::error title=schemasync%3A changes pending::3 changes:")  # the backup step is no change of its own
    assert any(line.startswith("::error title=schemasync%3A destructive step::") and "legacy" in line for line in lines)
    assert any(line.startswith("::error title=schemasync%3A drift since apply #1::") and "ix_manual" in line for line in lines)
    written = summary.read_text()
    assert written.startswith("earlier step\n## schemasync check: out of sync")  # appended, never replaced
    assert "<details><summary>SQL" in written


def test_github_without_summary_file_and_when_in_sync(sqlite_project):
    models = sqlite_project.write_models("before", BEFORE)
    assert sqlite_project.cli("apply", "--yes", models=models).exit_code == 0
    result = sqlite_project.cli("check", "--format", "github", models=models)
    assert result.exit_code == ExitCode.OK
    assert result.output.splitlines()[0] == "::notice title=schemasync::in sync: the database matches the models"


def test_unknown_format_is_one_line(sqlite_project):
    result = sqlite_project.cli("check", "--format", "xml", models=sqlite_project.write_models("m", BEFORE))
    assert result.exit_code == ExitCode.ERROR
    assert "choose one of text, json, markdown, github" in result.output and len(result.output.strip().splitlines()) == 1
