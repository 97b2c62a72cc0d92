"""A killed apply: the process running it dies (SIGKILL) in the middle of the plan.

The apply runs in a subprocess through the workflow API; its `on_statement` callback kills the
process just before statement k, after the first destructive step has run. PostgreSQL and
SQLite are then fully before (the transaction dies with the session: no schema change, no
schema_state row). MariaDB has committed k - 1 statements and left its row `running`; with the
session gone the migration lock is free, so the row is shown and then recorded as `interrupted`
with its exact `steps_done`, and both `apply` (finish the job) and `rollback` work from there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from schemasync import history
from schemasync.config import load_settings
from tests.capabilities import requires, supports
from tests.test_rollback import V1, V2, _seed, _tables, _v1_data

ROOT = Path(__file__).resolve().parent.parent

KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from schemasync import history, workflow
    from schemasync.config import load_settings

    url, models, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def on_statement(number, sql):
        if number == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    settings = load_settings(database_url=url, models=models or None, cwd=Path.cwd())
    if models:
        workflow.apply(settings, confirm=lambda plan: True, allow_destructive=True, on_statement=on_statement)
    else:
        history.rollback(settings, confirm=lambda undone, plan: True, on_statement=on_statement)
    print("it finished: it was never killed")
""")


def _kill_at(steps: list[tuple[bool, int]]) -> int:
    """The statement just after the first destructive step (so a drop has run where DDL commits);
    `steps` are (destructive, number of statements)."""
    done = 0
    for destructive, statements in steps:
        done += statements
        if destructive:
            break
    assert done < sum(n for _, n in steps)
    return done + 1


def _apply_kill_at(project, models: str) -> int:
    plan = json.loads(project.cli("plan", "--json", models=models).output)
    return _kill_at([(step["destructive"], len(step["sql"])) for step in plan["operations"]])


def _rollback_kill_at(project, where: str) -> int:
    """After the rollback's first drop, or just before its first restore (a table re-created, still empty)."""
    settings = load_settings(database_url=project.db.url, cwd=project.path)
    steps = history.rollback(settings, confirm=lambda undone, plan: True, sql_only=True).steps[0].plan.steps
    if where == "before restore":
        return 1 + sum(len(step.sql) for step in steps[: next(i for i, step in enumerate(steps) if step.op.startswith("restore_"))])
    return _kill_at([(step.destructive, len(step.sql)) for step in steps])


def _killed(project, models: str, kill_at: int) -> None:
    """Run `apply` of `models` (or `rollback` when models is empty) in a process killed at statement `kill_at`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(project.path)])}
    done = subprocess.run(
        [sys.executable, "-c", KILLER, project.db.url, models, str(kill_at)],
        cwd=project.path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)
    _wait_until_the_server_noticed(project.db)


def _wait_until_the_server_noticed(db) -> None:
    """The server ends the dead session (and frees its lock) when it sees the socket close."""
    if not supports(db, "concurrent_sessions"):
        return
    engine = sa.create_engine(db.url)
    try:
        with engine.connect() as connection:
            from schemasync.dialects import dialect_for

            dialect = dialect_for(engine.dialect)
            deadline = time.monotonic() + 20
            while not dialect.migration_lock_free(connection):
                assert time.monotonic() < deadline, "the killed session still holds the migration lock"
                connection.rollback()
                time.sleep(0.1)
    finally:
        engine.dispose()


def _start(project) -> tuple[str, str, dict, int]:
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    before = _v1_data(project.db)
    kill_at = _apply_kill_at(project, v2)
    _killed(project, v2, kill_at)
    return v1, v2, before, kill_at


def _history(project) -> list[dict]:
    return json.loads(project.cli("history", "--json").output)


def _assert_state_after_the_kill(project, v1: str, before: dict, kill_at: int) -> None:
    history = _history(project)
    if not supports(project.db, "transactional_ddl"):
        assert [(h["id"], h["kind"], h["status"]) for h in history] == [(2, "apply", "interrupted"), (1, "apply", "applied")]
        assert history[0]["steps_done"] == kill_at - 1 and "interrupted" in history[0]["error"]
        assert project.cli("check", models=v1).exit_code == 2  # the committed steps are there
        assert "interrupted" in project.cli("history").output
    else:  # the transaction died with the session
        assert [(h["id"], h["status"]) for h in history] == [(1, "applied")]
        assert project.cli("check", models=v1).exit_code == 0
        assert _v1_data(project.db) == before
        assert not any(t.startswith("schemasync_backup_") for t in _tables(project.db))


def test_after_a_killed_apply_apply_finishes_the_job_and_rollback_undoes_it(project):
    v1, v2, before, kill_at = _start(project)
    _assert_state_after_the_kill(project, v1, before, kill_at)

    applied = project.cli("apply", "--yes", "--allow-destructive", models=v2)
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=v2).exit_code == 0
    history = _history(project)
    assert history[0]["status"] == "applied"
    if not supports(project.db, "transactional_ddl"):  # the interrupted row is recorded as such once an apply held the lock
        assert history[1]["status"] == "interrupted"
        assert project.db.scalar("SELECT status FROM schema_state WHERE id = 2") == "interrupted"

    # Back to v1 with every row and value: through the interrupted apply too, where it committed steps.
    rolled = project.cli("rollback", "--yes", "--to", "2")
    assert rolled.exit_code == 0, rolled.output
    check = project.cli("check", models=v1)
    assert check.exit_code == 0, check.output
    assert _v1_data(project.db) == before


def test_after_a_killed_apply_rollback_works(project):
    v1, _, before, kill_at = _start(project)
    _assert_state_after_the_kill(project, v1, before, kill_at)

    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    history = _history(project)
    if not supports(project.db, "transactional_ddl"):  # the interrupted apply is undone: v1 with its data
        assert [(h["kind"], h["status"]) for h in history[:2]] == [("rollback", "applied"), ("apply", "rolled back")]
    else:  # nothing of the killed apply is left: the rollback undoes apply #1, keeping its rows ...
        assert [(h["kind"], h["status"]) for h in history] == [("rollback", "applied"), ("apply", "rolled back")]
        assert project.cli("check", models=v1).exit_code == 2
        # ... which the next apply of v1 brings back.
        assert project.cli("apply", "--yes", models=v1).exit_code == 0
    check = project.cli("check", models=v1)
    assert check.exit_code == 0, check.output
    assert _v1_data(project.db) == before


def _after_v2(project) -> dict:
    return {
        "audit": project.db.rows("SELECT id, note FROM audit ORDER BY id"),
        "users": project.db.rows("SELECT id, email_address, nickname FROM users ORDER BY id"),
    }


@pytest.mark.parametrize("where", ["after a drop", "before restore"])
@pytest.mark.parametrize("then", ["rollback", "apply"])
def test_after_a_killed_rollback_rollback_and_roll_forward_work(project, then, where):
    """A rollback killed half-way: MariaDB undoes the half-done rollback first, then the apply."""
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    before = _v1_data(project.db)
    assert project.cli("apply", "--yes", "--allow-destructive", models=v2).exit_code == 0
    project.db.execute(  # written after v2: the rollback keeps them, a roll forward brings them back
        "INSERT INTO audit (id, note) VALUES (1, 'written after v2')", "UPDATE users SET nickname = 'countess' WHERE id = 1")
    written = _after_v2(project)

    _killed(project, "", _rollback_kill_at(project, where))
    latest = _history(project)[0]
    if not supports(project.db, "transactional_ddl"):
        assert (latest["kind"], latest["status"]) == ("rollback", "interrupted") and latest["steps_done"] > 0
        assert project.cli("check", models=v2).exit_code == 2
    else:
        assert (latest["kind"], latest["status"]) == ("apply", "applied")
        assert project.cli("check", models=v2).exit_code == 0

    if then == "rollback":
        rolled = project.cli("rollback", "--yes")
        assert rolled.exit_code == 0, rolled.output
        check = project.cli("check", models=v1)
        assert check.exit_code == 0, check.output
        assert _v1_data(project.db) == before
        forward = project.cli("apply", "--yes", "--allow-destructive", models=v2)
    else:
        forward = project.cli("apply", "--yes", "--allow-destructive", models=v2)
    assert forward.exit_code == 0, forward.output
    check = project.cli("check", models=v2)
    assert check.exit_code == 0, check.output
    assert _after_v2(project) == written


@requires("concurrent_sessions")  # SQLite: a running row is never visible outside its own transaction, so never stale
def test_the_migration_lock_is_seen_held_by_a_live_apply_and_free_after_it(project):
    """What tells a dead session's `running` row from a live one: the lock a live apply holds."""
    engine = sa.create_engine(project.db.url)
    try:
        from schemasync.dialects import dialect_for

        dialect = dialect_for(engine.dialect)
        with engine.connect() as holder, engine.connect() as reader:
            with dialect.migration_transaction(holder, 5):
                assert dialect.migration_lock_free(reader) is False
            reader.rollback()
            assert dialect.migration_lock_free(reader) is True
    finally:
        engine.dispose()
