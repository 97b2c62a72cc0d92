"""`plan --alembic-revision`: revision files that Alembic runs both ways, on every dialect."""

from __future__ import annotations

import ast
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config

from schemasync.alembic_export import revision_text, slug
from schemasync.plan import Plan, Step
from tests.alembic_project import alembic, write_revision, write_setup

V1 = """
    from sqlalchemy import Column, Integer, MetaData, String, Table

    metadata = MetaData()
    users = Table(
        "users", metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False),
    )
"""

V2 = """
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

    metadata = MetaData()
    users = Table(
        "users", metadata,
        Column("id", Integer, primary_key=True),
        # renamed (declared) and widened in the same revision
        Column("full_name", String(100), nullable=False, info={"schemasync": {"renamed_from": "name"}}),
        # a colon that text() would take for a bind parameter, and a percent sign
        Column("status", String(20), nullable=False, server_default=":draft"),
        Column("quota", String(10), nullable=False, server_default="100%"),
        # a foreign key added to an existing table: the downgrade drops it by the server's name
        Column("manager_id", Integer, ForeignKey("users.id")),
    )
    posts = Table(
        "posts", metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
        Column("title", String(200), nullable=False),
    )
"""


def revision_files(folder: Path) -> list[Path]:
    return sorted((folder / "migrations" / "versions").glob("*.py"), key=lambda p: p.stat().st_mtime_ns)


def tables(db) -> set[str]:
    engine = db.engine()
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_exported_revisions_run_under_alembic_both_ways(project):
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    ini = write_setup(project.path, project.db.url, None)

    first = project.cli("plan", "--alembic-revision", "migrations/versions", models=v1)
    assert first.exit_code == 0, first.output
    assert "create table users" in first.output
    [path_a] = revision_files(project.path)
    revision_a = re.search(r"revision (\w{12}) \(revises <base>\)", first.output)[1]
    assert path_a.name.startswith(revision_a) and "down_revision = None" in path_a.read_text()

    alembic(ini, "upgrade", "head")
    assert project.cli("check", models=v1).exit_code == 0
    project.db.execute("INSERT INTO users (id, name) VALUES (1, 'ann')")

    second = project.cli("plan", "--alembic-revision", "migrations/versions", models=v2)
    assert second.exit_code == 0, second.output
    assert "rename column users.name to full_name" in second.output
    assert f"(revises {revision_a})" in second.output
    path_b = next(p for p in revision_files(project.path) if p != path_a)
    assert f"down_revision = {revision_a!r}" in path_b.read_text()

    alembic(ini, "upgrade", "head")
    check = project.cli("check", models=v2)
    assert check.exit_code == 0, check.output
    assert "Not managed (left alone): alembic_version" in check.output
    assert project.db.rows("SELECT full_name, status, quota FROM users") == [("ann", ":draft", "100%")]

    alembic(ini, "downgrade", "-1")
    check = project.cli("check", models=v1)
    assert check.exit_code == 0, check.output
    assert project.db.rows("SELECT id, name FROM users") == [(1, "ann")]  # renamed back, not dropped and added

    alembic(ini, "downgrade", "-1")
    assert tables(project.db) == {"alembic_version"}

    alembic(ini, "upgrade", "head")  # and up again from base
    check = project.cli("check", models=v2)
    assert check.exit_code == 0, check.output


def test_the_revision_runs_offline_and_refuses_another_dialect(sqlite_project):
    models = sqlite_project.write_models("v1", V1)
    ini = write_setup(sqlite_project.path, sqlite_project.db.url, None)
    assert sqlite_project.cli("plan", "--alembic-revision", "migrations", models=models).exit_code == 0  # the script location works too

    def offline(url: str) -> str:
        buffer = io.StringIO()
        config = Config(str(ini), output_buffer=buffer)
        config.set_main_option("sqlalchemy.url", url)
        from alembic import command

        command.upgrade(config, "head", sql=True)
        return buffer.getvalue()

    assert "CREATE TABLE users" in offline(sqlite_project.db.url)
    with pytest.raises(RuntimeError, match="this revision was written by schemasync for sqlite, not postgresql"):
        offline("postgresql+psycopg://nobody@127.0.0.1/none")
    assert ini.exists()


def test_multiple_heads_are_refused(sqlite_project):
    models = sqlite_project.write_models("v1", V1)
    write_setup(sqlite_project.path, sqlite_project.db.url, None)
    write_revision(sqlite_project.path, "aaa", None, "pass", "pass")
    write_revision(sqlite_project.path, "bbb", None, "pass", "pass")
    result = sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=models)
    assert result.exit_code == 1
    assert result.output.strip().endswith("has 2 heads (aaa, bbb): merge them first (`alembic merge heads`)")
    assert len(revision_files(sqlite_project.path)) == 2


def test_down_revision_is_the_current_head(sqlite_project):
    models = sqlite_project.write_models("v1", V1)
    write_setup(sqlite_project.path, sqlite_project.db.url, None)
    write_revision(sqlite_project.path, "aaa", None, "pass", "pass")
    write_revision(sqlite_project.path, "bbb", "aaa", "pass", "pass")
    result = sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=models)
    assert result.exit_code == 0, result.output
    assert "(revises bbb)" in result.output


def test_a_destructive_revision_needs_allow_destructive(sqlite_project):
    v1, v2 = sqlite_project.write_models("v1", V1), sqlite_project.write_models("v2", V2)
    ini = write_setup(sqlite_project.path, sqlite_project.db.url, None)
    assert sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=v2).exit_code == 0
    alembic(ini, "upgrade", "head")
    refused = sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=v1)
    assert refused.exit_code == 1
    assert "destructive step(s)" in refused.output and "Alembic runs a revision without asking: re-run with --allow-destructive" in refused.output
    assert len(revision_files(sqlite_project.path)) == 1
    written = sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", "--allow-destructive", models=v1)
    assert written.exit_code == 0, written.output
    newest = revision_files(sqlite_project.path)[-1].read_text()
    assert "(destructive)" in newest and "schemasync_backup" not in newest  # Alembic runs it: no schemasync bookkeeping
    alembic(ini, "upgrade", "head")
    assert sqlite_project.cli("check", models=v1).exit_code == 0


def test_nothing_to_migrate_writes_no_revision(sqlite_project):
    models = sqlite_project.write_models("v1", V1)
    ini = write_setup(sqlite_project.path, sqlite_project.db.url, None)
    assert sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=models).exit_code == 0
    alembic(ini, "upgrade", "head")
    result = sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=models)
    assert result.exit_code == 0
    assert "No changes." in result.output and "No revision written: there is nothing to migrate." in result.output
    assert len(revision_files(sqlite_project.path)) == 1


def test_writing_twice_from_the_same_schema_is_refused(sqlite_project):
    models = sqlite_project.write_models("v1", V1)
    write_setup(sqlite_project.path, sqlite_project.db.url, None)
    assert sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=models).exit_code == 0
    again = sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=models)
    assert again.exit_code == 1
    assert "was written from this same database schema: run `alembic upgrade head` before writing the next revision" in again.output
    assert len(revision_files(sqlite_project.path)) == 1


@pytest.mark.parametrize("args, message", [
    (["--alembic-revision", "nowhere"], "error: --alembic-revision nowhere: no such directory (give the Alembic versions directory)"),
    (["--alembic-revision", ".", "--sql"], "error: --alembic-revision plans against the live database: it cannot be combined with --from, --all-targets, --out, --json or --sql"),
    (["--allow-destructive"], "error: --allow-destructive is for `plan --alembic-revision DIR` (apply takes its own)"),
])
def test_bad_export_options_are_one_line(sqlite_project, args, message):
    models = sqlite_project.write_models("v1", V1)
    result = sqlite_project.cli("plan", *args, models=models)
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_a_revision_file_that_does_not_import_is_one_line(sqlite_project):
    models = sqlite_project.write_models("v1", V1)
    write_setup(sqlite_project.path, sqlite_project.db.url, None)
    (sqlite_project.path / "migrations" / "versions" / "broken.py").write_text("raise ValueError('bad revision')\n")
    result = sqlite_project.cli("plan", "--alembic-revision", "migrations/versions", models=models)
    assert result.exit_code == 1
    assert result.output.strip().endswith("a revision file cannot be read: ValueError: bad revision")


def test_online_steps_run_in_an_autocommit_block_and_the_file_is_python():
    odd = 'create index ix on users \\ """'  # a summary that could break the module's docstring
    steps = (Step("create_index", "users", False, odd, ("CREATE INDEX CONCURRENTLY ix ON users (name)",), mode="online"),
             Step("add_column", "users", False, "add column users.note", ("ALTER TABLE users ADD COLUMN note VARCHAR(10) DEFAULT 'a:b %'",)))
    plan = Plan("postgresql", "sha256:a", "sha256:b", steps, ("users",), ("users",))
    text = revision_text(plan, Plan("postgresql", "sha256:b", "sha256:a", (), (), ()), "0123456789ab", None, datetime(2024, 1, 2, tzinfo=UTC))
    ast.parse(text)
    assert "    with op.get_context().autocommit_block():\n        _execute('CREATE INDEX CONCURRENTLY ix ON users (name)')" in text
    assert "\n    _execute(\"ALTER TABLE users ADD COLUMN note VARCHAR(10) DEFAULT 'a:b %'\")" in text
    assert "def downgrade() -> None:\n    _require_dialect()\n    pass" in text
    assert "Revises: <base>" in text and "down_revision = None" in text


def test_slug_is_cut_at_a_word():
    assert slug("create table users (4 columns) and 8 more steps") == "create_table_users_4_columns_and_8_more"


def test_the_blog_revisions_run_both_ways(project):
    """The blog's two revisions (comments, checks, ON DELETE CASCADE, a widened column) through Alembic."""
    v1, v2 = project.copy_fixture("blog/models.py"), project.copy_fixture("blog/models_v2.py")
    ini = write_setup(project.path, project.db.url, None)
    for models in (v1, v2):
        written = project.cli("plan", "--alembic-revision", "migrations/versions", models=models)
        assert written.exit_code == 0, written.output
        alembic(ini, "upgrade", "head")
        assert project.cli("check", models=models).exit_code == 0
    alembic(ini, "downgrade", "-1")
    check = project.cli("check", models=v1)
    assert check.exit_code == 0, check.output
    alembic(ini, "downgrade", "base")
    assert tables(project.db) == {"alembic_version"}
