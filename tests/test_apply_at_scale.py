"""A plan of hundreds of statements applies in one go, with a progress bar on a terminal, and converges."""

from __future__ import annotations

import io
import json
import secrets
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from rich.console import Console

from schemasync import console, devdb, state, workflow
from schemasync.config import Settings
from schemasync.dialects import dialect_for
from schemasync.dialects import postgresql as dialect_postgresql
from schemasync.errors import PlanError
from schemasync.model_target import build_target
from schemasync.scope import Scope
from tests.capabilities import requires, supports
from tests.harness import metadata_module

pytestmark = pytest.mark.slow  # hundreds of operations per test
TABLES = 100


def models() -> sa.MetaData:
    """A chain of tables, each with an index and a key to the one before: hundreds of operations."""
    metadata = sa.MetaData()
    for n in range(TABLES):
        parent = [sa.Column("p", sa.Integer, sa.ForeignKey(f"t{n - 1:03d}.id"))] if n else []
        sa.Table(f"t{n:03d}", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String(20), index=True), *parent)
    return metadata


def test_hundreds_of_operations_apply_with_a_progress_bar(db, tmp_path):
    terminal = Console(file=io.StringIO(), force_terminal=True, width=140)
    progress = console.StatementProgress(terminal)
    spec = metadata_module(models())
    settings = Settings(database_url=db.url, models=spec, base_dir=tmp_path)
    planned = workflow.plan(settings).plan
    assert len(planned.steps) >= TABLES and len(planned.statements) >= 2 * TABLES

    def confirm(plan) -> bool:
        progress.expect(len(plan.statements))
        return True

    with progress:
        report = workflow.apply(settings, confirm, on_statement=progress)
    assert report.result is not None and report.result.statements == len(planned.statements)
    assert not workflow.plan(settings).plan.steps
    drawn = terminal.file.getvalue()
    assert f"/{len(planned.statements)}" in drawn, "the bar counts the plan's statements"


def test_no_bar_without_a_terminal():
    quiet_file = io.StringIO()
    progress = console.StatementProgress(Console(file=quiet_file, force_terminal=False))
    with progress:
        progress.expect(500)
        for number in range(1, 501):
            progress(number, "CREATE TABLE t (id INTEGER)")
    assert quiet_file.getvalue() == ""


@pytest.mark.parametrize("fails", [False, True], ids=["builds", "fails"])
@requires("scratch_build_in_batches")
def test_a_large_postgresql_scratch_build_commits_as_it_goes_and_leaves_nothing(db, monkeypatch, fails):
    """Past SCRATCH_TRANSACTION_TABLES the models are built outside one transaction (whose locks
    would fill the server's lock table); the result is the same and the scratch schema goes."""
    metadata = models()
    if fails:
        sa.Table("broken", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("p", sa.Integer, sa.ForeignKey("t000.v")))
    engine = sa.create_engine(db.url)
    dialect = dialect_for(engine.dialect)
    keep = Scope().keep
    try:
        if fails:
            monkeypatch.setattr(dialect_postgresql, "SCRATCH_TRANSACTION_TABLES", 10)
            with pytest.raises(PlanError, match="cannot be built"):
                build_target(engine, dialect, metadata, keep)
        else:
            in_one_transaction = build_target(engine, dialect, metadata, keep)
            monkeypatch.setattr(dialect_postgresql, "SCRATCH_TRANSACTION_TABLES", 10)
            committed = build_target(engine, dialect, metadata, keep)
            assert committed == in_one_transaction and committed.to_dict() == in_one_transaction.to_dict()
        with engine.connect() as connection:  # the pooled connection the build used
            assert connection.exec_driver_sql("SHOW search_path").scalar() == '"$user", public'
            left = connection.exec_driver_sql("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'schemasync')").all()
        assert left == []
    finally:
        engine.dispose()


def keys_every_way() -> sa.MetaData:
    """Foreign keys of every shape a build that adds them after the tables must name and make as
    CREATE TABLE would: self-referencing, two unnamed on one column (the server numbers the second
    name), to a unique column, deferrable, a cycle create_all breaks with use_alter, one ddl_if()
    leaves out here, and a column of an enum type named without a schema (the lanes' search_path)."""
    metadata = sa.MetaData()
    mood = sa.Enum("happy", "sad", name="mood")
    sa.Table("person", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("mood", mood),
             sa.Column("manager_id", sa.Integer, sa.ForeignKey("person.id")), sa.Column("code", sa.String(10), unique=True))
    sa.Table("pet", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("owner", sa.Integer, sa.ForeignKey("person.id", ondelete="CASCADE"),
                       sa.ForeignKey("shelter.id", ondelete="SET NULL", deferrable=True, initially="DEFERRED")),
             sa.Column("shelter_id", sa.Integer), sa.ForeignKeyConstraint(["shelter_id"], ["shelter.id"]).ddl_if(dialect="mysql"), comment="pets")
    sa.Table("shelter", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("head_code", sa.String(10), sa.ForeignKey("person.code")),
             sa.Column("main_pet", sa.Integer, sa.ForeignKey("pet.id", use_alter=True, name="shelter_main_pet")))
    for n in range(12):  # enough tables for every lane
        sa.Table(f"visit{n}", metadata, sa.Column("pet_id", sa.Integer, sa.ForeignKey("pet.id"), primary_key=True),
                 sa.Column("shelter_id", sa.Integer, sa.ForeignKey("shelter.id"), primary_key=True), sa.Column("mood", mood, index=True))
    return metadata


@requires("scratch_build_in_batches")
def test_a_build_with_its_keys_after_the_tables_reads_back_as_one_with_them_inside(db, monkeypatch):
    """A build that commits as it goes makes its tables side by side without their foreign keys,
    which follow on one connection: the server must name and make every key as it does inside
    CREATE TABLE, and no pooled connection keeps the lanes' settings."""
    metadata = keys_every_way()
    engine = sa.create_engine(db.url, pool_size=8)
    dialect = dialect_for(engine.dialect)
    keep = Scope().keep
    try:
        inside = build_target(engine, dialect, metadata, keep)
        monkeypatch.setattr(dialect_postgresql, "SCRATCH_TRANSACTION_TABLES", 1)
        with engine.connect() as connection:
            script = devdb.build_script(connection, metadata, list(metadata.sorted_tables), None, keys_apart=True)
        assert not any("REFERENCES" in s.sql for s in script if s.table is not None), "no table's statements name another"
        assert sum("REFERENCES" in s.sql for s in script if s.table is None) == 2 + 1 + 1 + 2 * 12 + 1  # the use_alter one too, not the ddl_if one
        apart = build_target(engine, dialect, metadata, keep)
        assert apart == inside and apart.to_dict() == inside.to_dict()
        keys = {key.db_name or key.name for key in apart.table((None, "pet")).foreign_keys}
        assert {"pet_owner_fkey", "pet_owner_fkey1"} <= keys
        connections = [engine.connect() for _ in range(8)]  # every connection the lanes gave back to the pool
        try:
            for connection in connections:
                assert connection.exec_driver_sql("SHOW search_path").scalar() == '"$user", public'
                assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        finally:
            for connection in connections:
                connection.close()
    finally:
        engine.dispose()


@requires("scratch_database")
def test_a_plan_returns_once_its_scratch_place_is_dropped_and_a_failed_build_drops_it_at_once(db, tmp_path, monkeypatch):
    """The scratch place is dropped while the plan is made (workflow.plan_on), never after the plan
    is returned: nothing is left for the next run's locks or for the user to find. A build that
    fails drops it before the error is raised."""
    monkeypatch.setattr(dialect_postgresql, "SCRATCH_TRANSACTION_TABLES", 1)  # PostgreSQL's place that is dropped apart
    made: list[str] = []
    dialect_class = type(dialect_for(sa.create_engine(db.url).dialect))
    scratch = dialect_class.scratch

    @contextmanager
    def spied(self, *args, **kwargs):
        with scratch(self, *args, **kwargs) as (connection, mapping):
            made.extend(name for name in mapping.values() if name)
            yield connection, mapping

    monkeypatch.setattr(dialect_class, "scratch", spied)
    metadata = models()
    settings = Settings(database_url=db.url, models=metadata_module(metadata), base_dir=tmp_path)
    assert workflow.plan(settings).plan.steps
    sa.Table("broken", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("p", sa.Integer, sa.ForeignKey("t000.v")))
    broken = Settings(database_url=db.url, models=metadata_module(metadata), base_dir=tmp_path / "cache-of-the-broken-one")
    with pytest.raises(PlanError, match="cannot be built"):
        workflow.plan(broken)
    assert len(made) == 2
    engine = sa.create_engine(db.url)
    try:
        with engine.connect() as connection:
            if db.dialect == "postgresql":
                left = connection.exec_driver_sql("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%(names)s)", {"names": made}).all()
            else:
                left = connection.exec_driver_sql("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN %(names)s", {"names": tuple(made)}).all()
        assert left == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("connections", [1, 2], ids=["no-lane", "one-lane"])
@requires("scratch_database")
def test_a_role_with_few_connections_builds_with_the_lanes_it_gets(db, monkeypatch, connections):
    """The build's lanes (MariaDB's tables, PostgreSQL's past SCRATCH_TRANSACTION_TABLES) are extra
    connections: a role the server lets open only `connections` builds with those it gets, or on
    its one connection, and reads back what an unlimited role does."""
    monkeypatch.setattr(dialect_postgresql, "SCRATCH_TRANSACTION_TABLES", 1)
    metadata = keys_every_way() if db.dialect == "postgresql" else models()
    url = sa.engine.make_url(db.url)
    user = f"ss_few_{secrets.token_hex(3)}"
    if db.dialect == "postgresql":
        db.execute(f"CREATE ROLE {user} LOGIN CONNECTION LIMIT {connections}", f"GRANT CONNECT, CREATE ON DATABASE {url.database} TO {user}")
        drop = [f"DROP OWNED BY {user}", f"DROP ROLE {user}"]
    else:
        db.execute(f"CREATE USER '{user}' WITH MAX_USER_CONNECTIONS {connections}", f"GRANT ALL ON `schemasync\\_scratch\\_%%`.* TO '{user}'",
                   f"GRANT SELECT ON `{url.database}`.* TO '{user}'")
        drop = [f"DROP USER '{user}'"]
    admin, limited = sa.create_engine(db.url), sa.create_engine(url.set(username=user, password=None))
    keep = Scope().keep
    try:
        unlimited = build_target(admin, dialect_for(admin.dialect), metadata, keep)
        few = build_target(limited, dialect_for(limited.dialect), metadata, keep)
        assert few == unlimited and few.to_dict() == unlimited.to_dict()
    finally:
        limited.dispose()
        admin.dispose()
        db.execute(*drop)


def test_a_schema_state_row_larger_than_one_statement_is_written_in_pieces(db, tmp_path, monkeypatch):
    """MySQL/MariaDB refuse statements over max_allowed_packet (16 MB): a plan of thousands of
    tables records more, so large texts are appended a piece at a time (here, small pieces)."""
    monkeypatch.setattr(state, "PIECE", 500)
    spec = metadata_module(models())
    settings = Settings(database_url=db.url, models=spec, base_dir=tmp_path)
    planned = workflow.plan(settings).plan
    workflow.apply(settings, lambda plan: True)
    engine = sa.create_engine(db.url)
    try:
        with engine.connect() as connection:
            row = state.last_applied(connection)
            sql = connection.execute(sa.select(state.state_table.c.sql)).scalar()
    finally:
        engine.dispose()
    recorded = dict(row.snapshot_after)
    built_from = recorded.pop("built_from")  # what the target was built from (the database as the target cache)
    assert recorded == planned.target and len(json.dumps(planned.target)) > 50 * 500
    assert built_from == planned.built_from.stored and len(built_from["keys"]) == len(planned.target["tables"])
    assert [step["sql"] for step in row.operations] == [list(step.sql) for step in planned.steps]
    assert sql == "\n".join(s.rstrip(";") + ";" for s in planned.statements)


def test_progress_is_written_after_every_statement_and_exactly_at_the_end(db, tmp_path, monkeypatch):
    """Without transactional DDL the state row is advanced and committed after every statement, so a
    killed apply says how far it got (test_rollback_kill.py); the finished row says exactly how many ran.
    (Writing it at most every quarter second saved about a fifth of small DDL's time on MariaDB; a
    kill would then leave the count short, so it is not done.)"""
    writes: list[int] = []
    real = state.progress
    monkeypatch.setattr(state, "progress", lambda connection, row_id, done: writes.append(done) or real(connection, row_id, done))
    spec = metadata_module(models())
    settings = Settings(database_url=db.url, models=spec, base_dir=tmp_path)
    report = workflow.apply(settings, lambda plan: True)
    total = len(report.plan.statements)
    if not supports(db, "transactional_ddl"):
        assert writes == list(range(1, total + 1))
    else:
        assert writes == []  # one transaction: all or nothing, no progress to write
    engine = sa.create_engine(db.url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.select(state.state_table.c.steps_done)).scalar() == total
    finally:
        engine.dispose()
