"""Where SQLAlchemy applications are: the sample apps in fixtures/ (Flask with two binds, Flask-Migrate,
SQLModel, a FastAPI-style package with an async URL) driven through plan, apply and check on every
dialect, through the real CLI (and Flask's own `flask` command group)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from schemasync.cli import app
from schemasync.errors import ExitCode
from tests.conftest import FIXTURES
from tests.harness import assert_converged, converge
from tests.test_cli import assert_error, invoke

# The fixtures' top-level modules: each test imports them afresh from its own copy.
APP_MODULES = ("shop", "app", "store", "flaskapp_m")


@pytest.fixture(autouse=True)
def _forget_app_modules():
    yield
    for name in list(sys.modules):
        if name.partition(".")[0] in APP_MODULES:
            del sys.modules[name]


def copy(fixture: str, folder: Path) -> Path:
    target = folder / fixture
    shutil.copytree(FIXTURES / fixture, target, ignore=shutil.ignore_patterns("__pycache__", "instance", "*.db"))
    return target


def async_url(url: str) -> str:
    """The scratch database's URL as an async app names it."""
    parsed = sa.engine.make_url(url)
    driver = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "mysql": "aiomysql"}[parsed.get_backend_name()]
    return parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}").render_as_string(hide_password=False)


# --- Flask-SQLAlchemy: an app factory with two binds ---------------------------------------------


def test_flask_app_factory_manages_its_default_bind_and_lists_the_other(project, tmp_path, monkeypatch):
    folder = copy("flask_shop", project.path)
    audit = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("SHOP_DATABASE_URL", project.db.url)
    monkeypatch.setenv("SHOP_AUDIT_URL", audit)
    planned = invoke(folder, "plan", "--models", "shop:create_app()")  # the URL is the app's
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "create table customer" in planned.output and "create table orders" in planned.output
    ignored = [line for line in planned.output.splitlines() if "audit_event" in line]
    assert len(ignored) == 1 and "bind 'audit'" in ignored[0] and "shop.models:db.metadatas[audit]" in ignored[0], planned.output
    assert invoke(folder, "apply", "--yes", "--models", "shop:create_app()").exit_code == ExitCode.OK
    checked = invoke(folder, "check", "--models", "shop:create_app()")
    assert checked.exit_code == ExitCode.OK and "audit_event" in checked.output, checked.output
    # db, db.Model and db.metadata name the same models (and the same ignored bind).
    for spec in ("shop.models:db", "shop.models:db.Model", "shop.models:db.metadata", "shop:create_app('testing')"):
        again = invoke(folder, "plan", "--models", spec, "--database-url", project.db.url)
        assert "No changes." in again.output and "bind 'audit'" in again.output, (spec, again.output)
    # The other bind, in its own run on its own database.
    bind = "shop.models:db.metadatas[audit]"
    applied = invoke(folder, "apply", "--yes", "--models", bind, "--database-url", audit)
    assert applied.exit_code == ExitCode.OK and "create table audit_event" in applied.output, applied.output
    assert "customer: in Flask-SQLAlchemy's default bind" in applied.output
    assert invoke(folder, "check", "--models", bind, "--database-url", audit).exit_code == ExitCode.OK
    assert sa.inspect(sa.create_engine(audit)).get_table_names() == ["audit_event", "schema_state"]


def test_flask_relative_sqlite_url_lies_in_the_instance_folder(tmp_path, monkeypatch):
    folder = copy("flask_shop", tmp_path)
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    applied = invoke(folder, "apply", "--yes", "--models", "shop:create_app()")  # sqlite:///shop.db, as the app has it
    assert applied.exit_code == ExitCode.OK, applied.output
    assert (folder / "instance" / "shop.db").is_file() and not (folder / "shop.db").exists()
    assert invoke(folder, "check", "--models", "shop:create_app()").exit_code == ExitCode.OK


def test_flask_command_group_plans_applies_and_checks_the_app(project, tmp_path, monkeypatch):
    from schemasync.flask_cli import schemasync

    folder = copy("flask_shop", project.path)
    monkeypatch.setenv("SHOP_DATABASE_URL", project.db.url)
    monkeypatch.setenv("SHOP_AUDIT_URL", f"sqlite:///{tmp_path / 'audit.db'}")
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    from shop import create_app

    runner = create_app().test_cli_runner()
    planned = runner.invoke(schemasync, ["plan", "--json"])
    assert planned.exit_code == ExitCode.OK, planned.output
    assert {s["op"] for s in json.loads(planned.stdout)["operations"]} >= {"create_table"}
    assert runner.invoke(schemasync, ["check"]).exit_code == ExitCode.PENDING
    applied = runner.invoke(schemasync, ["apply", "--yes"])
    assert applied.exit_code == ExitCode.OK, applied.output
    checked = runner.invoke(schemasync, ["check"])
    assert checked.exit_code == ExitCode.OK and "bind 'audit'" in checked.output, checked.output
    refused = runner.invoke(schemasync, ["apply"])  # no terminal to ask, no --yes: nothing to do anyway
    assert refused.exit_code == ExitCode.OK and "No changes." in refused.output
    # The other bind, on its own database (the app's engine for it).
    bound = runner.invoke(schemasync, ["apply", "--yes", "--bind", "audit"])
    assert bound.exit_code == ExitCode.OK and "create table audit_event" in bound.output, bound.output
    assert runner.invoke(schemasync, ["check", "--bind", "audit"]).exit_code == ExitCode.OK
    unknown = runner.invoke(schemasync, ["plan", "--bind", "nope"])
    assert unknown.exit_code == ExitCode.ERROR and "error: Flask-SQLAlchemy has no bind 'nope' (binds with models: audit)" in unknown.output, unknown.output


# --- Flask-Migrate: migrations/alembic.ini without script_location, env.py reads current_app -------


def _flask(folder: Path, *args: str, url: str) -> None:
    env = {**os.environ, "BLOG_DATABASE_URL": url}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_flask_migrate_project_is_adopted_then_managed(project, monkeypatch):
    folder = copy("flask_migrate_blog", project.path)
    _flask(folder, "db", "upgrade", url=project.db.url)  # the database as Flask-Migrate built it
    monkeypatch.setenv("BLOG_DATABASE_URL", project.db.url)
    ini = "migrations/alembic.ini"
    adopted = invoke(folder, "adopt", "--alembic", ini)
    assert adopted.exit_code == ExitCode.OK and "Adopted" in adopted.output, adopted.output
    planned = invoke(folder, "plan", "--alembic", ini)
    assert "No changes." in planned.output and "alembic_version" in planned.output, planned.output
    assert invoke(folder, "check", "--alembic", ini).exit_code == ExitCode.OK
    # The models change: schemasync plans it from the same setup.
    source = (folder / "app.py").read_text()
    (folder / "app.py").write_text(source.replace('    published_at: Mapped[datetime | None]\n',
                                                  '    published_at: Mapped[datetime | None]\n    slug: Mapped[str | None] = mapped_column(sa.String(200))\n'))
    del sys.modules["app"]
    assert invoke(folder, "check", "--alembic", ini).exit_code == ExitCode.PENDING
    applied = invoke(folder, "apply", "--yes", "--alembic", ini)
    assert applied.exit_code == ExitCode.OK and "add column post.slug" in applied.output, applied.output
    assert invoke(folder, "check", "--alembic", ini).exit_code == ExitCode.OK
    # A bind of the app (another database) is named as ignored, not dropped silently.
    (folder / "app.py").write_text((folder / "app.py").read_text().replace("db = SQLAlchemy(app)\n", (
        'app.config["SQLALCHEMY_BINDS"] = {"archive": "sqlite://"}\ndb = SQLAlchemy(app)\n\n\n'
        'class Archived(db.Model):\n    __bind_key__ = "archive"\n    id: Mapped[int] = mapped_column(primary_key=True)\n')))
    del sys.modules["app"]
    checked = invoke(folder, "check", "--alembic", ini)
    assert checked.exit_code == ExitCode.OK and "table archived: in Flask-SQLAlchemy's bind 'archive'" in checked.output, checked.output


def test_flask_migrate_without_an_app_is_one_line(tmp_path):
    folder = copy("flask_migrate_blog", tmp_path)
    (folder / "app.py").rename(folder / "blog_app.py")
    assert_error(invoke(folder, "plan", "--alembic", "migrations/alembic.ini", "--database-url", f"sqlite:///{tmp_path}/x.db"),
                 "env.py needs the Flask app", "FLASK_APP")


# --- SQLModel -------------------------------------------------------------------------------------


def test_sqlmodel_app_converges(project):
    # SQLModel's metadata is process-wide: `heroes` is imported once (never forgotten between tests).
    shutil.copytree(FIXTURES / "sqlmodel_heroes", project.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    planned = converge(project, "heroes.models:SQLModel")
    assert {s["table"] for s in planned["operations"] if s["op"] == "create_table"} >= {"hero", "team"}
    assert_converged(project, "sqlmodel:SQLModel")  # once the models are imported, SQLModel itself names them


# --- A FastAPI-style package: models over several modules, an async URL ---------------------------


def test_fastapi_package_with_an_async_url(project, monkeypatch):
    folder = copy("fastapi_store", project.path)
    monkeypatch.setenv("DATABASE_URL", async_url(project.db.url))
    planned = invoke(folder, "plan")  # all from schemasync.yaml
    assert planned.exit_code == ExitCode.OK, planned.output
    assert "create table users" in planned.output and "create table orders" in planned.output
    assert "runs through the sync driver" in planned.stderr and "Traceback" not in planned.output
    assert invoke(folder, "apply", "--yes").exit_code == ExitCode.OK
    checked = invoke(folder, "check")
    assert checked.exit_code == ExitCode.OK, checked.output


def test_fastapi_package_without_models_package_defines_nothing(tmp_path):
    folder = copy("fastapi_store", tmp_path)
    (folder / "schemasync.yaml").unlink()
    assert_error(invoke(folder, "plan", "--models", "store.database:Base", "--database-url", f"sqlite:///{tmp_path}/x.db"),
                 "define no tables")
    found = invoke(folder, "plan", "--models-package", "store.models", "--database-url", f"sqlite:///{tmp_path}/x.db")
    assert "create table users" in found.output, found.output  # the Base is found in the package's modules


ASYNC_ENV = """\
from models import Base
target_metadata = Base.metadata
"""


def test_alembic_async_template_is_read_without_an_event_loop(project):
    folder = project.path
    subprocess.run([sys.executable, "-m", "alembic", "init", "-t", "async", "alembic"], cwd=folder, check=True, capture_output=True)
    (folder / "models.py").write_text("import sqlalchemy as sa\nfrom sqlalchemy.orm import DeclarativeBase\n"
                                      "class Base(DeclarativeBase):\n    pass\n"
                                      "class Item(Base):\n    __tablename__ = 'items'\n    id = sa.Column(sa.Integer, primary_key=True)\n")
    env = folder / "alembic" / "env.py"
    env.write_text(env.read_text().replace("target_metadata = None\n", ASYNC_ENV))
    ini = folder / "alembic.ini"
    lines = ini.read_text().splitlines()
    ini.write_text("\n".join(f"sqlalchemy.url = {async_url(project.db.url)}" if line.startswith("sqlalchemy.url") else line for line in lines))
    for command in ("plan", "apply", "check"):
        result = invoke(folder, command, *(["--yes"] if command == "apply" else []), "--alembic", "alembic.ini")
        assert result.exit_code == ExitCode.OK and "Traceback" not in result.output, (command, result.output)
        assert "runs through the sync driver" in result.stderr
    assert "items" in sa.inspect(project.db.engine()).get_table_names()


# --- the spec's forms and its errors --------------------------------------------------------------


def test_models_as_a_yaml_list(sqlite_project):
    (sqlite_project.path / "m_one.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table('a', metadata, sa.Column('id', sa.Integer, primary_key=True))\n")
    (sqlite_project.path / "m_two.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table('b', metadata, sa.Column('id', sa.Integer, primary_key=True))\n")
    (sqlite_project.path / "schemasync.yaml").write_text(f"database_url: {sqlite_project.db.url}\nmodels:\n  - m_one:metadata\n  - m_two\n")
    result = CliRunner().invoke(app, ["plan", "--config", str(sqlite_project.path / "schemasync.yaml")], env={}, catch_exceptions=False)
    assert "create table a" in result.output and "create table b" in result.output, result.output
    flag = sqlite_project.cli("apply", "--yes", models="m_one:metadata, m_two:metadata")
    assert flag.exit_code == ExitCode.OK, flag.output


@pytest.mark.parametrize(("spec", "phrases"), [
    ("shop.models:db.Modle", ["models 'shop.models:db.Modle'", "db has no attribute 'Modle'"]),
    ("shop:create_app(config)", ["only literal arguments"]),
    ("shop:create_app(", ["is not a name path"]),
    ("shop:create_app('x', nope=1)", ["create_app('x', nope=1) raised TypeError"]),
    ("shop.models:db.metadatas[nope]", ["db.metadatas has no item 'nope'", "'audit'"]),
    ("shop:db.Model[1]", ["cannot be subscripted"]),
    ("shop:db + 1", ["is not a name path"]),
])
def test_model_spec_errors_are_one_line_naming_the_spec(tmp_path, spec, phrases):
    folder = copy("flask_shop", tmp_path)
    assert_error(invoke(folder, "plan", "--models", spec, "--database-url", f"sqlite:///{tmp_path}/x.db"), *phrases)


def test_models_package_errors_are_one_line(tmp_path):
    folder = copy("fastapi_store", tmp_path)
    (folder / "store" / "models" / "broken.py").write_text("raise RuntimeError('no settings')\n")
    url = f"sqlite:///{tmp_path}/x.db"
    assert_error(invoke(folder, "plan", "--database-url", url), "store.models.broken", "RuntimeError: no settings")
    (folder / "schemasync.yaml").unlink()
    assert_error(invoke(folder, "plan", "--models-package", "store.database", "--database-url", url), "is a module, not a package")
    assert_error(invoke(folder, "plan", "--models-package", "nowhere", "--database-url", url), "cannot import models_package 'nowhere'")


# --- the README's sections run as written, each in a copy of its sample app -----------------------

README_SESSIONS = {"Flask-SQLAlchemy": "flask_shop", "Flask-Migrate": "flask_migrate_blog", "SQLModel": "sqlmodel_heroes",
                   "FastAPI and async URLs": "fastapi_store"}


@pytest.mark.slow  # subprocesses, as tests/test_docs.py runs the docs' sessions
@pytest.mark.parametrize(("title", "fixture"), README_SESSIONS.items(), ids=list(README_SESSIONS))
def test_the_readme_framework_sections_run(title, fixture, tmp_path):
    from tests.test_docs import commands, run_session

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split(f"\n### {title}\n", 1)[1].split("\n#", 1)[0]
    session = commands(section, f"README.md, {title}")
    assert session and all(c.line.split()[0] in {"schemasync", "flask"} for c in session)
    run_session(session, copy(fixture, tmp_path))


def test_an_async_url_whose_sync_driver_is_missing_is_refused_in_one_line(sqlite_project, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymysql", None)  # Python's own way to make a module not importable
    spec = sqlite_project.write_models("m", "import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table('a', metadata, sa.Column('id', sa.Integer, primary_key=True))\n")
    result = invoke(sqlite_project.path, "plan", "--database-url", "mysql+asyncmy://root:secret@127.0.0.1/x", "--models", spec)
    assert_error(result, "async driver 'asyncmy'", "'pymysql' is not installed")
    assert "secret" not in result.output and "greenlet" not in result.output


def test_the_flask_command_group_is_declared_as_flasks_entry_point():
    import tomllib

    from flask.cli import AppGroup

    from schemasync import flask_cli

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    declared = project["project"]["entry-points"]["flask.commands"]["schemasync"]
    assert declared == "schemasync.flask_cli:schemasync"
    assert isinstance(flask_cli.schemasync, AppGroup) and set(flask_cli.schemasync.commands) == {"plan", "apply", "check"}


def test_flask_binds_as_targets_of_their_own(project, tmp_path, monkeypatch):
    folder = copy("flask_shop", project.path)
    audit = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("SHOP_DATABASE_URL", project.db.url)
    monkeypatch.setenv("SHOP_AUDIT_URL", audit)
    (folder / "schemasync.yaml").write_text(
        "targets:\n"
        f"  - {{name: shop, database_url: '{project.db.url}', models: 'shop:create_app()'}}\n"
        f"  - {{name: audit, database_url: '{audit}', models: 'shop.models:db.metadatas[audit]'}}\n")
    applied = invoke(folder, "apply", "--all-targets", "--yes")
    assert applied.exit_code == ExitCode.OK, applied.output
    assert invoke(folder, "check", "--all-targets").exit_code == ExitCode.OK
    assert "audit_event" in sa.inspect(sa.create_engine(audit)).get_table_names()
    assert "audit_event" not in sa.inspect(project.db.engine()).get_table_names()
    single = invoke(folder, "plan", "--target", "audit")
    assert "No changes." in single.output and "customer: in Flask-SQLAlchemy's default bind" in single.output, single.output


def test_flask_finds_the_command_group_through_the_entry_point(tmp_path, monkeypatch):
    """The real `flask` command, with the entry point declared as an installed distribution declares
    it (a dist-info folder on the path: the checkout under test is not necessarily installed)."""
    folder = copy("flask_shop", tmp_path)
    dist = tmp_path / "site" / "schemasync_entry_point-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: schemasync-entry-point\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[flask.commands]\nschemasync = schemasync.flask_cli:schemasync\n")
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), root]), "NO_COLOR": "1"}
    env.pop("SHOP_DATABASE_URL", None)

    def flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "shop:create_app", "schemasync", *args], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=120)

    assert flask("check").returncode == ExitCode.PENDING
    applied = flask("apply", "--yes")
    assert applied.returncode == 0 and "create table customer" in applied.stdout, applied.stdout + applied.stderr
    checked = flask("check")
    assert checked.returncode == 0 and "In sync" in checked.stdout, checked.stdout + checked.stderr
    assert (folder / "instance" / "shop.db").is_file()
