"""`schemasync adopt` on databases built by a real Alembic history, and reading Alembic setups."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from schemasync.cli import app
from schemasync.dialects import offline_dialect
from schemasync.plan import make_plan
from schemasync.scope import managed_view
from schemasync.snapshot import Column, Snapshot, Table
from tests.alembic_project import alembic, write_revision, write_setup

ROOT = Path(__file__).resolve().parent.parent

MODELS = """
    from sqlalchemy import Boolean, Column, ForeignKey, Integer, MetaData, String, Table, Text, true

    metadata = MetaData()
    users = Table(
        "users", metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False),
        Column("email", String(100), nullable=False, unique=True),
        Column("active", Boolean, nullable=False, server_default=true()),
    )
    posts = Table(
        "posts", metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
        Column("title", String(200), nullable=False),
        Column("body", Text),
    )
"""

# The same schema as three revisions, written the way `alembic revision --autogenerate` writes them.
HISTORY = [
    ("a1", None, """
        op.create_table("users",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(50), nullable=False),
            sa.Column("email", sa.String(100), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("email"))
        """, 'op.drop_table("users")'),
    ("b2", "a1", """
        op.create_table("posts",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("title", sa.String(200), nullable=False),
            sa.Column("body", sa.Text(), nullable=True),
            sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
            sa.PrimaryKeyConstraint("id"))
        op.create_index("ix_posts_user_id", "posts", ["user_id"])
        """, 'op.drop_index("ix_posts_user_id", table_name="posts")\nop.drop_table("posts")'),
    ("c3", "b2", """
        op.add_column("users", sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
        """, 'op.drop_column("users", "active")'),
]


def alembic_project(project, upgrade_to: str = "head", models: str = MODELS):
    """The project as an Alembic project: env.py's target_metadata is the models; upgraded by Alembic."""
    spec = project.write_models("models", models)
    ini = write_setup(project.path, project.db.url, spec)
    for revision, down, upgrade, downgrade in HISTORY:
        write_revision(project.path, revision, down, upgrade, downgrade)
    alembic(ini, "upgrade", upgrade_to)
    return ini


def state_rows(db) -> list[tuple]:
    engine = db.engine()
    try:
        if not sa.inspect(engine).has_table("schema_state"):
            return []
    finally:
        engine.dispose()
    return db.rows("SELECT id, kind, status FROM schema_state ORDER BY id")


def test_adopt_a_database_alembic_built_then_check_is_in_sync(project):
    alembic_project(project)
    result = project.cli("adopt", "--alembic", "alembic.ini")
    assert result.exit_code == 0, result.output
    assert "Adopted: the database matches the models (2 tables); baseline recorded as schema_state #1" in result.output
    assert "Not managed (left alone): alembic_version" in result.output
    assert "alembic_version (at c3) is left in place" in result.output
    assert state_rows(project.db) == [(1, "adopt", "applied")]

    check = project.cli("check", "--alembic", "alembic.ini")
    assert check.exit_code == 0, check.output
    assert "In sync" in check.output and "alembic_version" in check.output
    # alembic_version stays exactly as Alembic left it.
    assert project.db.rows("SELECT version_num FROM alembic_version") == [("c3",)]

    # Drift detection works from the baseline like from any apply.
    project.db.execute("ALTER TABLE posts ADD COLUMN extra INTEGER")
    drifted = project.cli("check", "--alembic", "alembic.ini")
    assert drifted.exit_code == 2, drifted.output
    assert "Drift" in drifted.output and "posts.extra" in drifted.output


def test_adopt_lists_what_differs_and_records_nothing(project):
    # Alembic stopped at b2 (no users.active), and the models no longer have posts.body.
    alembic_project(project, upgrade_to="b2", models=MODELS.replace('        Column("body", Text),\n', ""))
    result = project.cli("adopt")  # alembic.ini found in the current folder
    assert result.exit_code == 1, result.output
    assert re.search(r"The database differs from the models: the \d+ changes `schemasync apply` would make to match them:", result.output)
    assert "add column users.active" in result.output
    assert "note: values of body kept in schemasync_backup_" in result.output  # data a drop would lose is kept first
    assert re.search(r"drop column posts.body.*\(destructive\)", result.output)
    assert "Alembic's scripts are at c3: the database is not at head" in result.output
    assert re.search(r"error: not adopted: the database differs from the models \(\d+ changes to make them match, listed above\); nothing was recorded", result.output)
    assert state_rows(project.db) == []
    assert project.cli("history").output.strip() == "No applies recorded yet."


def test_accepting_the_differences_records_the_live_schema_and_leaves_them_pending(project):
    alembic_project(project, upgrade_to="b2")
    result = project.cli("adopt", "--accept-differences", "--yes")
    assert result.exit_code == 0, result.output
    assert "add column users.active" in result.output
    assert "Baseline recorded as schema_state #1: the live schema as it is; the differences from the models are pending" in result.output
    assert state_rows(project.db) == [(1, "baseline", "applied")]

    check = project.cli("check")
    assert check.exit_code == 2, check.output
    assert "Pending changes" in check.output and "add column users.active" in check.output
    assert "Drift" not in check.output  # the baseline is what the database holds

    assert project.cli("apply", "--yes").exit_code == 0
    final = project.cli("check")
    assert final.exit_code == 0, final.output


def test_alembic_version_is_never_dropped_even_with_drop_unmanaged(project):
    alembic_project(project)
    (project.path / "schemasync.yaml").write_text("drop_unmanaged: true\nalembic: alembic.ini\n")
    project.db.execute("CREATE TABLE leftover (id INTEGER PRIMARY KEY)")
    plan = project.cli("plan")
    assert plan.exit_code == 0, plan.output
    assert "drop table leftover" in plan.output
    assert "alembic_version" not in plan.output.split("Plan hash")[0]
    assert "Not managed (left alone): alembic_version" in plan.output


def test_tool_tables_are_left_alone_by_the_pure_scope_rule():
    live = Snapshot("x", (Table("alembic_version", (Column("version_num", "VARCHAR(32)", nullable=False),)), Table("old", (Column("id", "INTEGER"),))))
    current, unmanaged = managed_view(live, Snapshot("x"), (), drop_unmanaged=True)
    assert [t.name for t in current.tables] == ["old"] and unmanaged == ("alembic_version",)
    modelled = Snapshot("x", (live.tables[0],))
    assert managed_view(live, modelled, (), drop_unmanaged=False)[1] == ("old",)


def test_adopt_prompts_and_refuses_without_a_terminal(sqlite_project):
    alembic_project(sqlite_project, upgrade_to="b2")
    result = sqlite_project.cli("adopt", "--accept-differences")
    assert result.exit_code == 1
    assert "refusing to record a baseline without confirmation: no terminal to ask (pass --yes)" in result.output
    assert state_rows(sqlite_project.db) == []


def test_adopt_twice_is_refused_and_rollback_has_nothing_to_undo(sqlite_project):
    alembic_project(sqlite_project)
    assert sqlite_project.cli("adopt").exit_code == 0
    again = sqlite_project.cli("adopt")
    assert again.exit_code == 1
    assert "already managed by schemasync (schema_state #1, adopt)" in again.output
    rollback = sqlite_project.cli("rollback", "--yes")
    assert rollback.exit_code == 1 and "nothing to roll back" in rollback.output


def test_adopt_an_empty_database_says_apply_creates_the_tables(sqlite_project):
    models = sqlite_project.write_models("models", MODELS)
    result = sqlite_project.cli("adopt", models=models)
    assert result.exit_code == 1
    assert "nothing to adopt: none of the models' tables exist in this database; `schemasync apply` creates them" in result.output
    assert state_rows(sqlite_project.db) == []


def create_all(project, spec: str, engine: sa.Engine) -> None:
    """The models' tables created by hand (metadata.create_all), as an app's start-up might."""
    runpy.run_path(str(project.path / f"{spec.partition(':')[0]}.py"))["metadata"].create_all(engine)


def test_adopt_a_database_managed_by_hand(sqlite_project):
    models = sqlite_project.write_models("models", MODELS)
    engine = sqlite_project.db.engine()
    create_all(sqlite_project, models, engine)
    engine.dispose()
    result = sqlite_project.cli("adopt", models=models)
    assert result.exit_code == 0, result.output
    assert "alembic_version" not in result.output
    assert sqlite_project.cli("check", models=models).exit_code == 0


# --- reading an Alembic setup without schemasync.yaml ---------------------------------------------


def cli(folder: Path, *args: str, env: dict[str, str] | None = None):
    """The CLI run from `folder` with nothing but its arguments (no --database-url added)."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(app, list(args), env=env or {}, catch_exceptions=False)
    finally:
        os.chdir(cwd)


def test_the_url_and_the_models_come_from_alembic_ini_and_env_py(sqlite_project, tmp_path):
    ini = alembic_project(sqlite_project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli(elsewhere, "adopt", "--alembic", str(ini))
    assert result.exit_code == 0, result.output
    assert "Adopted" in result.output
    # Auto-detected in the ini's folder; the environment variable works from anywhere.
    assert cli(sqlite_project.path, "check").exit_code == 0
    assert cli(elsewhere, "check", env={"SCHEMASYNC_ALEMBIC": str(ini)}).exit_code == 0


def test_a_relative_sqlite_url_is_relative_to_the_ini_folder(sqlite_project, tmp_path):
    ini = alembic_project(sqlite_project)
    ini.write_text(ini.read_text().replace(sqlite_project.db.url, "sqlite:///test.db"))
    (sqlite_project.path.parent / "test.db").rename(sqlite_project.path / "test.db")
    result = cli(tmp_path, "adopt", "--alembic", str(ini))
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "test.db").exists()


def test_a_url_set_in_env_py_is_used(sqlite_project):
    spec = sqlite_project.write_models("models", MODELS)
    url = sqlite_project.db.url
    ini = write_setup(sqlite_project.path, None, spec, before=f'config.set_main_option("sqlalchemy.url", {url!r})')
    for revision, down, upgrade, downgrade in HISTORY:
        write_revision(sqlite_project.path, revision, down, upgrade, downgrade)
    alembic(ini, "upgrade", "head")
    result = cli(sqlite_project.path, "adopt")
    assert result.exit_code == 0, result.output
    assert state_rows(sqlite_project.db) == [(1, "adopt", "applied")]


def test_flags_and_the_config_file_win_over_alembic(sqlite_project):
    ini = alembic_project(sqlite_project)
    (sqlite_project.path / "schemasync.yaml").write_text(f"database_url: {sqlite_project.db.url}\nalembic: alembic.ini\n")
    other = sqlite_project.write_models("other", "import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table('extra', metadata, sa.Column('id', sa.Integer, primary_key=True))\n")
    # The models from --models, the URL from the config: env.py is not needed at all.
    (ini.parent / "migrations" / "env.py").write_text("raise RuntimeError('not run')\n")
    result = cli(sqlite_project.path, "plan", "--models", other)
    assert result.exit_code == 0, result.output
    assert "create table extra" in result.output and "Not managed (left alone): alembic_version, posts, users" in result.output


@pytest.mark.parametrize("env_py, message", [
    ("raise RuntimeError('boom')\n", "error: alembic.ini: running env.py failed: RuntimeError: boom"),
    ("import no_such_module_here\n", "error: alembic.ini: running env.py failed: ModuleNotFoundError: No module named 'no_such_module_here'"),
    ("import sys\nsys.exit(3)\n", "error: alembic.ini: running env.py failed: env.py called sys.exit(3)"),
])
def test_an_env_py_that_fails_is_one_line(sqlite_project, env_py, message):
    ini = alembic_project(sqlite_project)
    (ini.parent / "migrations" / "env.py").write_text(env_py)
    result = cli(sqlite_project.path, "adopt")
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_an_env_py_without_target_metadata_is_one_line(sqlite_project):
    write_setup(sqlite_project.path, sqlite_project.db.url, None)
    result = cli(sqlite_project.path, "adopt")
    assert result.exit_code == 1
    assert result.output.strip() == ("error: alembic.ini: env.py sets no target_metadata: set it to the models' MetaData "
                                     "(as `alembic revision --autogenerate` needs), or pass --models")


def test_alembic_setup_errors_are_one_line(tmp_path):
    assert cli(tmp_path, "adopt", "--alembic", "nope.ini").output.strip() == "error: Alembic config nope.ini does not exist"
    (tmp_path / "alembic.ini").write_text("[alembic]\n")
    result = cli(tmp_path, "adopt")
    assert result.exit_code == 1
    assert result.output.strip() == "error: alembic.ini: No 'script_location' key found in configuration."
    (tmp_path / "alembic.ini").write_text("not an ini file\n")
    result = cli(tmp_path, "adopt")
    assert result.exit_code == 1 and result.output.startswith("error: alembic.ini: not a readable Alembic config (")
    (tmp_path / "schemasync.yaml").write_text("alembic: missing.ini\n")
    assert cli(tmp_path, "check").output.strip() == "error: Alembic config missing.ini does not exist"


def test_without_alembic_installed_the_error_says_how_to_install_it(sqlite_project):
    alembic_project(sqlite_project)
    code = "import sys; sys.modules['alembic'] = None; from schemasync.cli import main; sys.argv = ['schemasync', 'adopt']; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=sqlite_project.path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: reading an Alembic setup needs Alembic: pip install alembic"


def test_schemasync_runs_without_alembic_when_no_setup_is_read(sqlite_project):
    models = sqlite_project.write_models("models", MODELS)
    code = ("import sys; sys.modules['alembic'] = None; from schemasync.cli import main; "
            f"sys.argv = ['schemasync', 'plan', '--database-url', {sqlite_project.db.url!r}, '--models', {models!r}]; main()")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=sqlite_project.path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "create table users" in result.stdout


def test_alembic_is_a_test_extra_not_a_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("alembic") for d in project["dependencies"])
    assert any(d.startswith("alembic") for d in project["optional-dependencies"]["test"])


def test_make_plan_is_the_comparison_adopt_uses():
    """Adopt adds no comparison of its own: an identical live schema gives an empty plan."""
    table = Table("users", (Column("id", "INTEGER", nullable=False),))
    live = Snapshot("sqlite", (table, Table("alembic_version", (Column("version_num", "VARCHAR(32)", nullable=False),))))
    plan = make_plan(live, Snapshot("sqlite", (table,)), offline_dialect("sqlite"))
    assert plan.steps == () and plan.unmanaged == ("alembic_version",)


def test_reading_env_py_creates_no_alembic_version_and_takes_a_list_of_metadata(sqlite_project):
    """A database managed by hand, with an Alembic setup beside it that never ran: reading it changes nothing."""
    spec = sqlite_project.write_models("models", MODELS)
    ini = write_setup(sqlite_project.path, sqlite_project.db.url, spec)
    env_py = ini.parent / "migrations" / "env.py"
    env_py.write_text(env_py.read_text().replace("target_metadata = metadata", "target_metadata = [metadata]"))
    engine = sqlite_project.db.engine()
    create_all(sqlite_project, spec, engine)
    engine.dispose()
    result = cli(sqlite_project.path, "adopt")
    assert result.exit_code == 0, result.output
    assert "Adopted: the database matches the models (2 tables)" in result.output
    assert "alembic_version" not in result.output
    engine = sqlite_project.db.engine()
    try:
        assert not sa.inspect(engine).has_table("alembic_version")
    finally:
        engine.dispose()


def test_script_location_may_live_in_pyproject_toml(sqlite_project):
    """Alembic 1.16+ reads [tool.alembic] from pyproject.toml beside alembic.ini; so does schemasync."""
    ini = alembic_project(sqlite_project)
    ini.write_text(f"[alembic]\nsqlalchemy.url = {sqlite_project.db.url}\n")
    (ini.parent / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "%(here)s/migrations"\nprepend_sys_path = ["."]\n')
    result = cli(sqlite_project.path, "adopt")
    assert result.exit_code == 0, result.output
    assert "alembic_version (at c3)" in result.output


def test_a_relative_database_url_flag_stays_relative_to_where_schemasync_runs(sqlite_project, tmp_path):
    ini = alembic_project(sqlite_project)
    result = cli(tmp_path, "adopt", "--alembic", str(ini), "--database-url", "sqlite:///test.db")
    assert result.exit_code == 0, result.output
    assert not (sqlite_project.path / "test.db").exists()  # env.py did not open a stray file beside alembic.ini
