"""Where the target and the models come from: flag > env > schemasync.yaml, ${VAR} expansion, the
models module found next to the config file, and a clear one-line error for every bad config."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from schemasync.cli import app
from schemasync.config import load_settings
from schemasync.errors import ConfigError, ExitCode

ENV_NAMES = ("SCHEMASYNC_DATABASE_URL", "SCHEMASYNC_MODELS", "SCHEMASYNC_CONFIG")


def table_models(table: str) -> str:
    return f"""
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("{table}", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def invoke(cwd: Path, *args: str, env: dict[str, str] | None = None):
    before = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, list(args), env=env or {}, catch_exceptions=False)
    finally:
        os.chdir(before)


def assert_error(result, *phrases: str) -> str:
    assert result.exit_code == ExitCode.ERROR, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def sqlite_with_table(path: Path, table: str) -> str:
    """A SQLite file holding one table named after where its URL came from."""
    connection = sqlite3.connect(path)
    connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def inspected_tables(result) -> set[str]:
    assert result.exit_code == 0, result.output
    return set(yaml.safe_load(result.stdout)["tables"])


def planned_tables(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [op["table"] for op in json.loads(result.stdout)["operations"]]


# --- YAML and keys -------------------------------------------------------------------------------


def test_broken_yaml_names_the_line(tmp_path):
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite:///x.db\nmodels: models:Base\nexclude_tables: [a, b\n")
    assert_error(invoke(tmp_path, "plan"), "schemasync.yaml line 4", "expected ',' or ']'")


def test_bad_indentation_names_the_line(tmp_path):
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite:///x.db\n  models: models:Base\n")
    assert_error(invoke(tmp_path, "plan"), "schemasync.yaml line 2", "mapping values are not allowed")


def test_unknown_key_is_refused_with_the_known_ones(tmp_path):
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite:///x.db\ndatabse_url: oops\n")
    assert_error(invoke(tmp_path, "plan"), "unknown key 'databse_url'", "database_url", "exclude_tables")


def test_config_that_is_not_a_mapping(tmp_path):
    (tmp_path / "schemasync.yaml").write_text("- database_url\n- models\n")
    assert_error(invoke(tmp_path, "plan"), "expected a mapping")


def test_config_that_is_not_utf8(tmp_path):
    (tmp_path / "schemasync.yaml").write_bytes(b"\xff\xfe\x00garbage")
    assert_error(invoke(tmp_path, "plan"), "schemasync.yaml", "not a UTF-8 text file")


@pytest.mark.parametrize(("text", "phrase"), [
    ("models: {a: b}\n", "models must be a string or a list of strings"),
    ("database_url: 5\n", "database_url must be a string"),
    ("lock_timeout: soon\n", "lock_timeout must be a number"),
    ("lock_timeout: -1\n", "lock_timeout must be positive"),
    ("exclude_tables: legacy_*\n", "exclude_tables must be a list of strings"),
    ("drop_unmanaged: please\n", "drop_unmanaged must be true or false"),
])
def test_values_of_the_wrong_type(tmp_path, text, phrase):
    (tmp_path / "schemasync.yaml").write_text(text)
    assert_error(invoke(tmp_path, "plan"), phrase)


def test_config_file_that_does_not_exist_or_is_a_folder(tmp_path):
    assert_error(invoke(tmp_path, "plan", "--config", "nope.yaml"), "config file nope.yaml does not exist")
    (tmp_path / "conf").mkdir()
    assert_error(invoke(tmp_path, "plan", "--config", "conf"), "config file conf is not a file")
    assert_error(invoke(tmp_path, "plan", env={"SCHEMASYNC_CONFIG": "missing.yaml"}), "config file missing.yaml does not exist")


def test_nothing_configured_says_where_to_configure(tmp_path):
    assert_error(invoke(tmp_path, "plan"), "no models", "--models", "SCHEMASYNC_MODELS", "schemasync.yaml")
    assert_error(invoke(tmp_path, "history"), "no database URL", "schemasync init")


# --- ${VAR} expansion ----------------------------------------------------------------------------


def test_missing_environment_variable(tmp_path):
    (tmp_path / "schemasync.yaml").write_text("database_url: postgresql+psycopg://app:${SS_TEST_UNSET_PASSWORD}@db/app\nmodels: models:Base\n")
    assert_error(invoke(tmp_path, "history"), "SS_TEST_UNSET_PASSWORD is not set", "database_url", "${SS_TEST_UNSET_PASSWORD:-default}")


def test_default_is_used_when_the_variable_is_unset_and_not_when_set(tmp_path):
    (tmp_path / "m_env_default.py").write_text(table_models("items"))
    (tmp_path / "schemasync.yaml").write_text("database_url: ${SS_TEST_DB:-sqlite:///fallback.db}\nmodels: ${SS_TEST_MODELS:-m_env_default:metadata}\n")
    planned = invoke(tmp_path, "plan", "--json")
    assert planned_tables(planned) == ["items"]
    # The default's file, named by the plan (which does not create it).
    assert any(str(tmp_path / "fallback.db") in hint for hint in json.loads(planned.stdout)["hints"])

    chosen = sqlite_with_table(tmp_path / "chosen.db", "chosen_one")
    assert inspected_tables(invoke(tmp_path, "inspect", env={"SS_TEST_DB": chosen})) == {"chosen_one"}


def test_variables_expand_inside_lists(tmp_path):
    url = sqlite_with_table(tmp_path / "db.sqlite", "legacy_orders")
    (tmp_path / "schemasync.yaml").write_text(f"database_url: {url}\nexclude_tables:\n  - ${{SS_TEST_PREFIX:-legacy}}_*\n")
    assert inspected_tables(invoke(tmp_path, "inspect")) == set()
    assert inspected_tables(invoke(tmp_path, "inspect", env={"SS_TEST_PREFIX": "other"})) == {"legacy_orders"}


def test_an_unset_variable_in_an_overridden_value_is_no_error(tmp_path):
    """CI sets SCHEMASYNC_DATABASE_URL; the file's ${DB_PASSWORD} is for people and need not be set."""
    url = sqlite_with_table(tmp_path / "ci.db", "from_ci")
    (tmp_path / "schemasync.yaml").write_text("database_url: postgresql+psycopg://app:${SS_TEST_UNSET_PASSWORD}@db/app\n")
    assert inspected_tables(invoke(tmp_path, "inspect", env={"SCHEMASYNC_DATABASE_URL": url})) == {"from_ci"}
    assert inspected_tables(invoke(tmp_path, "inspect", "--database-url", url)) == {"from_ci"}


# --- precedence: flag > env > config file ------------------------------------------------------


def test_database_url_precedence(tmp_path):
    flag = sqlite_with_table(tmp_path / "flag.db", "from_flag")
    env = sqlite_with_table(tmp_path / "env.db", "from_env")
    config = sqlite_with_table(tmp_path / "config.db", "from_config")
    (tmp_path / "schemasync.yaml").write_text(f"database_url: {config}\n")
    assert inspected_tables(invoke(tmp_path, "inspect")) == {"from_config"}
    assert inspected_tables(invoke(tmp_path, "inspect", env={"SCHEMASYNC_DATABASE_URL": env})) == {"from_env"}
    assert inspected_tables(invoke(tmp_path, "inspect", "--database-url", flag, env={"SCHEMASYNC_DATABASE_URL": env})) == {"from_flag"}


def test_models_precedence(tmp_path):
    for name in ("flag", "env", "config"):
        (tmp_path / f"m_prec_{name}.py").write_text(table_models(f"from_{name}"))
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite:///app.db\nmodels: m_prec_config:metadata\n")
    assert planned_tables(invoke(tmp_path, "plan", "--json")) == ["from_config"]
    env = {"SCHEMASYNC_MODELS": "m_prec_env:metadata"}
    assert planned_tables(invoke(tmp_path, "plan", "--json", env=env)) == ["from_env"]
    assert planned_tables(invoke(tmp_path, "plan", "--json", "--models", "m_prec_flag:metadata", env=env)) == ["from_flag"]


def test_config_file_precedence(tmp_path):
    for name in ("flag", "env", "default"):
        url = sqlite_with_table(tmp_path / f"{name}.db", f"from_{name}")
        (tmp_path / f"{name}.yaml").write_text(f"database_url: {url}\n")
    (tmp_path / "default.yaml").rename(tmp_path / "schemasync.yaml")
    assert inspected_tables(invoke(tmp_path, "inspect")) == {"from_default"}
    env = {"SCHEMASYNC_CONFIG": "env.yaml"}
    assert inspected_tables(invoke(tmp_path, "inspect", env=env)) == {"from_env"}
    assert inspected_tables(invoke(tmp_path, "inspect", "--config", "flag.yaml", env=env)) == {"from_flag"}


def test_load_settings_merges_the_three_sources(tmp_path):
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite:///file.db\nmodels: file:Base\nexclude_tables: [legacy_*]\nlock_timeout: 3\n")
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'file.db'}"
    assert (settings.models, settings.exclude_tables, settings.lock_timeout) == ("file:Base", ("legacy_*",), 3.0)
    assert settings.base_dir == tmp_path.resolve() and settings.config_path == (tmp_path / "schemasync.yaml").resolve()
    env = {"SCHEMASYNC_DATABASE_URL": "sqlite:///env.db", "SCHEMASYNC_MODELS": "env:Base"}
    assert (load_settings(environ=env, cwd=tmp_path).database_url, load_settings(environ=env, cwd=tmp_path).models) == ("sqlite:///env.db", "env:Base")
    flagged = load_settings("sqlite:///flag.db", "flag:Base", environ=env, cwd=tmp_path)
    assert (flagged.database_url, flagged.models) == ("sqlite:///flag.db", "flag:Base")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config="nope.yaml", environ={}, cwd=tmp_path)


# --- the config file's folder --------------------------------------------------------------------


def test_models_and_sqlite_file_are_found_next_to_the_config_from_another_folder(tmp_path):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "m_next_to_config.py").write_text(table_models("widgets"))
    (app_dir / "schemasync.yaml").write_text("database_url: sqlite:///app.db\nmodels: m_next_to_config:metadata\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    assert planned_tables(invoke(elsewhere, "plan", "--json", "--config", "../app/schemasync.yaml")) == ["widgets"]
    applied = invoke(elsewhere, "apply", "--yes", env={"SCHEMASYNC_CONFIG": str(app_dir / "schemasync.yaml")})
    assert applied.exit_code == 0, applied.output
    assert (app_dir / "app.db").exists() and not (elsewhere / "app.db").exists()
    assert invoke(app_dir, "check").exit_code == ExitCode.OK


def test_models_module_not_on_the_path_names_the_folder_it_looked_in(tmp_path):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "schemasync.yaml").write_text("database_url: sqlite:///app.db\nmodels: m_absent_module:Base\n")
    assert_error(invoke(tmp_path, "plan", "--config", "app/schemasync.yaml"), "cannot import models module 'm_absent_module'", str(app_dir.resolve()))


def test_a_url_from_the_flag_or_env_stays_relative_to_the_current_folder(tmp_path):
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite:///file.db\n")
    assert load_settings("sqlite:///flag.db", environ={}, cwd=tmp_path).database_url == "sqlite:///flag.db"
    assert load_settings(environ={"SCHEMASYNC_DATABASE_URL": "sqlite:///env.db"}, cwd=tmp_path).database_url == "sqlite:///env.db"
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite://\n")
    assert load_settings(environ={}, cwd=tmp_path).database_url == "sqlite://"


def test_one_function_makes_a_relative_sqlite_path_absolute(tmp_path):
    """The config file and Alembic's env.py both resolve through dialects.absolute_url (SQLite's quirk)."""
    import sqlalchemy as sa

    from schemasync.dialects import absolute_url

    make = sa.engine.make_url
    assert absolute_url(make("sqlite:///app.db"), tmp_path).database == str(tmp_path / "app.db")
    assert absolute_url(make("sqlite+pysqlite:///sub/app.db"), tmp_path).database == str(tmp_path / "sub" / "app.db")
    for kept in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:app.db?mode=ro&uri=true", f"sqlite:///{tmp_path}/app.db", "postgresql://u@h/app.db", "oracle://u@h/x"):
        assert absolute_url(make(kept), tmp_path) == make(kept)
