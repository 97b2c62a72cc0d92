"""The built target is cached: an unchanged model set costs no scratch build, and a hit plans the same."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from schemasync import devdb
from schemasync.target_cache import default_cache_dir
from tests.conftest import project_on

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
    monkeypatch.setattr(devdb, "build", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
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
    for entry in cache.glob("targets-*.jsonl"):
        entry.write_text("{ not json")
    assert project.cli("plan", models=models, env={"SCHEMASYNC_CACHE_DIR": str(cache)}).exit_code == 0
    assert len(builds) == 2
    for _ in range(2):
        assert project.cli("plan", models=models, env={"SCHEMASYNC_CACHE_DIR": "off"}).exit_code == 0
    assert len(builds) == 4


def test_default_cache_dir():
    assert default_cache_dir({"SCHEMASYNC_CACHE_DIR": "off"}) is None
    assert str(default_cache_dir({"XDG_CACHE_HOME": "/x"})) == "/x/schemasync"


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_models_that_spell_out_the_default_schema_are_served_from_the_cache(dialect, builds, tmp_path):
    """The build reads `public.parent` back as `parent`: each stored table still carries its model's
    key under that name, so the second plan is a hit and every table of the entry is checked by key."""
    for project in project_on(dialect, tmp_path):
        default = "public" if dialect == "postgresql" else sa.engine.make_url(project.db.url).database
        spelled = MODELS.replace('unique=True))', f'unique=True), schema="{default}")').replace(
            'sa.Index("ix_child_n", "n"))', f'sa.Index("ix_child_n", "n"), schema="{default}")').replace('"parent.id"', f'"{default}.parent.id"')
        cache = tmp_path / "cache"
        models = project.write_models("spelled", spelled)
        first = project.cli("plan", "--json", models=models, env={"SCHEMASYNC_CACHE_DIR": str(cache)})
        second = project.cli("plan", "--json", models=models, env={"SCHEMASYNC_CACHE_DIR": str(cache)})
        assert first.exit_code == 0, first.output
        assert len(builds) == 1, "the unchanged models were built again"
        assert json.loads(first.output) == json.loads(second.output)
        [entry] = cache.glob("targets-*.jsonl")
        stored = [[json.loads(part) for part in line.split("\t")] for line in entry.read_text().splitlines()[1:]]
        assert sorted(table["name"] for _, _, table in stored) == ["child", "parent"]
        assert all(table["schema"] is None and key and key.startswith(("described:", "refs:")) for _, key, table in stored)


def test_switching_between_two_model_sets_builds_neither_again(project, builds, tmp_path):
    """A branch switch (or the bench's two model sets): each table keeps two versions in the entry."""
    env = {"SCHEMASYNC_CACHE_DIR": str(tmp_path / "cache")}
    first = project.write_models("m", MODELS)
    second = project.write_models("m2", MODELS.replace("sa.String(8)", "sa.String(12)"))
    plans = {}
    for models in (first, second, first, second, first):
        output = project.cli("plan", "--json", models=models, env=env).output
        assert plans.setdefault(models, output) == output
    assert len(builds) == 2, "a model set the entry had was built again"
    third = project.write_models("m3", MODELS.replace("sa.String(8)", "sa.String(16)"))
    project.cli("plan", models=third, env=env)
    project.cli("plan", models=second, env=env)  # the newest two sets are kept: the third and the second
    project.cli("plan", models=first, env=env)  # the oldest was dropped: built again
    assert len(builds) == 4
