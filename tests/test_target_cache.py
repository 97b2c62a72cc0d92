"""The built target is cached: an unchanged model set costs no scratch build, and a hit plans the same."""

from __future__ import annotations

import json

import pytest

from schemasync import devdb
from schemasync.target_cache import default_cache_dir

MODELS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(8), unique=True))
sa.Table("child", metadata, sa.Column("id", sa.BigInteger, primary_key=True),
         sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id", ondelete="CASCADE")),
         sa.Column("n", sa.Integer, server_default="0"), sa.Index("ix_child_n", "n"))
"""


@pytest.fixture
def builds(monkeypatch):
    """Count real scratch builds."""
    calls = []
    real = devdb.build
    monkeypatch.setattr(devdb, "build", lambda *args: calls.append(1) or real(*args))
    return calls


def test_second_plan_is_served_from_the_cache_and_plans_the_same(project, builds, tmp_path):
    env = {"SCHEMASYNC_CACHE_DIR": str(tmp_path / "cache")}
    models = project.write_models("m", MODELS)
    first = project.cli("plan", "--json", models=models, env=env)
    assert len(builds) == 1
    second = project.cli("plan", "--json", models=models, env=env)
    assert len(builds) == 1, "the unchanged models were built again"
    assert json.loads(first.output) == json.loads(second.output)

    assert project.cli("apply", "--yes", models=models, env=env).exit_code == 0
    assert project.cli("check", models=models, env=env).exit_code == 0
    assert len(builds) == 1

    changed = project.write_models("m2", MODELS.replace("sa.String(8)", "sa.String(12)"))
    plan = json.loads(project.cli("plan", "--json", models=changed, env=env).output)
    assert len(builds) == 2 and [op["op"] for op in plan["operations"]] in (["alter_column"], ["rebuild_table"])


def test_a_broken_cache_entry_is_rebuilt_and_the_cache_can_be_off(project, builds, tmp_path):
    cache = tmp_path / "cache"
    models = project.write_models("m", MODELS)
    project.cli("plan", models=models, env={"SCHEMASYNC_CACHE_DIR": str(cache)})
    for entry in cache.glob("target-*.json"):
        entry.write_text("{ not json")
    assert project.cli("plan", models=models, env={"SCHEMASYNC_CACHE_DIR": str(cache)}).exit_code == 0
    assert len(builds) == 2
    for _ in range(2):
        assert project.cli("plan", models=models, env={"SCHEMASYNC_CACHE_DIR": "off"}).exit_code == 0
    assert len(builds) == 4


def test_default_cache_dir():
    assert default_cache_dir({"SCHEMASYNC_CACHE_DIR": "off"}) is None
    assert str(default_cache_dir({"XDG_CACHE_HOME": "/x"})) == "/x/schemasync"
