"""Shared fixtures: a fresh, uniquely named database per test on each dialect, and a CLI runner.

Server URLs come from SCHEMASYNC_TEST_POSTGRES_URL / SCHEMASYNC_TEST_MYSQL_URL (defaults: the
local servers). An unreachable server skips its tests with the reason shown, unless the dialect
is listed in SCHEMASYNC_REQUIRE_DIALECTS, in which case the test fails.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from schemasync import reflect
from schemasync.cli import app
from schemasync.snapshot import Snapshot
from tests.capabilities import DIALECTS

# The suite's own target cache: exercised by every second plan, never the user's ~/.cache, and one
# per process: pytest-xdist workers inherit the controller's environment, so each makes its own
# (a cache dir the user set is kept, and then shared).
if not os.environ.get("SCHEMASYNC_CACHE_DIR") or os.environ.get("SCHEMASYNC_TEST_OWN_CACHE"):
    os.environ["SCHEMASYNC_CACHE_DIR"] = tempfile.mkdtemp(prefix="schemasync-test-cache-")
    os.environ["SCHEMASYNC_TEST_OWN_CACHE"] = "1"

DEFAULT_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}
ENV_URLS = {"postgresql": "SCHEMASYNC_TEST_POSTGRES_URL", "mysql": "SCHEMASYNC_TEST_MYSQL_URL"}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def required_dialects() -> set[str]:
    return {d.strip() for d in os.environ.get("SCHEMASYNC_REQUIRE_DIALECTS", "").split(",") if d.strip()}


def unavailable(dialect: str, reason: str) -> None:
    if dialect in required_dialects():
        pytest.fail(f"{dialect} is required (SCHEMASYNC_REQUIRE_DIALECTS) but unavailable: {reason}")
    pytest.skip(f"{dialect} unavailable: {reason}")


@dataclass
class Database:
    """A scratch database for one test."""

    dialect: str
    url: str

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def execute(self, *statements: str) -> None:
        engine = self.engine()
        try:
            with engine.begin() as connection:
                for statement in statements:
                    connection.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def scalar(self, statement: str) -> object:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return connection.exec_driver_sql(statement).scalar()
        finally:
            engine.dispose()

    def rows(self, statement: str) -> list[tuple]:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return [tuple(r) for r in connection.exec_driver_sql(statement)]
        finally:
            engine.dispose()


def _server_database(dialect: str) -> Iterator[Database]:
    base = sa.engine.make_url(os.environ.get(ENV_URLS[dialect]) or DEFAULT_URLS[dialect])
    name = f"ss_test_{secrets.token_hex(5)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as error:  # noqa: BLE001  (any failure to reach the server is reported the same way)
        admin.dispose()
        unavailable(dialect, f"{base.render_as_string(hide_password=True)}: {str(error).splitlines()[0]}")
    try:
        yield Database(dialect, base.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            if dialect == "postgresql":
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def make_database(dialect: str, tmp_path: Path) -> Iterator[Database]:
    if dialect == "sqlite":
        yield Database("sqlite", f"sqlite:///{tmp_path / 'test.db'}")
    else:
        yield from _server_database(dialect)


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh empty database on each dialect in turn."""
    yield from make_database(request.param, tmp_path)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield from make_database("sqlite", tmp_path)


# Which reader the suite reflects with: "catalog" (the default: each dialect's bulk reader),
# "inspector" (SQLAlchemy's Inspector only, the reference), or "compare" (both, on every read, failing
# on any difference: every schema any test builds is then a test of the catalog readers).
READER = os.environ.get("SCHEMASYNC_TEST_READER", "catalog")


@pytest.fixture(autouse=True)
def _reader(monkeypatch: pytest.MonkeyPatch) -> None:
    original = reflect.read_tables
    if READER == "inspector":
        monkeypatch.setattr(reflect, "read_tables", lambda *args, use_catalog=True: original(*args, use_catalog=False))
    elif READER == "compare":
        monkeypatch.setattr(reflect, "read_tables", _compared(original))
    elif READER != "catalog":
        raise pytest.UsageError(f"SCHEMASYNC_TEST_READER={READER}: choose catalog, inspector or compare")


def _compared(original):
    from tests.readers import differences

    def read_tables(connection, inspector, dialect, *args, use_catalog=True):
        catalog = original(connection, inspector, dialect, *args, use_catalog=True)
        reference = original(connection, inspector, dialect, *args, use_catalog=False)
        normal = [dialect.normalize_table(t) for t in catalog], [dialect.normalize_table(t) for t in reference]
        problems = differences(*(Snapshot(dialect.name, tuple(tables)) for tables in normal))
        assert not problems, "the catalog reader and the Inspector disagree:\n  " + "\n  ".join(problems)
        return catalog

    return read_tables


@pytest.fixture(autouse=True)
def _forget_model_modules() -> Iterator[None]:
    """Tests write model modules with the same names; never let one test see another's."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("models", "m_")):
            del sys.modules[name]


# Where every dialect builds the models (dialects/postgresql and mysql: SCRATCH_PREFIX): no plan may name it.
SCRATCH_NAMES = ("schemasync_scratch_",)


def assert_no_scratch_name(sql: str) -> None:
    """Plan SQL never names the scratch place the models were built in (issue 16)."""
    leaked = [line for line in sql.splitlines() if any(name in line.lower() for name in SCRATCH_NAMES)]
    assert not leaked, f"the plan names the scratch place: {leaked}"


@dataclass
class Project:
    """A folder with model modules and a CLI bound to one database."""

    path: Path
    db: Database

    def write_models(self, name: str, source: str) -> str:
        """Write `name.py` and return the --models value for it; a fresh module name each time."""
        module = f"m_{name}_{secrets.token_hex(3)}"
        (self.path / f"{module}.py").write_text(textwrap.dedent(source))
        return f"{module}:metadata"

    def copy_fixture(self, relative: str) -> str:
        module = f"m_{Path(relative).stem}_{secrets.token_hex(3)}"
        (self.path / f"{module}.py").write_text((FIXTURES / relative).read_text())
        return f"{module}:Base"

    def cli(self, *args: str, models: str | None = None, input: str | None = None, env: dict[str, str] | None = None):
        full = list(args) + ["--database-url", self.db.url]
        if models:
            full += ["--models", models]
        runner = CliRunner()
        cwd = os.getcwd()
        os.chdir(self.path)
        try:
            return runner.invoke(app, full, input=input, env=env or {}, catch_exceptions=False)
        finally:
            os.chdir(cwd)


def project_on(dialect: str, tmp_path: Path) -> Iterator[Project]:
    """A project folder on a fresh database of one dialect (for fixtures that pin the dialect)."""
    for database in make_database(dialect, tmp_path):
        folder = tmp_path / "project"
        folder.mkdir()
        yield Project(folder, database)


@pytest.fixture
def project(tmp_path: Path, db: Database) -> Project:
    folder = tmp_path / "project"
    folder.mkdir()
    return Project(folder, db)


@pytest.fixture
def sqlite_project(tmp_path: Path, sqlite_db: Database) -> Project:
    folder = tmp_path / "project"
    folder.mkdir()
    return Project(folder, sqlite_db)
