"""The Python API (schemasync/api.py): docs/api.md's examples run as one script on every dialect;
the CLI's refusals hold; `import schemasync` stays light; in-memory and not-yet-existing SQLite."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import schemasync
from schemasync.errors import ConfigError, RefusedError
from tests.test_architecture import _loaded_after
from tests.test_docs import env

ROOT = Path(__file__).resolve().parent.parent
API_DOC = ROOT / "docs" / "api.md"


def _models(*tables: str) -> sa.MetaData:
    metadata = sa.MetaData()
    for name in tables:
        sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.String(20)))
    return metadata


def test_the_api_docs_examples_run(db, tmp_path):
    blocks = re.findall(r"^```python\n(.*?)^```", API_DOC.read_text(), flags=re.S | re.M)
    assert len(blocks) >= 4
    script = "\n".join(blocks).replace('"sqlite:///app.db"', repr(db.url))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={**env(), "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "create table users" in result.stdout and "--allow-destructive" in result.stdout
    differ = result.stdout[result.stdout.index("the database and the models differ"):]
    assert "pending:" in differ and "email" in differ
    assert db.scalar("SELECT count(*) FROM schema_state") == 2


def test_the_api_functions_are_the_package_names_even_after_the_submodules_load():
    import schemasync.apply
    import schemasync.plan

    assert callable(schemasync.plan) and callable(schemasync.apply) and callable(schemasync.check)
    assert schemasync.plan.__module__ == "schemasync.api"
    assert sys.modules["schemasync.plan"].Plan is schemasync.Plan


def test_importing_schemasync_loads_no_api():
    assert _loaded_after("import schemasync") == {"schemasync", "schemasync.errors", "schemasync.view"}
    assert "schemasync.workflow" in _loaded_after("import schemasync; schemasync.plan")


def test_apply_refuses_a_mass_drop_even_with_allow_destructive(sqlite_db):
    schemasync.apply(sqlite_db.url, _models("a", "b", "c"))
    with pytest.raises(RefusedError, match="allow-mass-drop"):
        schemasync.apply(sqlite_db.url, _models("a"), allow_destructive=True)
    assert not schemasync.check(sqlite_db.url, _models("a")).in_sync
    report = schemasync.apply(sqlite_db.url, _models("a"), allow_destructive=True, allow_mass_drop=True)
    assert report.result is not None and schemasync.check(sqlite_db.url, _models("a")).in_sync


def test_block_hazards_refuse_unless_allowed(sqlite_db):
    schemasync.apply(sqlite_db.url, _models("a"))
    wider = _models("a")
    wider.tables["a"].append_constraint(sa.UniqueConstraint("note", name="uq_note"))  # SQLite: a table rebuild
    with pytest.raises(RefusedError, match="block_hazards"):
        schemasync.apply(sqlite_db.url, wider, block_hazards=["table-rewrite"])
    assert schemasync.apply(sqlite_db.url, wider, block_hazards=["table-rewrite"], allow_hazards=["table-rewrite"]).result is not None
    with pytest.raises(ConfigError, match="unknown hazard 'nope'"):
        schemasync.apply(sqlite_db.url, wider, block_hazards=["nope"])


def test_an_engine_is_taken_by_its_url_and_an_in_memory_one_refused(sqlite_db):
    engine = sa.create_engine(sqlite_db.url)
    assert [s.op for s in schemasync.plan(engine, _models("a")).steps] == ["create_table"]
    with pytest.raises(ConfigError, match="in-memory SQLite"):
        schemasync.plan(sa.create_engine("sqlite://"), _models("a"))


def test_in_memory_sqlite_works_for_the_api():
    assert [s.op for s in schemasync.plan("sqlite:///:memory:", _models("a")).steps] == ["create_table"]
    report = schemasync.apply("sqlite:///:memory:", _models("a", "b"))
    assert report.result is not None and len(report.plan.steps) == 2


@pytest.mark.parametrize("command", ["plan", "apply --yes", "check", "inspect"])
def test_in_memory_sqlite_works_for_the_cli_without_a_traceback(tmp_path, command):
    (tmp_path / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table('t', metadata, sa.Column('id', sa.Integer, primary_key=True))\n")
    result = _cli(tmp_path, *command.split(), "--database-url", "sqlite:///:memory:", "--models", "models:metadata")
    assert result.returncode == (2 if command == "check" else 0), result.stderr
    assert "Traceback" not in result.stderr and "thread" not in result.stderr


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "schemasync", *args], cwd=tmp_path, env={**env(), "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)


def test_plan_on_a_sqlite_file_that_does_not_exist_says_so_and_does_not_create_it(tmp_path):
    (tmp_path / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table('t', metadata, sa.Column('id', sa.Integer, primary_key=True))\n")
    missing = tmp_path / "later.db"
    for command, code in (("plan", 0), ("check", 2)):
        result = _cli(tmp_path, command, "--database-url", "sqlite:///later.db", "--models", "models:metadata")
        assert result.returncode == code, result.stderr
        lines = [line for line in result.stdout.splitlines() if "does not exist yet" in line]
        assert len(lines) == 1 and "later.db" in lines[0], result.stdout
        assert not missing.exists()
    plan = schemasync.plan(f"sqlite:///{missing}", _models("t"))
    assert any("does not exist yet" in hint for hint in plan.hints) and not missing.exists()
    assert _cli(tmp_path, "apply", "--yes", "--database-url", "sqlite:///later.db", "--models", "models:metadata").returncode == 0
    assert missing.exists()
