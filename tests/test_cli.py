"""The command line through real invocations: every command's happy path on SQLite, and every bad input
answered by one `error:` line on stderr with exit 1, no traceback (unless --debug), no password."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

import schemasync
from schemasync import cli, workflow
from schemasync.cli import app
from schemasync.errors import ExitCode
from schemasync.plan import Plan
from tests.capabilities import requires

USERS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
"""

USERS_AND_POSTS = USERS + """
sa.Table("posts", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80)))
"""

BASE_MODELS = """
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
"""

PASSWORD = "s3cretpw"


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's environment must not leak into what a test means to set."""
    for name in ("SCHEMASYNC_DATABASE_URL", "SCHEMASYNC_MODELS", "SCHEMASYNC_CONFIG", "FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


def invoke(cwd: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None):
    """The typer app with exactly these arguments (no --database-url added), run from `cwd`."""
    before = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, list(args), input=input, env=env or {}, catch_exceptions=False)
    finally:
        os.chdir(before)


def assert_error(result, *phrases: str) -> str:
    """Exit 1, exactly one line on stderr starting with `error:`, no traceback; returns the line."""
    assert result.exit_code == ExitCode.ERROR, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def tables(project) -> set[str]:
    engine = project.db.engine()
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- happy paths on SQLite -----------------------------------------------------------------------


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"schemasync {schemasync.__version__}\n"


def test_init_writes_a_commented_starter_config_and_never_overwrites_it(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    result = invoke(folder, "init")
    assert result.exit_code == 0, result.output
    assert "Wrote schemasync.yaml" in result.stdout
    text = (folder / "schemasync.yaml").read_text()
    assert text.count("\n#") >= 5, "the starter file explains itself in comments"
    assert yaml.safe_load(text) == {"database_url": "sqlite:///shop.db", "models": "models:Base"}

    (folder / "schemasync.yaml").write_text("database_url: sqlite:///mine.db\n")
    refused = invoke(folder, "init")
    assert_error(refused, "schemasync.yaml already exists", "--force")
    assert (folder / "schemasync.yaml").read_text() == "database_url: sqlite:///mine.db\n"

    forced = invoke(folder, "init", "--force", "--database-url", "postgresql+psycopg://app:${DB_PASSWORD}@db/app", "--models", "app.models:Base")
    assert forced.exit_code == 0, forced.output
    assert yaml.safe_load((folder / "schemasync.yaml").read_text()) == {
        "database_url": "postgresql+psycopg://app:${DB_PASSWORD}@db/app",
        "models": "app.models:Base",
    }


def test_init_quotes_values_yaml_would_misread(tmp_path):
    result = invoke(tmp_path, "init", "--database-url", "sqlite:///a #b.db", "--models", "@models:Base")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((tmp_path / "schemasync.yaml").read_text()) == {"database_url": "sqlite:///a #b.db", "models": "@models:Base"}


def test_init_then_plan_with_the_defaults(tmp_path):
    folder = tmp_path / "notes_app"
    folder.mkdir()
    assert invoke(folder, "init").exit_code == 0
    (folder / "models.py").write_text(BASE_MODELS)
    result = invoke(folder, "plan")
    assert result.exit_code == 0, result.output
    assert "create table notes" in result.stdout
    # The default database is named after the folder; the plan says it does not exist yet, and leaves it so.
    assert f"the SQLite database {folder / 'notes_app.db'} does not exist yet" in result.stdout
    assert not (folder / "notes_app.db").exists()


def test_plan_human_output(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    result = sqlite_project.cli("plan", models=models)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Plan (sqlite): 1 change"
    assert "1. create table users (2 columns)" in lines[1]
    assert lines[2].split() == ["id", "INTEGER", "not", "null", "PK"]  # the new table's columns: type, null, key
    assert lines[3].split() == ["name", "VARCHAR(50)", "null"]
    assert lines[4] == "Plan: 1 to add, 0 to change, 0 to destroy."
    assert lines[5].startswith("Plan hash: sha256:")
    assert result.stderr == ""
    compact = sqlite_project.cli("plan", "--compact", models=models).stdout.splitlines()
    assert compact == lines[:2] + lines[4:], "--compact: one line per change, the rest the same"
    assert tables(sqlite_project) == set(), "plan changes nothing"


def test_quiet_prints_nothing_but_errors_and_no_colours_off_a_terminal(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    planned = sqlite_project.cli("plan", "-q", models=models)
    assert planned.exit_code == 0, planned.output
    applied = sqlite_project.cli("apply", "--yes", "-q", models=models)
    assert applied.exit_code == 0, applied.output
    assert applied.output == planned.output and re.fullmatch(r"sha256:[0-9a-f]{64}\n", applied.output), "-q: the plan hash alone"
    assert "users" in tables(sqlite_project)
    failed = sqlite_project.cli("plan", "-q", models="m_nowhere:metadata")
    assert_error(failed, "cannot import models module")
    assert "\x1b[" not in failed.output and "\x1b[" not in sqlite_project.cli("plan", models=models).output


def test_plan_json_has_the_contract_fields(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    human = sqlite_project.cli("plan", models=models)
    result = sqlite_project.cli("plan", "--json", models=models)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    plan = json.loads(result.stdout)
    assert plan["format"] == 1
    assert plan["dialect"] == "sqlite"
    for key in ("hash", "source_fingerprint", "target_fingerprint"):
        assert plan[key].startswith("sha256:"), key
    assert f"Plan hash: {plan['hash']}" in human.stdout
    [operation] = plan["operations"]
    assert operation["op"] == "create_table"
    assert operation["table"] == "users"
    assert operation["destructive"] is False
    assert operation["summary"] == "create table users (2 columns)"
    assert len(operation["sql"]) == 1 and operation["sql"][0].startswith("CREATE TABLE users")


def test_plan_sql_prints_the_statements_and_changes_nothing(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    result = sqlite_project.cli("plan", "--sql", models=models)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-- schemasync plan sha256:")
    assert "-- 1. create table users (2 columns)" in result.stdout
    assert "CREATE TABLE users (" in result.stdout
    assert result.stdout.rstrip().endswith(";")
    assert tables(sqlite_project) == set()


def test_plan_out_saves_the_plan_apply_runs(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    result = sqlite_project.cli("plan", "--out", "saved.json", models=models)
    assert result.exit_code == 0, result.output
    assert "Plan saved to saved.json" in result.stderr
    saved = json.loads((sqlite_project.path / "saved.json").read_text())
    assert saved == json.loads(sqlite_project.cli("plan", "--json", models=models).stdout)

    applied = sqlite_project.cli("apply", "--yes", "--plan", "saved.json")
    assert applied.exit_code == 0, applied.output
    assert "users" in tables(sqlite_project)
    history = json.loads(sqlite_project.cli("history", "--json").stdout)
    assert [row["plan_hash"] for row in history] == [saved["hash"]]


def test_apply_yes_then_an_empty_plan_says_no_changes(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    result = sqlite_project.cli("apply", "--yes", models=models)
    assert result.exit_code == 0, result.output
    assert "Applied 1 change (1 statement)" in result.stdout and "schema_state #1" in result.stdout
    assert {"users", "schema_state"} <= tables(sqlite_project)

    again = sqlite_project.cli("apply", "--yes", models=models)
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "No changes."
    assert sqlite_project.cli("plan", models=models).stdout.strip() == "No changes."
    assert sqlite_project.db.scalar("SELECT count(*) FROM schema_state") == 1


def test_apply_asks_and_yes_applies(sqlite_project, monkeypatch):
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    models = sqlite_project.write_models("m", USERS)
    result = sqlite_project.cli("apply", models=models, input="y\n")
    assert result.exit_code == 0, result.output
    assert f"Apply 1 change to {sqlite_project.db.url}? [y/N]" in result.stdout
    assert "Applied 1 change (1 statement)" in result.stdout
    assert "users" in tables(sqlite_project)


@pytest.mark.parametrize("answer", ["n\n", "\n", "whatever\n", ""])
def test_apply_asks_and_anything_but_yes_changes_nothing(sqlite_project, monkeypatch, answer):
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    models = sqlite_project.write_models("m", USERS)
    result = sqlite_project.cli("apply", models=models, input=answer)
    assert f"Apply 1 change to {sqlite_project.db.url}? [y/N]" in result.stdout
    assert_error(result, "cancelled", "nothing was changed")
    assert tables(sqlite_project) == set()


def test_apply_without_a_terminal_or_yes_refuses(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    result = sqlite_project.cli("apply", models=models, input="y\n")
    assert_error(result, "no terminal", "--yes")
    assert "create table users" in result.stdout, "the plan is still shown"
    assert tables(sqlite_project) == set()


def test_apply_sql_prints_and_changes_nothing(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    result = sqlite_project.cli("apply", "--sql", models=models)
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE users (" in result.stdout
    assert tables(sqlite_project) == set(), "not even schema_state"


def test_check_exit_codes_and_json(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    pending = sqlite_project.cli("check", models=models)
    assert pending.exit_code == ExitCode.PENDING, pending.output
    assert "Pending changes" in pending.stdout and "create table users" in pending.stdout
    report = json.loads(sqlite_project.cli("check", "--json", models=models).stdout)
    assert report["in_sync"] is False
    assert [op["op"] for op in report["pending"]["operations"]] == ["create_table"]

    assert sqlite_project.cli("apply", "--yes", models=models).exit_code == 0
    in_sync = sqlite_project.cli("check", models=models)
    assert in_sync.exit_code == ExitCode.OK, in_sync.output
    assert "In sync" in in_sync.stdout
    as_json = sqlite_project.cli("check", "--json", models=models)
    assert as_json.exit_code == ExitCode.OK
    report = json.loads(as_json.stdout)
    # The keys `check --json` always printed keep their values; format 1 added format/kind/reasons/lock.
    assert {k: report[k] for k in ("in_sync", "pending", "drift", "unmanaged", "other_objects")} == {"in_sync": True, "pending": None, "drift": None, "unmanaged": [], "other_objects": []}
    assert (report["format"], report["kind"], report["reasons"], report["lock"]) == (1, "database", [], [])


def test_check_errors_exit_1_not_2(sqlite_project):
    assert_error(sqlite_project.cli("check", models="m_missing_module:metadata"), "cannot import models module")


def test_history(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    empty = sqlite_project.cli("history")
    assert empty.exit_code == 0, empty.output
    assert "No applies recorded yet." in empty.stdout
    assert json.loads(sqlite_project.cli("history", "--json").stdout) == []

    plan_hash = json.loads(sqlite_project.cli("plan", "--json", models=models).stdout)["hash"]
    assert sqlite_project.cli("apply", "--yes", models=models).exit_code == 0
    human = sqlite_project.cli("history")
    assert human.exit_code == 0
    assert "applied" in human.stdout and plan_hash.removeprefix("sha256:")[:12] in human.stdout
    [row] = json.loads(sqlite_project.cli("history", "--json").stdout)
    assert (row["id"], row["kind"], row["status"], row["plan_hash"], row["operations"]) == (1, "apply", "applied", plan_hash, 1)


def test_inspect_is_yaml_and_lists_unmanaged_tables(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    assert sqlite_project.cli("apply", "--yes", models=models).exit_code == 0
    sqlite_project.db.execute("CREATE TABLE legacy (id INTEGER PRIMARY KEY, note TEXT)")
    result = sqlite_project.cli("inspect")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)
    assert data["dialect"] == "sqlite"
    assert {"users", "legacy"} <= set(data["tables"])
    assert [c["name"] for c in data["tables"]["users"]["columns"]] == ["id", "name"]
    assert data["unmanaged"] == ["legacy"]


def test_usage_errors_are_one_line_and_exit_1_not_2(tmp_path):
    for args, phrase in [(["plan", "--bogus"], "--bogus"), (["check", "--bogus"], "--bogus"), (["frobnicate"], "frobnicate"), (["plan", "--out"], "--out")]:
        assert_error(invoke(tmp_path, *args), phrase)


def test_usage_error_echoing_a_url_hides_its_password(tmp_path):
    line = assert_error(invoke(tmp_path, "plan", f"postgresql://app:{PASSWORD}@db/app"), "unexpected extra argument", "postgresql://app:***@db/app")
    assert PASSWORD not in line


def test_no_command_shows_help_and_fails(tmp_path):
    result = invoke(tmp_path)
    assert result.exit_code == ExitCode.ERROR
    assert "plan" in result.stdout and "apply" in result.stdout and "check" in result.stdout
    assert result.stderr.startswith("error: no command given")


# --- a real process ------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SCHEMASYNC_")} | {"NO_COLOR": "1"}


def test_python_dash_m_help_in_a_subprocess(tmp_path):
    result = subprocess.run([sys.executable, "-m", "schemasync", "--help"], capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    for name in ("plan", "apply", "check", "history", "inspect", "init"):
        assert name in result.stdout
    bare = subprocess.run([sys.executable, "-m", "schemasync"], capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=60)
    assert bare.returncode == 1 and "plan" in bare.stdout and bare.stderr.startswith("error: no command given")
    assert "SCHEMASYNC_DATABASE_URL" in subprocess.run(
        [sys.executable, "-m", "schemasync", "plan", "--help"], capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=60,
    ).stdout


def test_schemasync_plan_end_to_end_in_a_subprocess(tmp_path):
    script = shutil.which("schemasync") or str(Path(sys.executable).with_name("schemasync"))
    (tmp_path / "models.py").write_text(BASE_MODELS)
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite:///app.db\nmodels: models:Base\n")
    result = subprocess.run([script, "plan", "--json"], capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [(op["op"], op["table"]) for op in plan["operations"]] == [("create_table", "notes")]

    broken = subprocess.run([script, "plan", "--database-url", f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:1/x"], capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=120)
    assert broken.returncode == 1
    assert broken.stderr.count("\n") == 1 and broken.stderr.startswith("error: cannot connect to postgresql+psycopg://u:***@127.0.0.1:1/x")
    assert PASSWORD not in broken.stdout + broken.stderr

    usage = subprocess.run([script, "check", "--bogus"], capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=120)
    assert usage.returncode == 1 and usage.stderr.startswith("error: ")


# --- the database URL ----------------------------------------------------------------------------


def test_garbage_url(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    result = invoke(sqlite_project.path, "plan", "--database-url", f"garbage{PASSWORD}", "--models", models)
    line = assert_error(result, "not a valid SQLAlchemy URL")
    assert PASSWORD not in line


def test_url_with_a_port_that_is_not_a_number(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    result = invoke(sqlite_project.path, "plan", "--database-url", f"postgresql+psycopg://u:{PASSWORD}@h:notaport/d", "--models", models)
    assert PASSWORD not in assert_error(result, "not a valid SQLAlchemy URL")


def test_no_url_at_all(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    assert_error(invoke(sqlite_project.path, "plan", "--models", models), "no database URL", "--database-url", "SCHEMASYNC_DATABASE_URL")


def test_unknown_dialect(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    assert_error(invoke(sqlite_project.path, "plan", "--database-url", "oracle+foo://u@h/d", "--models", models), "oracle+foo", "no dialect", "postgresql+psycopg://")


def test_known_but_unsupported_dialect(sqlite_project):
    models = sqlite_project.write_models("m", USERS)
    assert_error(invoke(sqlite_project.path, "plan", "--database-url", "oracle+oracledb://u@h/d", "--models", models), "'oracle' is not supported")


def test_missing_driver_module(sqlite_project):
    if importlib.util.find_spec("pg8000"):
        pytest.skip("pg8000 is installed here")
    models = sqlite_project.write_models("m", USERS)
    result = invoke(sqlite_project.path, "plan", "--database-url", f"postgresql+pg8000://u:{PASSWORD}@127.0.0.1/d", "--models", models)
    assert_error(result, "postgresql+pg8000://u:***@127.0.0.1/d", "driver module 'pg8000' is not installed")
    assert PASSWORD not in result.output


@pytest.mark.parametrize("debug", [False, True])
def test_unreachable_server_hides_the_password(sqlite_project, debug):
    models = sqlite_project.write_models("m", USERS)
    args = ["plan", "--database-url", f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/x", "--models", models]
    result = invoke(sqlite_project.path, *args, *(["--debug"] if debug else []))
    assert result.exit_code == ExitCode.ERROR
    assert PASSWORD not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot connect to postgresql+psycopg://postgres:***@127.0.0.1:1/x: ")
    if debug:
        assert "Traceback" in result.stderr
    else:
        assert_error(result)


# Why each server refuses the URL below (its password and database are wrong).
REFUSAL = {"mysql": "Access denied", "postgresql": 'database "ss_no_such_database" does not exist'}


@requires("network_server")
@pytest.mark.parametrize("debug", [False, True])
def test_a_real_server_refusing_hides_the_password(project, debug):
    """MySQL: root has no password, so a wrong one is refused. PostgreSQL: the database does not exist."""
    models = project.write_models("m", USERS)
    url = sa.engine.make_url(project.db.url).set(password=PASSWORD, database="ss_no_such_database")
    args = ["plan", "--database-url", url.render_as_string(hide_password=False), "--models", models]
    result = invoke(project.path, *args, *(["--debug"] if debug else []))
    assert result.exit_code == ExitCode.ERROR, result.output
    assert PASSWORD not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot connect to ") and ":***@" in last
    assert REFUSAL[project.db.dialect] in last, last
    if debug:
        assert "Traceback" in result.stderr
    else:
        assert_error(result)


# --- the models module ---------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "phrases"), [
    ("import nonexistent_pkg\n", ["error importing models module", "ModuleNotFoundError", "nonexistent_pkg"]),
    ("import sqlalchemy as sa\nmetadata = sa.MetaData(\nx = = 1\n", ["SyntaxError in", ".py, line 2", "never closed"]),
    ("raise RuntimeError('first line\\nsecond line')\n", ["RuntimeError: first line"]),
    ("import sys\nsys.exit(3)\n", ["called sys.exit(3)"]),
    ("x = 1\n", ["no MetaData found in", "--models"]),
])
def test_broken_models_modules(sqlite_project, source, phrases):
    spec = sqlite_project.write_models("m", source)
    module = spec.partition(":")[0]
    line = assert_error(sqlite_project.cli("plan", models=module), module, *phrases)
    assert "second line" not in line


def test_models_module_not_found(sqlite_project):
    assert_error(sqlite_project.cli("plan", models="m_nowhere:metadata"), "cannot import models module 'm_nowhere'", str(sqlite_project.path))


def test_models_attribute_not_found(sqlite_project):
    spec = sqlite_project.write_models("m", USERS)
    module = spec.partition(":")[0]
    assert_error(sqlite_project.cli("plan", models=f"{module}:Nope"), f"'{module}' has no attribute 'Nope'")


def test_models_attribute_that_is_not_metadata(sqlite_project):
    module = sqlite_project.write_models("m", "metadata = 42\n").partition(":")[0]
    assert_error(sqlite_project.cli("plan", models=f"{module}:metadata"), "is not a MetaData")


def test_models_given_as_a_file_path(sqlite_project):
    assert_error(sqlite_project.cli("plan", models="app/models.py:Base"), "names a file", "--models app.models:Base")


def test_models_default_attribute_finds_a_declarative_base(sqlite_project):
    (sqlite_project.path / "models_base.py").write_text(BASE_MODELS)
    result = sqlite_project.cli("plan", "--json", models="models_base")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["operations"][0]["table"] == "notes"


def test_models_that_print_do_not_spoil_json(sqlite_project):
    spec = sqlite_project.write_models("m", "print('hello from the models')\n" + USERS)
    result = sqlite_project.cli("plan", "--json", models=spec)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["operations"][0]["table"] == "users"
    assert "hello from the models" in result.stderr


# --- saved plans ---------------------------------------------------------------------------------


def _saved_plan(project, models: str) -> Path:
    assert project.cli("plan", "--out", "plan.json", models=models).exit_code == 0
    return project.path / "plan.json"


def test_plan_file_that_is_not_json(sqlite_project):
    (sqlite_project.path / "plan.json").write_text("this is not json\n")
    assert_error(sqlite_project.cli("apply", "--yes", "--plan", "plan.json"), "plan.json", "not a readable schemasync plan")
    assert tables(sqlite_project) == set()


def test_plan_file_that_is_json_but_not_an_object(sqlite_project):
    (sqlite_project.path / "plan.json").write_text("[1, 2]\n")
    assert_error(sqlite_project.cli("apply", "--yes", "--plan", "plan.json"), "plan.json", "expected a JSON object")
    assert tables(sqlite_project) == set()


def test_plan_file_that_does_not_exist(sqlite_project):
    assert_error(sqlite_project.cli("apply", "--yes", "--plan", "nope.json"), "cannot read plan file nope.json")


def test_plan_file_edited_after_saving(sqlite_project):
    path = _saved_plan(sqlite_project, sqlite_project.write_models("m", USERS))
    path.write_text(path.read_text().replace("VARCHAR(50)", "VARCHAR(60)"))
    assert_error(sqlite_project.cli("apply", "--yes", "--plan", "plan.json"), "hash does not match", "edited")
    assert tables(sqlite_project) == set()


def test_plan_file_made_against_another_schema(sqlite_project):
    path = _saved_plan(sqlite_project, sqlite_project.write_models("m", USERS))
    sqlite_project.db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    assert_error(sqlite_project.cli("apply", "--yes", "--plan", str(path)), "made against another schema", "plan --out")
    assert [r[1] for r in sqlite_project.db.rows("PRAGMA table_info(users)")] == ["id"]
    assert "schema_state" not in tables(sqlite_project)


def test_plan_file_made_for_another_dialect(sqlite_project):
    path = _saved_plan(sqlite_project, sqlite_project.write_models("m", USERS))
    plan = Plan.from_json(path.read_text(), str(path))
    path.write_text(dataclasses.replace(plan, dialect="postgresql").to_json())
    assert_error(sqlite_project.cli("apply", "--yes", "--plan", "plan.json"), "made for postgresql", "the database is sqlite")
    assert tables(sqlite_project) == set()


# --- destructive plans ---------------------------------------------------------------------------


def test_destructive_plan_needs_allow_destructive(sqlite_project):
    before = sqlite_project.write_models("m", USERS_AND_POSTS)
    assert sqlite_project.cli("apply", "--yes", models=before).exit_code == 0
    sqlite_project.db.execute("INSERT INTO posts (title) VALUES ('keep me')")
    after = sqlite_project.write_models("m", USERS)

    planned = sqlite_project.cli("plan", models=after)
    assert "(destructive)" in planned.stdout and "1 destructive" in planned.stdout

    refused = sqlite_project.cli("apply", "--yes", models=after)
    assert_error(refused, "destructive", "drop table posts", "--allow-destructive")
    assert sqlite_project.db.rows("SELECT title FROM posts") == [("keep me",)]

    allowed = sqlite_project.cli("apply", "--yes", "--allow-destructive", models=after)
    assert allowed.exit_code == 0, allowed.output
    assert "posts" not in tables(sqlite_project)
    assert sqlite_project.cli("check", models=after).exit_code == ExitCode.OK


# --- --debug and the last line of defence --------------------------------------------------------


def test_debug_shows_the_traceback_then_the_error_line(sqlite_project):
    result = sqlite_project.cli("plan", "--debug", models="m_nowhere:metadata")
    assert result.exit_code == ExitCode.ERROR
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot import models module 'm_nowhere'")


def test_unexpected_errors_are_one_line_with_passwords_hidden(sqlite_project, monkeypatch):
    def explode(settings):
        raise RuntimeError(f"could not talk to postgresql://app:{PASSWORD}@db.internal/app\nsecond line")

    monkeypatch.setattr(workflow, "plan", explode)  # cli imports workflow when a command runs
    models = sqlite_project.write_models("m", USERS)
    line = assert_error(sqlite_project.cli("plan", models=models), "unexpected RuntimeError", "postgresql://app:***@db.internal/app", "--debug")
    assert "second line" not in line

    debug = sqlite_project.cli("plan", "--debug", models=models)
    assert debug.exit_code == ExitCode.ERROR
    assert "Traceback" in debug.stderr and "explode" in debug.stderr
    assert PASSWORD not in debug.output
