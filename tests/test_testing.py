"""The pytest plugin (schemasync/testing.py), run by pytest itself on a small sample project:
`schemasync_database` builds the models as apply does, `assert_in_sync` fails on a difference."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
"""

TESTS = """
import sqlalchemy as sa

from schemasync.testing import assert_in_sync
from models import Base


def test_the_fixture_builds_the_models(schemasync_database):
    engine = sa.create_engine(schemasync_database)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM schema_state").scalar() == 1
    engine.dispose()
    assert_in_sync(schemasync_database, Base)


def test_a_table_the_database_lacks_fails(schemasync_database):
    wider = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(wider)
    sa.Table("audit", wider, sa.Column("id", sa.Integer, primary_key=True))
    assert_in_sync(schemasync_database, wider)
"""


def _plugin_args() -> tuple[str, ...]:
    """Installed, pytest loads the plugin by its entry point; from a checkout, name it with -p."""
    registered = any(e.value == "schemasync.testing" for e in entry_points(group="pytest11"))
    return () if registered else ("-p", "schemasync.testing")


def test_the_plugin_builds_a_database_and_fails_a_test_that_differs(pytester: pytest.Pytester):
    pytester.makepyfile(models=MODELS, test_sample=TESTS)
    pytester.makeini("[pytest]\nschemasync_models = models:Base\n")
    result = pytester.runpytest_subprocess(*_plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: the database and the models differ (schemasync check would exit 2):*",
                                 "*pending: create table audit*"])


def test_without_models_the_fixture_says_how_to_name_them(pytester: pytest.Pytester):
    pytester.makepyfile(test_sample="def test_it(schemasync_database):\n    pass\n")
    result = pytester.runpytest_subprocess(*_plugin_args(), "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*schemasync_database needs the models: set schemasync_models = module:Base*"])
    assert result.ret != 0


def test_a_conftest_fixture_can_give_the_models_and_the_url_option_the_database(pytester: pytest.Pytester, tmp_path):
    pytester.makepyfile(models=MODELS, test_sample="from schemasync.testing import assert_in_sync\nfrom models import Base\n\n"
                        "def test_it(schemasync_database):\n    assert schemasync_database.endswith('chosen.db')\n    assert_in_sync(schemasync_database, Base)\n")
    pytester.makeconftest("import pytest\nfrom models import Base\n\n@pytest.fixture\ndef schemasync_metadata():\n    return Base\n")
    url = f"sqlite:///{tmp_path / 'chosen.db'}"
    result = pytester.runpytest_subprocess(*_plugin_args(), "-p", "no:cacheprovider", f"--schemasync-url={url}")
    result.assert_outcomes(passed=1)
    assert (tmp_path / "chosen.db").exists()
