"""A plan is a value with an identity: the same models against the same schema give the same hash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES


def _plan_json(folder: Path, url: str, seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": seed, "SCHEMASYNC_DATABASE_URL": url, "SCHEMASYNC_MODELS": "models:Base"}
    result = subprocess.run(
        [sys.executable, "-m", "schemasync", "plan", "--json"], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_hash_is_identical_across_processes_with_different_hash_seeds(tmp_path, db):
    folder = tmp_path / "blog"
    shutil.copytree(FIXTURES / "blog", folder)
    first = _plan_json(folder, db.url, "1")
    second = _plan_json(folder, db.url, "4242")
    assert first["hash"] == second["hash"]
    assert first["operations"] == second["operations"]
    assert first["hash"].startswith("sha256:") and len(first["operations"]) == 9


def test_hash_changes_when_the_models_change(project):
    v1 = project.copy_fixture("blog/models.py")
    v2 = project.copy_fixture("blog/models_v2.py")
    first = json.loads(project.cli("plan", "--json", models=v1).output)
    second = json.loads(project.cli("plan", "--json", models=v2).output)
    assert first["hash"] != second["hash"]
    assert first["source_fingerprint"] == second["source_fingerprint"]  # same (empty) database
    assert first["target_fingerprint"] != second["target_fingerprint"]


def test_plan_out_then_apply_plan(project, tmp_path):
    v1 = project.copy_fixture("blog/models.py")
    out = tmp_path / "plan.json"
    assert project.cli("plan", "--out", str(out), models=v1).exit_code == 0
    saved = json.loads(out.read_text())
    assert saved["format"] == 1 and saved["dialect"] == project.db.dialect
    applied = project.cli("apply", "--yes", "--plan", str(out))
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=v1).exit_code == 0
    history = json.loads(project.cli("history", "--json").output)
    assert history[0]["plan_hash"] == saved["hash"]


def test_apply_plan_refuses_a_plan_made_against_another_schema(project, tmp_path):
    v1 = project.copy_fixture("blog/models.py")
    out = tmp_path / "plan.json"
    assert project.cli("plan", "--out", str(out), models=v1).exit_code == 0
    project.db.execute("CREATE TABLE intruder (id INTEGER PRIMARY KEY)")
    project.db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")  # a table the plan creates
    refused = project.cli("apply", "--yes", "--plan", str(out))
    assert refused.exit_code == 1
    assert "made against another schema" in refused.output


@pytest.mark.parametrize("seed", ["0"])
def test_operations_in_json_carry_the_exact_sql(project, seed):
    v1 = project.copy_fixture("blog/models.py")
    plan = json.loads(project.cli("plan", "--json", models=v1).output)
    sql = project.cli("plan", "--sql", models=v1).output
    for operation in plan["operations"]:
        assert set(operation) >= {"op", "table", "destructive", "summary", "sql"}
        for statement in operation["sql"]:
            assert statement in sql
