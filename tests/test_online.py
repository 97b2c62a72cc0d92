"""Online mode: changes to busy tables that let writes go on, per dialect, and what a failure leaves.

PostgreSQL builds indexes CONCURRENTLY (outside the transaction), adds keys and checks NOT VALID and
validates them, proves NOT NULL with a validated check, and waits for strong locks at most
`online_lock_timeout`, a bounded number of times. MariaDB names each ALTER's algorithm. SQLite has no
online DDL: the plan is the same. Every test runs against the real servers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from schemasync.config import load_settings
from schemasync.errors import ConfigError
from tests.capabilities import lacks, requires, supports
from tests.conftest import Database, Project
from tests.harness import assert_converged

BEFORE = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("orgs", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(20)))
sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(60)),
    sa.Column("org_id", sa.Integer),
    sa.Column("age", sa.Integer),
    sa.Column("legacy", sa.Integer),
    sa.Index("ix_users_legacy", "legacy"))
"""

AFTER = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("orgs", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String(20), unique=True))
sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(60), nullable=False, index=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id")),
    sa.Column("age", sa.Integer),
    sa.Column("legacy", sa.Integer),
    sa.Column("nick", sa.String(20)),
    sa.CheckConstraint("age >= 0", name="ck_users_age"),
    sa.Index("ux_users_email_org", "email", "org_id", unique=True))
"""

ROWS = (
    "INSERT INTO orgs (id, code) VALUES (1, 'a'), (2, 'b')",
    "INSERT INTO users (id, email, org_id, age, legacy) VALUES (1, 'x@example.com', 1, 30, 7), (2, 'y@example.com', 2, 40, 8)",
)

# The online plan on PostgreSQL, statement for statement: (mode, SQL).
POSTGRESQL_ONLINE = [
    ("online", "DROP INDEX CONCURRENTLY ix_users_legacy"),
    ("transaction", "ALTER TABLE users ADD COLUMN nick VARCHAR(20)"),
    ("transaction", 'ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK ("email" IS NOT NULL) NOT VALID'),
    ("online", "ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null"),
    ("transaction", "ALTER TABLE users ALTER COLUMN email SET NOT NULL"),
    ("transaction", "ALTER TABLE users DROP CONSTRAINT users_email_not_null"),
    ("online", "CREATE UNIQUE INDEX CONCURRENTLY orgs_code_key ON orgs (code)"),
    ("transaction", "ALTER TABLE orgs ADD CONSTRAINT orgs_code_key UNIQUE USING INDEX orgs_code_key"),
    ("transaction", "ALTER TABLE users ADD CONSTRAINT ck_users_age CHECK (age >= 0) NOT VALID"),
    ("online", "ALTER TABLE users VALIDATE CONSTRAINT ck_users_age"),
    ("online", "CREATE INDEX CONCURRENTLY ix_users_email ON users (email)"),
    ("online", "CREATE UNIQUE INDEX CONCURRENTLY ux_users_email_org ON users (email, org_id)"),
    ("transaction", "ALTER TABLE users ADD CONSTRAINT users_org_id_fkey FOREIGN KEY(org_id) REFERENCES orgs (id) NOT VALID"),
    ("online", "ALTER TABLE users VALIDATE CONSTRAINT users_org_id_fkey"),
]

# MariaDB 10.11: the mode each step of the same change runs in (the ALTER names its algorithm).
MYSQL_ONLINE = {
    "drop index ix_users_legacy on users": "inplace",
    "add column users.nick VARCHAR(20)": "instant",
    "alter column users.email: set NOT NULL": "inplace",
    "create unique index code on orgs (code)": "inplace",
    "add check ck_users_age on users: `age` >= 0": "copy",
    "create index ix_users_email on users (email)": "inplace",
    "create unique index ux_users_email_org on users (email, org_id)": "inplace",
    "add foreign key users_ibfk_1 users(org_id) -> orgs(id) (existing rows checked next)": "inplace",
    "validate foreign key users_ibfk_1 on users (dropped again if a row breaks it)": "online",
}


def _config(project: Project, **keys: object) -> None:
    (project.path / "schemasync.yaml").write_text("".join(f"{k}: {v}\n" for k, v in keys.items()))


def _plan(project: Project, models: str, *flags: str) -> dict:
    result = project.cli("plan", "--json", *flags, models=models)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _history(project: Project) -> list[dict]:
    return json.loads(project.cli("history", "--json").output)


def _start(project: Project) -> tuple[str, str]:
    before, after = project.write_models("before", BEFORE), project.write_models("after", AFTER)
    result = project.cli("apply", "--yes", models=before)
    assert result.exit_code == 0, result.output
    project.db.execute(*ROWS)
    return before, after


# --- the plan and its apply, on each dialect ------------------------------------------------------


def test_online_apply_keeps_rows_and_leaves_nothing_to_do(project):
    _, after = _start(project)
    plan = _plan(project, after, "--online")
    modes = {op["summary"]: op["mode"] for op in plan["operations"]}
    if supports(project.db, "concurrent_index_builds"):
        assert [(op["mode"], sql) for op in plan["operations"] for sql in op["sql"]] == POSTGRESQL_ONLINE
    elif supports(project.db, "online_algorithms"):
        assert modes == MYSQL_ONLINE
        sql = {op["summary"]: op["sql"] for op in plan["operations"]}
        assert sql["add column users.nick VARCHAR(20)"] == ["ALTER TABLE users ADD COLUMN nick VARCHAR(20), ALGORITHM=INSTANT"]
        assert sql["create index ix_users_email on users (email)"] == ["CREATE INDEX ix_users_email ON users (email) ALGORITHM=INPLACE LOCK=NONE"]
        assert sql["drop index ix_users_legacy on users"] == ["ALTER TABLE users DROP INDEX ix_users_legacy, ALGORITHM=INPLACE, LOCK=NONE"]
        assert sql["add foreign key users_ibfk_1 users(org_id) -> orgs(id) (existing rows checked next)"] == [
            "SET SESSION foreign_key_checks = 0",
            "ALTER TABLE users ADD CONSTRAINT users_ibfk_1 FOREIGN KEY(org_id) REFERENCES orgs (id), ALGORITHM=INPLACE, LOCK=NONE",
            "SET SESSION foreign_key_checks = 1",
        ]
    else:
        assert set(modes.values()) == {"transaction"}
    assert any(hint.startswith("online mode") for hint in plan["hints"])

    applied = project.cli("apply", "--yes", "--online", models=after)
    assert applied.exit_code == 0, applied.output
    assert project.db.rows("SELECT id, email, org_id, age, legacy, nick FROM users ORDER BY id") == [
        (1, "x@example.com", 1, 30, 7, None), (2, "y@example.com", 2, 40, 8, None)]
    assert_converged(project, after)
    assert _history(project)[0]["status"] == "applied"
    if supports(project.db, "not_valid_constraints"):  # nothing half-done: every constraint validated, the temporary check gone
        assert project.db.scalar("SELECT count(*) FROM pg_constraint WHERE NOT convalidated") == 0
        assert project.db.scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0
        assert project.db.scalar("SELECT count(*) FROM pg_constraint WHERE conname = 'users_email_not_null'") == 0


@requires("concurrent_index_builds", "not_valid_constraints")
def test_the_plan_shows_the_mode_and_the_hash_covers_it(project):
    _, after = _start(project)
    plain, online = _plan(project, after), _plan(project, after, "--online")
    assert plain["hash"] != online["hash"]
    assert {op["mode"] for op in plain["operations"]} == {"transaction"}
    text = project.cli("plan", "--online", models=after).output
    assert "create index ix_users_email on users (email) concurrently [online]" in text
    assert "hint: online mode: steps marked [online]" in text
    sql = project.cli("plan", "--online", "--sql", models=after).output
    assert "-- 14. validate foreign key users_org_id_fkey on users [online]\nALTER TABLE users VALIDATE CONSTRAINT users_org_id_fkey;" in sql

    saved = project.path / "plan.json"
    assert project.cli("plan", "--online", "--out", str(saved), models=after).exit_code == 0
    edited = json.loads(saved.read_text())
    edited["operations"][0]["mode"] = "transaction"  # DROP INDEX CONCURRENTLY cannot run in a transaction
    (project.path / "edited.json").write_text(json.dumps(edited))
    refused = project.cli("apply", "--yes", "--plan", str(project.path / "edited.json"))
    assert refused.exit_code == 1 and "hash does not match" in refused.output
    # A saved online plan runs online without --online: its steps say how.
    applied = project.cli("apply", "--yes", "--plan", str(saved))
    assert applied.exit_code == 0, applied.output
    assert_converged(project, after)


@requires("online_ddl")
def test_config_turns_online_mode_on_and_the_flag_off(project):
    _, after = _start(project)
    _config(project, online="true")
    assert "online" in {op["mode"] for op in _plan(project, after)["operations"]}
    assert {op["mode"] for op in _plan(project, after, "--no-online")["operations"]} == {"transaction"}


@lacks("online_ddl")
def test_sqlite_online_mode_changes_nothing(project):
    _, after = _start(project)
    plain, online = _plan(project, after), _plan(project, after, "--online")
    assert online["hash"] == plain["hash"] and online["operations"] == plain["operations"]
    assert [h for h in online["hints"] if h not in plain["hints"]] == [
        "online mode changes nothing here: this database has no online DDL; the plan runs as usual, in one transaction"]


# --- PostgreSQL: what a failed online step leaves -------------------------------------------------

UNIQUE_EMAIL = AFTER.replace('sa.Index("ux_users_email_org", "email", "org_id", unique=True)', 'sa.Index("ux_users_email_org", "email", unique=True)')


@requires("concurrent_index_builds")
def test_a_failed_concurrent_build_leaves_no_invalid_index(project):
    _start(project)
    project.db.execute("UPDATE users SET email = 'same@example.com'")
    models = project.write_models("unique_email", UNIQUE_EMAIL)
    plan = _plan(project, models, "--online")
    statements = [sql for op in plan["operations"] for sql in op["sql"]]
    failing = statements.index("CREATE UNIQUE INDEX CONCURRENTLY ux_users_email_org ON users (email)") + 1

    # Pre-flight would count the duplicates and refuse first (test_preflight.py): skip it to make the build fail.
    failed = project.cli("apply", "--yes", "--online", "--no-preflight", models=models)
    assert failed.exit_code == 1
    assert f"statement {failing} of {len(statements)} failed: could not create unique index \"ux_users_email_org\"" in failed.output
    assert "Key (email)=(same@example.com) is duplicated." in failed.output
    assert "the INVALID index ux_users_email_org it left was dropped" in failed.output
    assert f"{failing - 1} of {len(statements)} statements were applied and committed" in failed.output
    assert project.db.scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0
    row = _history(project)[0]
    assert (row["status"], row["steps_done"], row["steps_total"]) == ("failed", failing - 1, len(statements))
    assert "INVALID index ux_users_email_org it left was dropped" in row["error"]

    # What is left is exactly what did not run; with the data fixed, the next run finishes.
    left = _plan(project, models, "--online")
    assert [sql for op in left["operations"] for sql in op["sql"]] == statements[failing - 1:]
    project.db.execute("UPDATE users SET email = 'u' || id || '@example.com'")
    assert project.cli("apply", "--yes", "--online", models=models).exit_code == 0
    assert_converged(project, models)


@requires("concurrent_index_builds")
@pytest.mark.parametrize("flags", [(), ("--online",)], ids=["plain", "online"])
def test_an_invalid_index_is_never_taken_for_the_real_one(project, flags):
    """An INVALID index left by someone's failed CREATE INDEX CONCURRENTLY (or a killed apply):
    reflection does not count it, the plan drops it and builds it again."""
    _, after = _start(project)
    project.db.execute("UPDATE users SET email = 'same@example.com', org_id = 1")
    engine = sa.create_engine(project.db.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.exec_driver_sql("CREATE UNIQUE INDEX CONCURRENTLY ux_users_email_org ON users (email, org_id)")
    engine.dispose()
    assert project.db.scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 1

    project.db.execute("UPDATE users SET email = 'u' || id || '@example.com'")
    plan = _plan(project, after, *flags)
    ops = [(op["op"], op["summary"]) for op in plan["operations"]]
    concurrently = " concurrently" if flags else ""
    assert ("drop_index", f"drop index ux_users_email_org on users{concurrently}") in ops
    assert ("create_index", f"create unique index ux_users_email_org on users (email, org_id){concurrently}") in ops
    assert any("ux_users_email_org on users is INVALID" in hint for hint in plan["hints"])
    assert project.cli("check", models=after).exit_code == 2
    assert project.cli("apply", "--yes", *flags, models=after).exit_code == 0
    assert project.db.scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0
    assert_converged(project, after)


@requires("not_valid_constraints")
def test_a_failed_validation_drops_the_not_valid_key(project):
    _, after = _start(project)
    project.db.execute("UPDATE users SET org_id = 99 WHERE id = 2")
    failed = project.cli("apply", "--yes", "--online", "--no-preflight", models=after)
    assert failed.exit_code == 1
    assert "statement 14 of 14 failed: insert or update on table \"users\" violates foreign key constraint \"users_org_id_fkey\"" in failed.output
    assert "(Key (org_id)=(99) is not present in table \"orgs\".)" in failed.output
    assert "the NOT VALID constraint users_org_id_fkey on users was dropped" in failed.output
    assert project.db.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == 0
    assert _history(project)[0]["steps_done"] == 13
    left = _plan(project, after, "--online")
    assert [op["op"] for op in left["operations"]] == ["add_foreign_key", "validate_constraint"]

    project.db.execute("UPDATE users SET org_id = 2 WHERE id = 2")
    assert project.cli("apply", "--yes", "--online", models=after).exit_code == 0
    assert_converged(project, after)


MARIADB_VALIDATE = """BEGIN NOT ATOMIC
  DECLARE broken BIGINT;
  SELECT COUNT(*) INTO broken FROM users c LEFT JOIN orgs p ON p.id = c.org_id WHERE c.org_id IS NOT NULL AND p.id IS NULL;
  IF broken > 0 THEN
    ALTER TABLE users DROP FOREIGN KEY users_ibfk_1, DROP INDEX users_ibfk_1;
    SET @schemasync_message = CONCAT('foreign key users_ibfk_1 on users: ', broken, ' rows refer to no row of orgs; the key was dropped again');
    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = @schemasync_message;
  END IF;
END"""


@requires("online_algorithms")
def test_mariadb_checks_the_rows_under_a_key_it_added_unchecked(project):
    """The key goes in place with foreign_key_checks off; the next step finds the orphans, drops the
    key and its index again, and fails saying how many rows."""
    _, after = _start(project)
    project.db.execute("UPDATE users SET org_id = 99")
    plan = _plan(project, after, "--online")
    validate = [op for op in plan["operations"] if op["op"] == "validate_constraint"]
    assert [op["sql"] for op in validate] == [[MARIADB_VALIDATE]]
    total = sum(len(op["sql"]) for op in plan["operations"])

    failed = project.cli("apply", "--yes", "--online", "--no-preflight", models=after)
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert f"statement {total} of {total} failed: foreign key users_ibfk_1 on users: 2 rows refer to no row of orgs; the key was dropped again" in failed.output
    assert project.db.rows("SHOW INDEX FROM users WHERE Key_name = 'users_ibfk_1'") == []
    assert project.db.scalar("SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()") == 0
    assert _history(project)[0]["steps_done"] == total - 1
    left = _plan(project, after, "--online")
    assert [op["op"] for op in left["operations"]] == ["add_foreign_key", "validate_constraint"]

    project.db.execute("UPDATE users SET org_id = id")
    assert project.cli("apply", "--yes", "--online", models=after).exit_code == 0
    assert_converged(project, after)


# --- waiting for locks: lock_timeout and bounded retries ----------------------------------------

ADD_COLUMN = BEFORE.replace('sa.Index("ix_users_legacy", "legacy")', 'sa.Column("extra", sa.Integer), sa.Index("ix_users_legacy", "legacy")')

WAITING = {
    "postgresql": "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE users%%'",
    "mysql": "SELECT count(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table metadata lock' AND INFO LIKE 'ALTER TABLE users%%'",
}


@contextmanager
def holding_a_lock(db: Database, release_after_waits: int | None) -> Iterator[Callable[[], int]]:
    """Hold a lock on `users` from a second connection (an open transaction that read it), while a
    watcher counts how many times a schemasync ALTER started waiting for it. With
    `release_after_waits`, let go once that many waits were seen; else hold until the block ends."""
    holder = sa.create_engine(db.url)
    watcher = sa.create_engine(db.url, isolation_level="AUTOCOMMIT")
    connection = holder.connect()
    connection.exec_driver_sql("SELECT * FROM users").fetchall()  # ACCESS SHARE / a shared metadata lock, until rollback
    waits, stop = [0], threading.Event()

    def watch() -> None:
        was_waiting = False
        with watcher.connect() as watching:
            while not stop.is_set():
                waiting = bool(watching.exec_driver_sql(WAITING[db.dialect]).scalar())
                waits[0] += waiting and not was_waiting
                was_waiting = waiting
                if release_after_waits is not None and waits[0] >= release_after_waits and connection.in_transaction():
                    connection.rollback()
                time.sleep(0.02)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        yield lambda: waits[0]
    finally:
        stop.set()
        thread.join()
        connection.rollback()
        connection.close()
        holder.dispose()
        watcher.dispose()


LOCK_TIMEOUT = {"postgresql": "300ms", "mysql": "1s"}  # MariaDB's lock_wait_timeout is in whole seconds
ATTEMPTS = {"postgresql": 3, "mysql": 2}


def _lock_config(project: Project, attempts: int) -> None:
    _config(project, online="true", online_lock_timeout=LOCK_TIMEOUT[project.db.dialect], online_attempts=attempts)


@requires("lock_timeouts")
def test_a_step_waiting_for_a_lock_gives_up_and_tries_again(project):
    _start(project)
    models = project.write_models("extra", ADD_COLUMN)
    _lock_config(project, attempts=4)
    with holding_a_lock(project.db, release_after_waits=2) as waits:
        applied = project.cli("apply", "--yes", models=models)
    assert applied.exit_code == 0, applied.output
    assert waits() >= 2  # it waited, gave up, and waited again before the lock came free
    assert _has_column(project.db, "users", "extra")
    assert_converged(project, models)


@requires("lock_timeouts")
def test_a_lock_held_for_ever_fails_cleanly_after_the_attempts(project):
    _start(project)
    models = project.write_models("extra", ADD_COLUMN)
    attempts = ATTEMPTS[project.db.dialect]
    _lock_config(project, attempts=attempts)
    with holding_a_lock(project.db, release_after_waits=None) as waits:
        failed = project.cli("apply", "--yes", models=models)
        seen = waits()
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert f"gave up after {attempts} attempts" in failed.output
    assert "0 of 1 statements were applied and committed" in failed.output
    assert seen == attempts
    assert not _has_column(project.db, "users", "extra")
    row = _history(project)[0]
    assert (row["status"], row["steps_done"]) == ("failed", 0)


def _has_column(db: Database, table: str, column: str) -> bool:
    engine = db.engine()
    try:
        return column in [c["name"] for c in sa.inspect(engine).get_columns(table)]
    finally:
        engine.dispose()


# --- MariaDB: which change runs with which algorithm -----------------------------------------------

MATRIX_BEFORE = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("t", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("a", sa.Integer),
    sa.Column("b", sa.String(20)),
    sa.Column("c", sa.Integer),
    sa.Column("d", sa.Integer, server_default="1"),
    sa.Column("e", sa.Integer),
    sa.Column("f", sa.Integer),
    sa.Column("p", sa.Integer, sa.ForeignKey("parent.id", name="fk_t_p")),
    sa.Column("h", sa.Integer),
    sa.Index("ix_t_e", "e"),
    sa.CheckConstraint("f > 0", name="ck_t_f"),
    comment="old")
sa.Table("u_old", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Integer, nullable=False))
"""

MATRIX_AFTER = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table("t", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("a2", sa.Integer, info={"schemasync": {"renamed_from": "a"}}),
    sa.Column("b", sa.String(20), nullable=False),
    sa.Column("c", sa.BigInteger),
    sa.Column("d", sa.Integer, server_default="2"),
    sa.Column("e", sa.Integer, sa.ForeignKey("parent.id", name="fk_t_e")),
    sa.Column("f", sa.Integer),
    sa.Column("p", sa.Integer),
    sa.Column("g", sa.Integer),
    sa.Index("ix_t_a2", "a2"),
    sa.Index("ux_t_c", "c", unique=True),
    sa.CheckConstraint("d > 0", name="ck_t_d"),
    comment="new")
sa.Table("u", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("x", sa.Integer, nullable=True),
    info={"schemasync": {"renamed_from": "u_old"}})
"""

MATRIX_MODES = {
    "rename table u_old to u": "instant",
    "alter column u.x: drop NOT NULL": "inplace",
    "rename column t.a to a2": "instant",
    "drop foreign key fk_t_p on t(p)": "instant",
    "drop index ix_t_e on t": "inplace",
    "drop check ck_t_f on t": "instant",
    "alter column t.b: set NOT NULL": "inplace",
    "alter column t.c: type INTEGER -> BIGINT": "copy",
    "alter column t.d: default 1 -> 2": "instant",
    "set comment on table t": "instant",
    "add column t.g INTEGER": "instant",
    "drop column t.h": "instant",
    "keep the values of t.(h) by (id) in schemasync_backup_2_t__columns": "transaction",
    "create index ix_t_a2 on t (a2)": "inplace",
    "create unique index ux_t_c on t (c)": "inplace",
    "add check ck_t_d on t: `d` > 0": "copy",
    "add foreign key fk_t_e t(e) -> parent(id) (existing rows checked next)": "inplace",
    "validate foreign key fk_t_e on t (dropped again if a row breaks it)": "online",
    "drop index fk_t_p on t": "inplace",
}


@requires("online_algorithms")
def test_mariadb_runs_each_change_with_the_algorithm_the_plan_names(project):
    """The server refuses an ALTER whose algorithm it cannot honour: applying proves each line."""
    before, after = project.write_models("before", MATRIX_BEFORE), project.write_models("after", MATRIX_AFTER)
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute("INSERT INTO parent (id) VALUES (1)", "INSERT INTO t (id, a, b, c, d, e, f, p, h) VALUES (1, 1, 'x', 3, 4, 1, 6, 1, 8)")
    plan = _plan(project, after, "--online")
    assert {op["summary"]: op["mode"] for op in plan["operations"]} == MATRIX_MODES
    applied = project.cli("apply", "--yes", "--online", "--allow-destructive", models=after)
    assert applied.exit_code == 0, applied.output
    assert project.db.rows("SELECT id, a2, b, c, d, e, f, p, g FROM t") == [(1, 1, "x", 3, 4, 1, 6, 1, None)]
    assert_converged(project, after)


PACKED = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("packed", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.String(20)), mysql_row_format="COMPRESSED")
"""


@requires("online_algorithms")
def test_mariadb_says_when_it_cannot_run_a_step_online(project):
    """ROW_FORMAT=COMPRESSED tables take no INSTANT column change: the step fails before it runs, clearly."""
    project.db.execute("CREATE TABLE packed (id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY) ROW_FORMAT=COMPRESSED", "INSERT INTO packed (id) VALUES (1)")
    models = project.write_models("packed", PACKED)
    plan = _plan(project, models, "--online")
    assert [(op["summary"], op["mode"]) for op in plan["operations"]] == [("add column packed.note VARCHAR(20)", "instant")]
    failed = project.cli("apply", "--yes", "--online", models=models)
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "the server cannot run this step online (ALGORITHM=INSTANT is not supported for this operation. Try ALGORITHM=INPLACE)" in failed.output
    assert "without online mode the server chooses the algorithm itself" in failed.output
    assert not _has_column(project.db, "packed", "note")
    assert _history(project)[0]["status"] == "failed"
    assert project.cli("apply", "--yes", models=models).exit_code == 0  # the server picks INPLACE itself
    assert project.db.rows("SELECT id, note FROM packed") == [(1, None)]
    assert_converged(project, models)


# --- configuration ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "seconds"), [("2s", 2.0), ("500ms", 0.5), ("3", 3.0), ("1.5", 1.5)])
def test_online_lock_timeout_takes_a_unit(tmp_path, written, seconds):
    (tmp_path / "schemasync.yaml").write_text(f"online: true\nonline_lock_timeout: {written}\nonline_attempts: 5\n")
    settings = load_settings(cwd=tmp_path, environ={})
    assert (settings.online, settings.online_lock_timeout, settings.online_attempts) == (True, seconds, 5)


@pytest.mark.parametrize(("line", "message"), [
    ("online: yes please", "config key online must be true or false"),
    ("online_lock_timeout: soon", "config key online_lock_timeout must be a duration"),
    ("online_lock_timeout: 0", "config key online_lock_timeout must be positive"),
    ("online_attempts: 0", "config key online_attempts must be a whole number (1 or more)"),
])
def test_bad_online_settings_are_one_line_errors(tmp_path, line, message):
    (tmp_path / "schemasync.yaml").write_text(line + "\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(cwd=tmp_path, environ={})
