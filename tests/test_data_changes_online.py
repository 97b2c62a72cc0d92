"""Declared fills in online mode: batches by primary key range, each its own transaction, and a
killed apply resumed by the next one (only rows still NULL are filled; none lost, none twice).

PostgreSQL and MariaDB fill in batches (`batched` steps); PostgreSQL makes the column NOT NULL
through a validated CHECK. SQLite has no online mode: its fill is the rebuild's copy, in the apply's
one transaction, so a kill leaves nothing behind and the next apply does all of it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from schemasync.errors import ExitCode
from tests.harness import assert_converged

ROOT = Path(__file__).resolve().parent.parent
ROWS = 20_000
BATCH = 1_000

BEFORE = """
import sqlalchemy as sa
metadata = sa.MetaData()
items = sa.Table("items", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("qty", sa.Integer, nullable=False))
"""
AFTER = BEFORE + """
items.append_column(sa.Column("total", sa.Integer, nullable=False, info={"schemasync": {"backfill": "qty * 10 + 1"}}))
"""


def _seed(project, rows: int = ROWS) -> str:
    (project.path / "schemasync.yaml").write_text(f"online: true\nfill_batch_size: {BATCH}\n")
    before = project.write_models("before", BEFORE)
    assert project.cli("apply", "--yes", models=before).exit_code == ExitCode.OK
    # Keys with gaps (every third number), so ranges are by key, not by count from 1.
    values = ", ".join(f"({3 * n}, {n})" for n in range(rows))
    project.db.execute(f"INSERT INTO items (id, qty) VALUES {values}")
    return before


def _all_filled(project, rows: int = ROWS) -> None:
    found = project.db.rows("SELECT id, qty, total FROM items ORDER BY id")
    assert found == [(3 * n, n, 10 * n + 1) for n in range(rows)]


def test_online_fill_runs_in_batches_and_not_null_is_proved_by_a_check(project):
    _seed(project, 2_500)
    after = project.write_models("after", AFTER)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    steps = [(s["op"], s["mode"]) for s in planned["operations"]]
    if project.db.dialect == "sqlite":
        assert steps == [("rebuild_table", "transaction")], steps
    else:
        assert ("fill_column", "batched") in steps, steps
        fill = next(s for s in planned["operations"] if s["op"] == "fill_column")
        assert f"in batches of {BATCH} rows by id" in fill["summary"] and f"LIMIT {BATCH}" in fill["sql"][1]
    if project.db.dialect == "postgresql":
        assert [op for op, _ in steps] == ["add_column", "fill_column", "add_check", "validate_constraint", "alter_column", "drop_check"], steps
    applied = project.cli("apply", "--yes", models=after)
    assert applied.exit_code == ExitCode.OK, applied.output
    assert_converged(project, after)
    _all_filled(project, 2_500)
    assert project.cli("rollback", "--yes").exit_code == ExitCode.OK
    assert "total" not in project.cli("inspect").output


# Applies through the workflow API and SIGKILLs itself once the fill has done `k` batches (or, for a
# fill without batches, just before its UPDATE or the SQLite rebuild's copy runs). argv: models, k.
KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from schemasync import workflow
    from schemasync.config import load_settings

    models, k = sys.argv[1], int(sys.argv[2])
    batches = 0

    def on_statement(number, sql):
        global batches
        if sql.startswith("fill "):
            batches += 1
        if batches >= k or sql.startswith(("INSERT INTO _schemasync_new_", "UPDATE")):
            os.kill(os.getpid(), signal.SIGKILL)

    settings = load_settings(models=models, cwd=Path.cwd())
    workflow.apply(settings, confirm=lambda plan: True, on_statement=on_statement)
    print("finished", flush=True)
""")


def test_a_fill_killed_mid_way_is_resumed_by_the_next_apply(project):
    _seed(project)
    after = project.write_models("after", AFTER)
    (project.path / "schemasync.yaml").write_text(f"online: true\nfill_batch_size: {BATCH}\ndatabase_url: {project.db.url}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", KILLER, after, "5"], cwd=project.path, env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    if project.db.dialect != "sqlite":
        # Five batches committed, the rest still NULL; `history` says how far the fill got.
        assert project.db.scalar("SELECT COUNT(*) FROM items WHERE total IS NOT NULL") == 5 * BATCH
        shown = project.cli("history", "--json")
        assert shown.exit_code == ExitCode.OK, shown.output
        assert f"{5 * BATCH} rows filled" in shown.output, shown.output
        assert f"{5 * BATCH} rows filled, keys up to" in project.cli("history").output.replace("\n", " ")
    resumed = project.cli("apply", "--yes", models=after)
    assert resumed.exit_code == ExitCode.OK, resumed.output
    assert_converged(project, after)
    _all_filled(project)
    if project.db.dialect != "sqlite":
        history = json.loads(project.cli("history", "--json").output)
        assert any(f"{5 * BATCH} rows filled" in (row.get("error") or "") for row in history), history


def test_online_conversion_keeps_every_value_converted(project):
    _seed(project, 500)
    converted = BEFORE.replace('sa.Column("qty", sa.Integer, nullable=False)', 'sa.Column("qty", sa.BigInteger, nullable=False, info={"schemasync": {"using": "qty * 3"}})')
    after = project.write_models("after", converted)
    applied = project.cli("apply", "--yes", "--allow-destructive", models=after)
    assert applied.exit_code == ExitCode.OK, applied.output
    assert_converged(project, after)
    assert project.db.rows("SELECT id, qty FROM items ORDER BY id") == [(3 * n, 3 * n) for n in range(500)]
    assert project.cli("rollback", "--yes").exit_code == ExitCode.OK
    assert project.db.rows("SELECT id, qty FROM items ORDER BY id") == [(3 * n, n) for n in range(500)]


NULLABLE = BEFORE + """
items.append_column(sa.Column("total", sa.Integer, info={"schemasync": {"backfill": "qty * 10 + 1"}}))
"""


@pytest.mark.parametrize("mode", ["online", "plain"])
def test_a_nullable_fill_killed_mid_way_is_resumed_by_the_next_apply(project, mode):
    """The column is there and nullable, as the models want it, so the diff has nothing for it: the
    killed apply's recorded steps say its fill did not finish, and the next plan fills the rest."""
    if mode == "online" and project.db.dialect == "sqlite":
        pytest.skip("SQLite has no online mode (the plain case covers it)")
    _seed(project)
    after = project.write_models("after", NULLABLE)
    online = "true" if mode == "online" else "false"
    (project.path / "schemasync.yaml").write_text(f"online: {online}\nfill_batch_size: {BATCH}\ndatabase_url: {project.db.url}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", KILLER, after, "5"], cwd=project.path, env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    filled = project.db.scalar("SELECT COUNT(*) FROM items WHERE total IS NOT NULL") if _has_total(project) else None
    committed = project.db.dialect != "sqlite" and (mode == "online" or project.db.dialect == "mysql")
    if mode == "online":
        assert filled == 5 * BATCH, filled
        assert f"{5 * BATCH} rows filled, keys up to" in project.cli("history").output.replace("\n", " ")
    elif committed:  # MariaDB committed the ADD COLUMN; killed before its UPDATE
        assert filled == 0, filled
    else:  # one transaction: nothing stayed
        assert filled is None
    if committed:
        planned = json.loads(project.cli("plan", "--json", models=after).output)
        assert [s["op"] for s in planned["operations"]] == ["fill_column"], planned["operations"]
        assert any("did not finish filling items.total" in hint for hint in planned["hints"]), planned["hints"]
        assert project.cli("check", models=after).exit_code != ExitCode.OK  # not in sync until the rows are filled
    resumed = project.cli("apply", "--yes", models=after)
    assert resumed.exit_code == ExitCode.OK, resumed.output
    assert_converged(project, after)
    _all_filled(project)
    history = json.loads(project.cli("history", "--json").output)
    assert history[0]["status"] == "applied", history
    if mode == "online":
        assert any(f"{5 * BATCH} rows filled" in (row.get("error") or "") for row in history), history
    # Resumed once: the next plan has nothing left.
    assert json.loads(project.cli("plan", "--json", models=after).output)["operations"] == []


def _has_total(project) -> bool:
    return "total" in project.cli("inspect").output
