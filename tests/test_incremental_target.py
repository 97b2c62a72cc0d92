"""Issue 19: pay only for what changed, and let the database be the cache.

- A model edit builds only the changed tables (and the ones whose foreign keys name them), beside
  stand-ins for the tables they reference; the target is the one a full build gives (a property
  test over random schemas and edits, on every dialect).
- A fresh machine (empty cache directory) takes the target from the last apply's record in
  schema_state: `check` of unchanged models builds nothing at all, a changed model set builds only
  the change.
- A role that may only read plans and checks; where something must be built and it may not, the
  error names the privilege and both ways out; `--dev-url` builds in another database.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemasync import devdb, model_target
from schemasync.dialects import dialect_for
from schemasync.errors import ExitCode
from schemasync.snapshot import objects_to_dict, table_to_stored
from schemasync.target_cache import TargetCache
from tests import test_convergence as generated
from tests.conftest import DEFAULT_URLS, Project, project_on

SCALE = float(os.environ.get("SCHEMASYNC_CONVERGENCE_SCALE", "1"))
EXAMPLES = {dialect: max(1, round(n * SCALE)) for dialect, n in {"sqlite": 60, "postgresql": 15, "mysql": 15}.items()}

MODELS = """
import enum
import sqlalchemy as sa
metadata = sa.MetaData()

class Shade(enum.Enum):
    light = "light"
    dark = "dark"

sa.Table("author", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(120), nullable=False, unique=True),
         sa.Column("shade", sa.Enum(Shade, name="shade")), sa.Column("born", sa.Date, server_default=sa.text("'2000-01-01'")))
sa.Table("post", metadata, sa.Column("id", sa.BigInteger, primary_key=True),
         sa.Column("author_id", sa.Integer, sa.ForeignKey("author.id", ondelete="CASCADE"), nullable=False),
         sa.Column("author_email", sa.String(120), sa.ForeignKey("author.email")),
         sa.Column("title", sa.String(200), nullable=False), sa.Column("score", sa.Integer, server_default="0"),
         sa.CheckConstraint("score >= 0", name="ck_post_score"), sa.Index("ix_post_title", "title"))
sa.Table("tag", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(40), nullable=False))
sa.Table("post_tag", metadata, sa.Column("post_id", sa.BigInteger, sa.ForeignKey("post.id"), primary_key=True),
         sa.Column("tag_id", sa.Integer, sa.ForeignKey("tag.id"), primary_key=True))
"""


@pytest.fixture
def built(monkeypatch):
    """The tables each real scratch build was asked to build, one list per build."""
    calls: list[list[str]] = []
    real = devdb.build

    def counting(engine, dialect, metadata, tables, *args, **kwargs):
        calls.append(sorted(t.name for t in tables))
        return real(engine, dialect, metadata, tables, *args, **kwargs)

    monkeypatch.setattr(devdb, "build", counting)
    return calls


def stored(snapshot) -> tuple[list, dict]:
    """Everything a target holds, server names included (the stored form), for exact comparison."""
    return [table_to_stored(t) for t in snapshot.tables], objects_to_dict(snapshot)


def test_an_edit_builds_only_the_changed_table_and_what_references_it(project: Project, built, tmp_path: Path) -> None:
    env = {"SCHEMASYNC_CACHE_DIR": str(tmp_path / "cache")}
    first = project.write_models("m", MODELS)
    assert project.cli("plan", models=first, env=env).exit_code == ExitCode.OK
    assert built == [["author", "post", "post_tag", "tag"]]
    # A table nothing references: built alone, beside stand-ins for the two it references.
    edited = project.write_models("m2", MODELS.replace('sa.ForeignKey("tag.id"), primary_key=True)', 'sa.ForeignKey("tag.id"), primary_key=True), sa.Column("n", sa.Integer)'))
    assert project.cli("plan", models=edited, env=env).exit_code == ExitCode.OK
    assert built[1] == ["post_tag"]
    # A table others reference: it and its referrers (their keys name it), stand-ins for the rest.
    edited = project.write_models("m3", MODELS.replace('sa.Column("title", sa.String(200)', 'sa.Column("title", sa.String(250)'))
    assert project.cli("plan", models=edited, env=env).exit_code == ExitCode.OK
    assert built[2] == ["post", "post_tag"]


def test_the_database_serves_as_the_cache_on_a_fresh_machine(project: Project, built, tmp_path: Path) -> None:
    models = project.write_models("m", MODELS)
    assert project.cli("apply", "--yes", models=models, env={"SCHEMASYNC_CACHE_DIR": str(tmp_path / "applied")}).exit_code == ExitCode.OK
    assert len(built) == 1
    # A fresh runner: no cache directory at all. Nothing is built; check passes.
    for fresh in ("off", str(tmp_path / "fresh")):
        result = project.cli("check", models=models, env={"SCHEMASYNC_CACHE_DIR": fresh})
        assert result.exit_code == ExitCode.OK, result.output
    assert len(built) == 1, "check on a fresh machine built the models"
    # A changed model set on a fresh machine: only the change is built, the rest comes from the record.
    edited = project.write_models("m2", MODELS.replace('sa.Column("label", sa.String(40)', 'sa.Column("label", sa.String(60)'))
    plan = json.loads(project.cli("plan", "--json", models=edited, env={"SCHEMASYNC_CACHE_DIR": "off"}).output)
    assert built[1:] == [["post_tag", "tag"]]
    assert [op["op"] for op in plan["operations"]] in (["alter_column"], ["rebuild_table"])


def test_the_record_gives_the_target_a_build_gives(project: Project, tmp_path: Path) -> None:
    """Taken back from schema_state, every table is what the scratch build made, server names and all."""
    models = project.write_models("m", MODELS)
    assert project.cli("apply", "--yes", models=models, env={"SCHEMASYNC_CACHE_DIR": "off"}).exit_code == ExitCode.OK
    metadata = _import(project, models)
    engine = sa.create_engine(project.db.url)
    try:
        dialect = dialect_for(engine.dialect)
        keep = _keep_all
        full = model_target.build(engine, dialect, metadata, keep, None, use_record=False)
        recorded = model_target.build(engine, dialect, metadata, keep, None, use_record=True)
    finally:
        engine.dispose()
    assert (full.tables_built, recorded.tables_built) == (4, 0)
    assert stored(recorded.record.target) == stored(full.record.target)
    assert recorded.snapshot.fingerprint() == full.snapshot.fingerprint()


def test_a_record_built_another_way_is_not_used(project: Project, built, tmp_path: Path, monkeypatch) -> None:
    """Another schemasync, SQLAlchemy or server version built it: the record is ignored, not trusted."""
    models = project.write_models("m", MODELS)
    assert project.cli("apply", "--yes", models=models, env={"SCHEMASYNC_CACHE_DIR": "off"}).exit_code == ExitCode.OK
    monkeypatch.setattr(sa, "__version__", sa.__version__ + ".other")
    assert project.cli("check", models=models, env={"SCHEMASYNC_CACHE_DIR": "off"}).exit_code == ExitCode.OK
    assert len(built) == 2


def _keep_all(schema: str | None, name: str) -> bool:
    return True


def _import(project: Project, spec: str) -> sa.MetaData:
    import importlib
    import sys

    module, _, attr = spec.partition(":")
    sys.path.insert(0, str(project.path))
    try:
        return getattr(importlib.import_module(module), attr)
    finally:
        sys.path.remove(str(project.path))


# --- the property: incremental == full -------------------------------------------------------------


@pytest.mark.slow
def test_an_incremental_target_equals_a_full_build(db, tmp_path: Path) -> None:
    """For random models and random edits: the target built from the cache of the first models plus
    a build of what changed is the target a full build of the edited models gives."""
    engine = sa.create_engine(db.url)
    dialect = dialect_for(engine.dialect)

    @settings(max_examples=EXAMPLES[db.dialect], deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        schema = data.draw(generated.schemas(db.dialect), label="schema")
        edited = data.draw(generated.edited(schema), label="edited")
        cache = TargetCache(tmp_path / f"cache-{secrets.token_hex(4)}")
        model_target.build(engine, dialect, generated.to_metadata(schema), _keep_all, cache, use_record=False)
        incremental = model_target.build(engine, dialect, generated.to_metadata(edited), _keep_all, cache, use_record=False)
        full = model_target.build(engine, dialect, generated.to_metadata(edited), _keep_all, None, use_record=False)
        assert stored(incremental.record.target) == stored(full.record.target)
        assert incremental.snapshot.fingerprint() == full.snapshot.fingerprint()
        partial.append(0 < incremental.tables_built < full.tables_built)

    partial: list[bool] = []
    try:
        run()
    finally:
        engine.dispose()
    assert any(partial), "no example built only part of the models: the property was not exercised"


# --- a role that may only read ---------------------------------------------------------------------


def _read_only_url(project: Project) -> tuple[str, list[str]]:
    """A login that may connect and SELECT only (and the statements that remove it afterwards)."""
    url = sa.engine.make_url(project.db.url)
    user = f"ss_ro_{secrets.token_hex(3)}"
    if project.db.dialect == "postgresql":
        project.db.execute(
            f"CREATE ROLE {user} LOGIN", f"GRANT CONNECT ON DATABASE {url.database} TO {user}", "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA public TO {user}", f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {user}",
            f"REVOKE CREATE ON DATABASE {url.database} FROM PUBLIC",
        )
        drop = [f"DROP OWNED BY {user}", f"DROP ROLE {user}"]
    elif project.db.dialect == "mysql":
        project.db.execute(f"CREATE USER '{user}'", f"GRANT SELECT ON `{url.database}`.* TO '{user}'")
        drop = [f"DROP USER '{user}'"]
    else:  # SQLite: the file opened read-only
        return f"sqlite:///file:{url.database}?mode=ro&uri=true", []
    return url.set(username=user, password=None).render_as_string(hide_password=False), drop


def test_a_read_only_role_checks_and_plans_and_is_told_what_a_build_needs(project: Project, tmp_path: Path) -> None:
    models = project.write_models("m", MODELS)
    assert project.cli("apply", "--yes", models=models, env={"SCHEMASYNC_CACHE_DIR": "off"}).exit_code == ExitCode.OK
    reader_url, drop = _read_only_url(project)
    reader = replace(project, db=replace(project.db, url=reader_url))
    try:
        result = reader.cli("check", models=models, env={"SCHEMASYNC_CACHE_DIR": "off"})
        assert result.exit_code == ExitCode.OK, result.output
        edited = project.write_models("m2", MODELS.replace('sa.Column("label", sa.String(40)', 'sa.Column("label", sa.String(60)'))
        result = reader.cli("plan", models=edited, env={"SCHEMASYNC_CACHE_DIR": "off"})
        if project.db.dialect == "sqlite":  # built in memory: nothing to grant
            assert result.exit_code == ExitCode.OK, result.output
            return
        assert result.exit_code == ExitCode.ERROR, result.output
        assert "lacks" in result.output and "--dev-url" in result.output and len(result.output.strip().splitlines()) == 1
        (tmp_path / "dev").mkdir()
        for dev in project_on(project.db.dialect, tmp_path / "dev"):
            result = reader.cli("plan", "--json", "--dev-url", dev.db.url, models=edited, env={"SCHEMASYNC_CACHE_DIR": "off"})
            assert result.exit_code == ExitCode.OK, result.output
            assert json.loads(result.output)["operations"], result.output
    finally:
        if drop:
            project.db.execute(*drop)


def test_dev_url_of_another_dialect_is_a_one_line_error(project: Project, tmp_path: Path) -> None:
    other = "sqlite:///" + str(tmp_path / "dev.db") if project.db.dialect != "sqlite" else DEFAULT_URLS["postgresql"]
    models = project.write_models("m", MODELS)
    result = project.cli("plan", "--dev-url", other, models=models)
    assert result.exit_code == ExitCode.ERROR
    assert "same kind of server" in result.output and len(result.output.strip().splitlines()) == 1
