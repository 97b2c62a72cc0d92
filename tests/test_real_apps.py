"""Real applications: the SQLAlchemy models of open-source projects nobody here wrote, each applied
from an empty database and then checked, on every dialect the project supports (issue 17).

Each case also builds the same models with SQLAlchemy's own `create_all` on a second database (the
create_all oracle of test_convergence_oracle.py): schemasync must plan nothing against it, and
SQLAlchemy's Inspector must read the same tables from both (`shape`: columns, keys, indexes,
the names the models give), so that a constraint left out or renamed on both sides alike still shows.
Last, `rollback` takes the first database back to empty. A second test makes the offline plan from
the models' lock file and wants it to be the live plan, statement for statement.

A failure here is false drift, a crash or a silent skip on a schema schemasync was not written
against: it is fixed in schemasync at the root (a normalisation rule or a planner change, with its
line in docs/normalisation.md and a focused regression test), never for one project. What is mended
here is the project's own models, where they cannot be built as declared (SQLAlchemy's create_all
fails on them too; the project builds its schema with its migrations instead), each with the reason.

The versions are pinned in tests/real_apps/requirements.txt (.ci/run installs them); a project that
is not installed skips with the reason, and fails when SCHEMASYNC_REQUIRE_REAL_APPS is set (CI sets it).
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.capabilities import DIALECTS
from tests.conftest import project_on
from tests.harness import converge, metadata_module, ops
from tests.test_convergence_oracle import assert_plans_empty, create_all
from tests.test_offline import offline


@dataclass(frozen=True)
class App:
    """One project's models: where its MetaData is, how many tables, where it is left out and why."""

    name: str
    distribution: str  # the PyPI name, pinned in tests/real_apps/requirements.txt
    modules: tuple[str, ...]  # imported in turn: the last holds the MetaData, the others add their tables to it
    metadata: str  # an attribute path in the last module: a MetaData, a declarative base, or a function returning one
    tables: int
    first: str = ""  # a function of the last module to call first (one that imports every model)
    left_out: dict[str, str] = field(default_factory=dict)  # dialect -> why the project is not built there
    mend: Callable[[sa.MetaData], None] | None = None  # mends the project's models before the run ...
    why: str = ""  # ... for this reason

    def load(self) -> sa.MetaData:
        for module in self.modules[:-1]:
            importlib.import_module(module)
        found: object = importlib.import_module(self.modules[-1])
        if self.first:
            getattr(found, self.first)()
        for part in self.metadata.split("."):
            found = getattr(found, part)
        found = found() if callable(found) and not isinstance(found, type) else found
        metadata = found if isinstance(found, sa.MetaData) else found.metadata
        if self.mend:
            self.mend(metadata)
        return metadata


def leave_out_unbuildable(metadata: sa.MetaData) -> None:
    """Leave out an `Index("name")` with no column and a foreign key to columns that no primary key
    or unique key covers: no server builds the first, SQLite and PostgreSQL refuse the second."""
    for table in metadata.tables.values():
        for index in [i for i in table.indexes if not i.expressions]:
            table.indexes.discard(index)
        for constraint in [c for c in table.foreign_key_constraints if not _references_a_key(c)]:
            table.constraints.discard(constraint)
            for column in constraint.columns:
                column.foreign_keys.difference_update(constraint.elements)
            table.foreign_keys.difference_update(constraint.elements)


def _references_a_key(constraint: sa.ForeignKeyConstraint) -> bool:
    referred = {element.column.name for element in constraint.elements}
    parent = constraint.referred_table
    keys = [parent.primary_key, *(c for c in parent.constraints if isinstance(c, sa.UniqueConstraint))]
    keys += [i for i in parent.indexes if i.unique]
    return any({c.name for c in key.columns} == referred for key in keys)


def nova_prefix_lengths(metadata: sa.MetaData) -> None:
    """The prefix lengths Nova's initial migration gives migrations_by_host_nodes_and_status_idx
    (its models leave them out: five VARCHAR(255) parts are longer than InnoDB's 3072-byte key)."""
    index = next(i for i in metadata.tables["migrations"].indexes if i.name == "migrations_by_host_nodes_and_status_idx")
    index.dialect_options["mysql"]["length"] = dict.fromkeys(("source_compute", "dest_compute", "source_node", "dest_node"), 100)


KEYSTONE_BACKENDS = (
    "assignment.backends.sql", "assignment.role_backends.sql_model", "catalog.backends.sql",
    "credential.backends.sql", "application_credential.backends.sql", "endpoint_policy.backends.sql",
    "federation.backends.sql", "identity.backends.sql_model", "identity.mapping_backends.sql",
    "limit.backends.sql", "oauth1.backends.sql", "policy.backends.sql", "resource.backends.sql_model",
    "resource.config_backends.sql", "revoke.backends.sql", "trust.backends.sql",
)

APPS = (
    # Optuna's RDB storage (its documented backends: SQLite, PostgreSQL, MySQL).
    App("optuna", "optuna", ("optuna.storages._rdb.models",), "BaseModel", 12),
    # MLflow's tracking and model registry store, on one declarative base (SQLite, PostgreSQL, MySQL, MSSQL).
    App("mlflow", "mlflow-skinny", ("mlflow.store.model_registry.dbmodels.models", "mlflow.store.tracking.dbmodels.models"), "Base", 69,
        mend=leave_out_unbuildable,
        why="two Index() without columns (trace_tags, trace_request_metadata) and the foreign key input_tags.input_uuid -> "
        "inputs.input_uuid (no key there); MLflow's migrations make the indexes on request_id and never that key"),
    # Airflow's metadata database, every model (`import_all_models`, as its migrations compare them).
    App("airflow", "apache-airflow-core", ("airflow.models",), "base.Base", 57, first="import_all_models", left_out={
        "mysql": "Airflow does not support MariaDB (its docs: 'not tested/recommended'); on MySQL its id columns take "
        "utf8mb3_bin, decided from the configured connection when the models are imported (keys too long without it)",
    }),
    # Keystone (OpenStack identity): the SQL backends' models on one ModelBase, as its migration test loads them.
    App("keystone", "keystone", (*(f"keystone.{m}" for m in KEYSTONE_BACKENDS), "keystone.common.sql.core"), "ModelBase", 47),
    # Neutron (OpenStack networking): every plugin's models, through the module its migration test compares with.
    App("neutron", "neutron", ("neutron.db.migration.models.head",), "get_metadata", 117),
    # Nova (OpenStack compute): its two databases, the cell ("main") one and the API one.
    App("nova-main", "nova", ("nova.db.main.models",), "BASE", 30, mend=nova_prefix_lengths,
        why="one index's MariaDB prefix lengths, which Nova's migration has and its models lack"),
    App("nova-api", "nova", ("nova.db.api.models",), "BASE", 20),
)


# Known gaps, as strict xfails per case: (app, dialect) -> why.
OFFLINE_GAPS = {
    ("keystone", "mysql"): "an offline mysql plan quotes with MySQL's reserved words, the live plan on MariaDB with MariaDB's "
    "(Keystone's table `role`): test_offline.py::test_offline_plan_quotes_names_as_the_live_plan_on_mariadb",
}


def cases(gaps: dict[tuple[str, str], str] | None = None):
    for app in APPS:
        for dialect in DIALECTS:
            if dialect not in app.left_out:
                gap = (gaps or {}).get((app.name, dialect))
                marks = [pytest.mark.xfail(strict=True, reason=f"known gap: {gap}")] if gap else []
                yield pytest.param(app, dialect, id=f"{app.name}-{dialect}", marks=marks)


def metadata_of(app: App) -> sa.MetaData:
    """The project's MetaData; a skip when it is not installed (a failure under SCHEMASYNC_REQUIRE_REAL_APPS)."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="schemasync-airflow-"))  # else Airflow writes ~/airflow
    try:
        return app.load()
    except ImportError as error:
        reason = f"{app.distribution} is not installed ({error}): pip install -r tests/real_apps/requirements.txt"
        if os.environ.get("SCHEMASYNC_REQUIRE_REAL_APPS"):
            pytest.fail(f"SCHEMASYNC_REQUIRE_REAL_APPS is set, but {reason}")
        pytest.skip(reason)


@pytest.mark.slow  # 1 to 20 s a case, two minutes in all on two workers; the rules it found have quick tests of their own
@pytest.mark.parametrize(("app", "db"), list(cases()), indirect=["db"])
def test_real_application_builds_from_empty_and_checks_in_sync(app: App, project, tmp_path):
    """Applied from empty, then in sync; what SQLAlchemy's create_all builds from the same models
    plans empty (no false drift) and has the same shape as what schemasync built (nothing left out);
    then rolled back to empty."""
    metadata = metadata_of(app)
    assert len(metadata.tables) == app.tables, f"{app.name}: the pinned version has {len(metadata.tables)} tables"
    plan = converge(project, metadata)
    assert ops(plan).count("create_table") == app.tables, ops(plan)
    assert plan["ignored"] == [], plan["ignored"]

    (tmp_path / "oracle").mkdir()
    for oracle in project_on(project.db.dialect, tmp_path / "oracle"):
        create_all(oracle.db.url, metadata)
        assert_plans_empty(oracle, metadata)
        built, expected = shape(project.db.url, metadata), shape(oracle.db.url, metadata)
        assert built == expected, "\n".join(
            f"{name}:\n  schemasync: {built.get(name)}\n  create_all: {expected.get(name)}"
            for name in sorted(set(built) | set(expected)) if built.get(name) != expected.get(name))

    # And back: the rollback drops every table, in an order the foreign keys allow.
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    engine = project.db.engine()
    try:
        assert not set(metadata.tables) & set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize(("app", "db"), list(cases(OFFLINE_GAPS)), indirect=["db"])
def test_real_application_offline_plan_is_the_live_plan(app: App, project):
    """The models' lock file (`snapshot`) gives, with no server, the plan the empty database gives."""
    metadata = metadata_of(app)
    spec = metadata_module(metadata)
    assert project.cli("snapshot", "--out", "schema.lock.yaml", models=spec).exit_code == 0
    live = json.loads(project.cli("plan", "--json", models=spec).output)
    off = offline(project, "plan", "--from", "empty", "--dialect", project.db.dialect, "--json", models=spec)
    assert off.exit_code == 0, off.output
    differing = [(a, b) for a, b in zip(json.loads(off.output)["operations"], live["operations"]) if a["sql"] != b["sql"]]
    assert not differing, "\n".join(f"offline: {a['sql']}\nlive:    {b['sql']}" for a, b in differing[:3])
    assert json.loads(off.output)["hash"] == live["hash"]


def shape(url: str, metadata: sa.MetaData) -> dict[str, dict]:
    """What SQLAlchemy's Inspector reads of each of the models' tables, less what servers spell their
    own way (types, defaults and checks: the normalisation rules) and the names a server chooses (a
    foreign key's or check's name is kept where the models give one)."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {name: _table_shape(inspector, table) for name, table in sorted(metadata.tables.items())}
    finally:
        engine.dispose()


def _table_shape(inspector: sa.Inspector, table: sa.Table) -> dict:
    given = {str(c.name) for c in table.constraints if c.name}

    def mine(name: str | None) -> str:
        """A name the models gave; any other is the server's choice, which may differ."""
        return str(name) if name in given else "(the server's)"

    at = (table.name, table.schema)
    key = inspector.get_pk_constraint(*at)
    return {
        "columns": [(c["name"], c["nullable"], c.get("comment")) for c in inspector.get_columns(*at)],
        "primary_key": (mine(key["name"]), key["constrained_columns"]),
        "foreign_keys": sorted((mine(k["name"]), k["constrained_columns"], k["referred_table"], k["referred_columns"], sorted(k["options"].items()))
                               for k in inspector.get_foreign_keys(*at)),
        "indexes": sorted((str(i["name"]), [str(c) for c in i["column_names"]], i["unique"]) for i in inspector.get_indexes(*at)),
        "uniques": sorted((str(u["name"]), u["column_names"]) for u in inspector.get_unique_constraints(*at)),
        "checks": sorted(mine(c["name"]) for c in inspector.get_check_constraints(*at)),
        "comment": _comment(inspector, table),
    }


def _comment(inspector: sa.Inspector, table: sa.Table) -> str | None:
    try:
        return inspector.get_table_comment(table.name, table.schema)["text"]
    except NotImplementedError:  # SQLite keeps no comments
        return None


def test_the_pinned_applications_have_over_300_tables():
    assert sum(app.tables for app in APPS) >= 300
    lines = (Path(__file__).parent / "real_apps" / "requirements.txt").read_text().splitlines()
    assert {line.partition("==")[0] for line in lines if "==" in line} == {app.distribution for app in APPS}
