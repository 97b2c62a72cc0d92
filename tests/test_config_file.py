"""The config file (schemasync/config_file.py): schemasync.yaml or pyproject.toml's [tool.schemasync],
found in the current folder or a parent up to the repository root, checked against the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from schemasync import config_file
from schemasync.config import STARTER_CONFIG, load_settings
from tests.test_config import assert_error, invoke, planned_tables, table_models

ROOT = Path(__file__).resolve().parent.parent

PYPROJECT = """\
[project]
name = "app"

[tool.schemasync]
database_url = "sqlite:///app.db"
models = "m_toml:metadata"
exclude_tables = ["legacy_*"]
"""


def _repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def test_pyproject_tool_table_is_the_config_from_a_subfolder(tmp_path):
    root = _repository(tmp_path)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "m_toml.py").write_text(table_models("gadgets"))
    deep = root / "src" / "pkg"
    deep.mkdir(parents=True)
    assert planned_tables(invoke(deep, "plan", "--json")) == ["gadgets"]
    settings = load_settings(environ={}, cwd=deep)
    assert settings.config_path == root / "pyproject.toml" and settings.exclude_tables == ("legacy_*",)
    assert settings.database_url == f"sqlite:///{root / 'app.db'}"  # relative to the file, like the models


def test_schemasync_yaml_wins_in_its_folder_and_the_nearest_folder_wins(tmp_path):
    root = _repository(tmp_path)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "schemasync.yaml").write_text("database_url: sqlite:///from_yaml.db\n")
    inner = root / "inner"
    inner.mkdir()
    assert load_settings(environ={}, cwd=inner).config_path == root / "schemasync.yaml"
    (inner / "pyproject.toml").write_text("[tool.schemasync]\ndatabase_url = 'sqlite:///inner.db'\n")
    assert load_settings(environ={}, cwd=inner).config_path == inner / "pyproject.toml"


def test_a_pyproject_without_the_tool_table_is_passed_over(tmp_path):
    root = _repository(tmp_path)
    (root / "schemasync.yaml").write_text("database_url: sqlite:///outer.db\n")
    inner = root / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.ruff]\nline-length = 100\n")
    assert load_settings(environ={}, cwd=inner).config_path == root / "schemasync.yaml"


def test_the_search_stops_at_the_repository_root_and_the_error_says_where_it_looked(tmp_path):
    (tmp_path / "schemasync.yaml").write_text("database_url: sqlite:///outside.db\nmodels: m:metadata\n")  # above the repository: never read
    root = _repository(tmp_path)
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    assert load_settings(environ={}, cwd=deep).config_path is None
    line = assert_error(invoke(deep, "history"), "no database URL")
    assert f"in {deep} and its parents up to {root})" in line
    assert "schemasync.yaml or pyproject.toml with [tool.schemasync]" in line
    assert_error(invoke(deep, "plan"), "no models", f"up to {root}")


@pytest.mark.parametrize(("name", "text", "phrases"), [
    ("schemasync.yaml", "databse_url: sqlite:///x.db\n", ("schemasync.yaml: unknown key 'databse_url' (did you mean 'database_url'?)",)),
    ("pyproject.toml", "[tool.schemasync]\nexclude_table = ['a']\n", ("pyproject.toml [tool.schemasync]: unknown key 'exclude_table' (did you mean 'exclude_tables'?)",)),
    ("pyproject.toml", "[tool.schemasync]\ndrop_unmanaged = 'yes'\n", ("pyproject.toml [tool.schemasync]: config key drop_unmanaged must be true or false",)),
    ("pyproject.toml", "[tool.schemasync]\nonline_attempts = 1.5\n", ("pyproject.toml [tool.schemasync]: config key online_attempts must be a whole number (1 or more)",)),
    ("pyproject.toml", "[tool.schemasync]\ntargets = 'prod'\n", ("config key targets must be a list or a mapping",)),
    ("pyproject.toml", "[tool.schemasync\nmodels = 'm'\n", ("pyproject.toml: invalid TOML", "line 1")),
    ("pyproject.toml", "[tool]\nschemasync = 3\n", ("pyproject.toml: tool.schemasync must be a table of settings",)),
    ("pyproject.toml", "[[tool.schemasync.targets]]\nname = 'a'\ndatabse_url = 'sqlite:///a.db'\n", ("targets: unknown key 'databse_url' (did you mean 'database_url'?)",)),
])
def test_bad_config_is_one_line_naming_the_file_and_the_key(tmp_path, name, text, phrases):
    folder = _repository(tmp_path)
    (folder / name).write_text(text)
    assert_error(invoke(folder, "plan"), *phrases)


def test_an_unknown_key_far_from_any_known_one_gets_no_guess(tmp_path):
    folder = _repository(tmp_path)
    (folder / "schemasync.yaml").write_text("colour: blue\n")
    line = assert_error(invoke(folder, "plan"), "unknown key 'colour' (known: ")
    assert "did you mean" not in line


def test_a_pyproject_named_by_config_is_read_as_toml(tmp_path):
    folder = _repository(tmp_path)
    (folder / "tool.toml").write_text(PYPROJECT)
    assert load_settings(config="tool.toml", environ={}, cwd=folder).models == "m_toml:metadata"
    (folder / "other.toml").write_text("[project]\nname = 'x'\n")
    assert_error(invoke(folder, "plan", "--config", "other.toml"), "other.toml: no [tool.schemasync] table")


# --- the JSON Schema ---------------------------------------------------------------------------------


def test_the_published_schema_is_the_one_schemasync_checks_with():
    published = json.loads((ROOT / "docs" / "config.schema.json").read_text())
    assert published == config_file.schema()
    jsonschema.Draft202012Validator.check_schema(published)


EVERY_KEY = {
    "database_url": "sqlite:///app.db", "models": "models:Base", "models_package": "app.models", "include_schemas": ["reporting"], "exclude_schemas": ["audit"],
    "exclude_tables": ["legacy_*"], "drop_unmanaged": False, "lock_timeout": 10, "keep_backups": 5, "block_hazards": ["table-rewrite"],
    "alembic": "alembic.ini", "online": True, "online_lock_timeout": "500ms", "online_attempts": 3, "fill_batch_size": 500, "fill_pause": "50ms", "dev_url": "postgresql+psycopg://ci@localhost/scratch",
    "targets": {"database_url": "postgresql+psycopg://db/{name}", "names": ["a", "b"]},
}


def test_the_schema_accepts_the_starter_config_and_every_key():
    jsonschema.validate(yaml.safe_load(STARTER_CONFIG.format(database_url="sqlite:///app.db", models="models:Base")), config_file.schema())
    assert set(EVERY_KEY) == set(config_file.known_keys())
    jsonschema.validate(EVERY_KEY, config_file.schema())
    jsonschema.validate({**EVERY_KEY, "targets": [{"name": "a", "database_url": "sqlite:///a.db", "schema": "s", "models": ["a:metadata"]}]}, config_file.schema())
    config_file.validate(EVERY_KEY, "test")


@pytest.mark.parametrize("data", [
    {"database_url": 5}, {"exclude_tables": "legacy_*"}, {"drop_unmanaged": "please"}, {"lock_timeout": -1},
    {"online_attempts": 0}, {"keep_backups": -1}, {"block_hazards": ["slow"]}, {"databse_url": "x"},
    {"targets": [{"name": "a"}]}, {"targets": {"database_url": "x", "names": ["a"], "other": 1}}, {"online_lock_timeout": "soon"},
])
def test_what_schemasync_refuses_the_schema_refuses_too(tmp_path, data):
    """Editors that complete from the schema flag what a run would refuse (config.py checks ranges after expansion)."""
    assert list(jsonschema.Draft202012Validator(config_file.schema()).iter_errors(data))
    folder = _repository(tmp_path)
    (folder / "schemasync.yaml").write_text(yaml.safe_dump({"models": "m:metadata", **data}))
    (folder / "m.py").write_text(table_models("t"))
    assert_error(invoke(folder, "plan", "--database-url", "sqlite:///x.db"))
