"""Offline plans and lock files: `snapshot` writes the models' normalised schema (built on a server,
or in memory for SQLite); `plan --from LOCK|empty --dialect D --sql` needs no server, and the SQL it
prints, run on a real server, gives a schema whose `check` exits 0; `check --against` / `--lock`."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from schemasync.cli import app
from schemasync.errors import ExitCode
from tests.capabilities import requires

# Nothing listens here: an offline command that tried to connect would fail.
NO_SERVER = "postgresql+psycopg://nobody@127.0.0.1:9/nothing"


def offline(project, *args: str, models: str):
    """Run the CLI in the project folder with a database URL that cannot be reached."""
    import os

    cwd = os.getcwd()
    os.chdir(project.path)
    try:
        return CliRunner().invoke(app, [*args, "--models", models, "--database-url", NO_SERVER], catch_exceptions=False)
    finally:
        os.chdir(cwd)


def run_script(db, script: str) -> None:
    """Execute a `plan --sql` script statement by statement, as a reviewer would paste it."""
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    statements = [s.strip() for s in re.split(r";\s*\n", body) if s.strip()]
    db.execute(*statements)


def test_offline_create_script_then_v2_migration_converge_on_a_real_server(project):
    dialect = project.db.dialect
    v1 = project.copy_fixture("blog/models.py")
    v2 = project.copy_fixture("blog/models_v2.py")
    # The lock files are written with a server of the dialect (SQLite: in memory, no server at all).
    assert project.cli("snapshot", "--out", "v1.lock.yaml", models=v1).exit_code == 0
    assert project.cli("snapshot", "--out", "v2.lock.yaml", models=v2).exit_code == 0

    created = offline(project, "plan", "--from", "empty", "--dialect", dialect, "--to", "v1.lock.yaml", "--sql", models=v1)
    assert created.exit_code == 0, created.output
    assert created.output.count("CREATE TABLE") == 9
    run_script(project.db, created.output)
    check = project.cli("check", models=v1)
    assert check.exit_code == ExitCode.OK, check.output

    migration = offline(project, "plan", "--from", "v1.lock.yaml", "--dialect", dialect, "--to", "v2.lock.yaml", "--sql", models=v2)
    assert migration.exit_code == 0, migration.output
    assert "CREATE TABLE comments" in migration.output and "CREATE TABLE users" not in migration.output
    run_script(project.db, migration.output)
    check = project.cli("check", models=v2)
    assert check.exit_code == ExitCode.OK, check.output


def test_offline_plan_has_the_same_hash_as_the_live_plan(project):
    models = project.copy_fixture("blog/models.py")
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=models).exit_code == 0
    live = json.loads(project.cli("plan", "--json", models=models).output)
    off = json.loads(offline(project, "plan", "--from", "empty", "--dialect", project.db.dialect, "--json", models=models).output)
    assert [op["sql"] for op in off["operations"]] == [op["sql"] for op in live["operations"]]
    assert off["target_fingerprint"] == live["target_fingerprint"]


TIMESTAMPS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("ports", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.TIMESTAMP, nullable=False),
    sa.Column("updated_at", sa.TIMESTAMP, nullable=True))
"""


def test_offline_plan_writes_a_nullable_timestamp_as_the_live_plan_does(project):
    """A type read back from the lock file keeps its TIMESTAMP affinity: MySQL's compiler writes a
    nullable TIMESTAMP `NULL` offline as live (Neutron's models, tests/test_real_apps.py); without it
    a server with explicit_defaults_for_timestamp off makes the column NOT NULL and auto-updating."""
    models = project.write_models("m", TIMESTAMPS)
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=models).exit_code == 0
    live = json.loads(project.cli("plan", "--json", models=models).output)
    off = json.loads(offline(project, "plan", "--from", "empty", "--dialect", project.db.dialect, "--json", models=models).output)
    assert [op["sql"] for op in off["operations"]] == [op["sql"] for op in live["operations"]]


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
@pytest.mark.xfail(strict=True, reason=(
    "known gap: an offline mysql plan quotes with SQLAlchemy's MySQL reserved words, the live plan on MariaDB with "
    "MariaDB's (`role` is reserved in one only): the same statements, spelt and hashed differently; the lock file "
    "does not record that its server was MariaDB (found building Keystone's models offline)"))
def test_offline_plan_quotes_names_as_the_live_plan_on_mariadb(project):
    models = project.write_models("m", TIMESTAMPS.replace('"ports"', '"role"'))
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=models).exit_code == 0
    live = json.loads(project.cli("plan", "--json", models=models).output)
    off = json.loads(offline(project, "plan", "--from", "empty", "--dialect", "mysql", "--json", models=models).output)
    assert [op["sql"] for op in off["operations"]] == [op["sql"] for op in live["operations"]]


def test_lock_keeps_every_dialect_made_from_the_same_models(sqlite_project):
    project = sqlite_project
    models = project.copy_fixture("blog/models.py")
    assert project.cli("snapshot", "--out", "schema.lock.yaml", "--dialect", "sqlite", models=models).exit_code == 0
    text = (project.path / "schema.lock.yaml").read_text()
    assert text.startswith("# schemasync lock file") and "sqlite:" in text
    # A lock written by hand-editing is refused: its fingerprint no longer matches.
    (project.path / "edited.lock.yaml").write_text(text.replace("VARCHAR(16)", "VARCHAR(17)", 1))
    result = offline(project, "plan", "--from", "edited.lock.yaml", "--dialect", "sqlite", models=models)
    assert result.exit_code == 1 and "edited by hand" in result.output and len(result.output.strip().splitlines()) == 1


def test_check_against_fails_when_models_changed_but_the_lock_did_not(sqlite_project):
    project = sqlite_project
    v1 = project.copy_fixture("blog/models.py")
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=v1).exit_code == 0
    fresh = offline(project, "check", "--against", "schema.lock.yaml", models=v1)
    assert fresh.exit_code == ExitCode.OK, fresh.output

    v2 = project.copy_fixture("blog/models_v2.py")
    stale = offline(project, "check", "--against", "schema.lock.yaml", models=v2)
    assert stale.exit_code == ExitCode.PENDING, stale.output
    assert "comments (new)" in stale.output and "articles (changed)" in stale.output
    assert "users (changed)" in stale.output and "tags (changed)" not in stale.output
    report = json.loads(offline(project, "check", "--against", "schema.lock.yaml", "--format", "json", models=v2).output)
    assert report["kind"] == "lock" and report["in_sync"] is False and report["reasons"] == ["lock"]

    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=v2).exit_code == 0
    assert offline(project, "check", "--against", "schema.lock.yaml", models=v2).exit_code == ExitCode.OK


@requires("scratch_database")  # SQLite builds the models in memory: it never needs the models' lock
def test_offline_plan_refuses_a_stale_models_lock_in_one_line(project):
    v1 = project.copy_fixture("blog/models.py")
    v2 = project.copy_fixture("blog/models_v2.py")
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=v1).exit_code == 0
    result = offline(project, "plan", "--from", "empty", "--dialect", project.db.dialect, models=v2)
    assert result.exit_code == 1
    assert "out of date with the models" in result.output and "comments (new)" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_with_lock_compares_the_live_schema_and_the_models(project):
    models = project.write_models("m", """
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("accounts", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(40)))
    """)
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=models).exit_code == 0
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    ok = project.cli("check", "--lock", "schema.lock.yaml", models=models)
    assert ok.exit_code == ExitCode.OK, ok.output
    assert "matches the models and the live schema" in ok.output

    project.db.execute("ALTER TABLE accounts ADD COLUMN hotfix INTEGER")
    report = json.loads(project.cli("check", "--lock", "schema.lock.yaml", "--format", "json", models=models).output)
    assert report["reasons"] == ["pending", "drift", "lock"]
    assert any("hotfix" in d for d in report["lock"][0]["live_differences"])
    assert report["lock"][0]["model_changes"] == []


def test_snapshot_of_the_live_database_is_a_from_for_offline_plans(project):
    v1 = project.copy_fixture("blog/models.py")
    v2 = project.copy_fixture("blog/models_v2.py")
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    assert project.cli("snapshot", "--live", "--out", "prod.lock.yaml", models=v1).exit_code == 0
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=v2).exit_code == 0
    migration = offline(project, "plan", "--from", "prod.lock.yaml", "--sql", models=v2)
    assert migration.exit_code == 0, migration.output
    run_script(project.db, migration.output)
    assert project.cli("plan", models=v2).output.startswith("No changes.")


def test_offline_usage_errors_are_one_line(sqlite_project):
    project = sqlite_project
    models = project.copy_fixture("blog/models.py")
    for args, expected in [
        (("plan", "--dialect", "sqlite"), "--dialect and --to are for offline plans"),
        (("plan", "--from", "missing.yaml", "--dialect", "sqlite"), "does not exist"),
        (("plan", "--from", "empty", "--dialect", "oracle"), "not supported"),
        (("check", "--against", "missing.yaml"), "does not exist"),
    ]:
        result = offline(project, *args, models=models)
        assert result.exit_code == 1, (args, result.output)
        assert expected in result.output and len(result.output.strip().splitlines()) == 1, result.output
