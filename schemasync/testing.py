"""schemasync in a project's own tests: helpers, and the pytest plugin (entry point `pytest11`).

`assert_in_sync(database, metadata)` fails a test when the database and the models differ (what
`schemasync check` exits 2 for); `build_database(database, metadata)` builds a test database from
the models the way `apply` does. The plugin adds the `schemasync_database` fixture. pytest loads
this module in every session of a project that installed schemasync: it imports the rest of
schemasync only when a helper runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from schemasync.api import Database
    from schemasync.workflow import ApplyReport, CheckReport

URL_OPTION = "schemasync_url"
MODELS_OPTION = "schemasync_models"


def assert_in_sync(database: Database, metadata: Any, **scope: Any) -> None:
    """Raise AssertionError, naming each pending step and each drifted change, unless `database`
    matches `metadata` (a MetaData, a declarative Base or a list of those)."""
    from schemasync import api

    report = api.check(database, metadata, **scope)
    if not report.in_sync:
        raise AssertionError(differences(report))


def differences(report: CheckReport) -> str:
    """What `check` found, one line each, under a heading that says what to do."""
    lines = [f"pending: {step.summary}" for step in report.plan.steps]
    if report.drift:
        lines += [f"drift since apply #{report.drift.state_id}: {change}" for change in report.drift.changes]
    lines += [f"unfinished: {line}" for line in report.unfinished]
    if report.lock is not None and not report.lock.ok:
        lines.append("the lock file does not match")
    return "the database and the models differ (schemasync check would exit 2):\n  " + "\n  ".join(lines)


def build_database(database: Database, metadata: Any, **scope: Any) -> ApplyReport:
    """Apply the models to a test database as `schemasync apply` would (its plan, its SQL, its
    schema_state row); destructive steps are allowed: whatever was there is test data."""
    from schemasync import api

    return api.apply(database, metadata, allow_destructive=True, allow_mass_drop=True, **scope)


# --- the pytest plugin -------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("schemasync")
    group.addoption("--schemasync-url", dest=URL_OPTION, default=None,
                    help="database the schemasync_database fixture builds the models in (default: a fresh SQLite file per test)")
    parser.addini(URL_OPTION, "database URL for the schemasync_database fixture (default: a fresh SQLite file per test)")
    parser.addini(MODELS_OPTION, "the models for the schemasync_database fixture, as module:attr (or override the schemasync_metadata fixture)")


@pytest.fixture
def schemasync_metadata(request: pytest.FixtureRequest) -> Any:
    """The models: `schemasync_models = module:Base` in the pytest ini, or override this fixture."""
    spec = request.config.getini(MODELS_OPTION)
    if not spec:
        raise pytest.UsageError("schemasync_database needs the models: set schemasync_models = module:Base in the pytest ini, "
                                "or define a schemasync_metadata fixture returning them")
    from schemasync.models import load

    return load(spec, request.config.rootpath).metadata


@pytest.fixture
def schemasync_database(request: pytest.FixtureRequest, schemasync_metadata: Any, tmp_path: Path) -> Iterator[str]:
    """A database URL with the models applied, as `schemasync apply` builds them."""
    url = request.config.getoption(URL_OPTION) or request.config.getini(URL_OPTION) or f"sqlite:///{tmp_path / 'schemasync.db'}"
    build_database(url, schemasync_metadata)
    yield url
