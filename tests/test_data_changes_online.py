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


# --- a NOT NULL column with a server default: MariaDB adds it at once and fills its rows by key -------

DEFAULTED = BEFORE + """
items.append_column(sa.Column("total", sa.Integer, nullable=False, server_default="0", info={"schemasync": {"backfill": "qty * 10 + 1"}}))
"""

# The step MariaDB's online plan fills the rows with (render.py): its progress read, the last key
# when it begins and that progress begun, then per range its keys, its UPDATE, the last key filled
# recorded in the same transaction, and the next range's start.
BY_KEY_SQL = [
    "SELECT last_key, done_key, rows_filled FROM schemasync_fill WHERE table_name = 'items' AND column_name = 'total' AND state_id IN (:state_id)",
    "SELECT id FROM items ORDER BY id DESC LIMIT 1",
    "DELETE FROM schemasync_fill WHERE table_name = 'items' AND column_name = 'total'",
    "INSERT INTO schemasync_fill (table_name, column_name, state_id, last_key, done_key, rows_filled) "
    "VALUES ('items', 'total', :state_id, :last_key, NULL, 0)",
    "SELECT id FROM items WHERE id <= :last ORDER BY id LIMIT 1",
    f"SELECT id FROM (SELECT id FROM items WHERE id >= :low AND id <= :last ORDER BY id LIMIT {BATCH}) AS batch ORDER BY id DESC LIMIT 1",
    "UPDATE items SET total = (qty * 10 + 1) WHERE id >= :low AND id <= :high AND total = 0",
    "UPDATE schemasync_fill SET done_key = :done, rows_filled = :rows WHERE table_name = 'items' AND column_name = 'total'",
    "SELECT id FROM items WHERE id > :high AND id <= :last ORDER BY id LIMIT 1",
]


def test_a_not_null_column_with_a_default_is_added_at_once_and_filled_by_key_on_mariadb(project):
    """No MODIFY ... NOT NULL (a table rebuild on InnoDB): the column is added NOT NULL with its
    default, ALGORITHM=INSTANT, and its rows filled by key. PostgreSQL keeps its plan."""
    _seed(project, 2_500)
    after = project.write_models("after", DEFAULTED)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    steps = [(s["op"], s["mode"]) for s in planned["operations"]]
    if project.db.dialect == "mysql":
        assert steps == [("add_column", "instant"), ("fill_rows", "batched")], steps
        add, fill = planned["operations"]
        assert add["sql"] == ["ALTER TABLE items ADD COLUMN total INTEGER NOT NULL DEFAULT 0, ALGORITHM=INSTANT"], add["sql"]
        assert fill["summary"] == (f"fill items.total from (qty * 10 + 1) in the rows there when the fill began, in batches of {BATCH} rows by id, "
                                   "the last key filled kept in schemasync_fill"), fill["summary"]
        assert fill["sql"] == BY_KEY_SQL, fill["sql"]
        assert not any("rebuilds the table" in hint for hint in planned["hints"]), planned["hints"]
        shown = project.cli("plan", "--sql", models=after).output
        assert "fill items.total" in shown and BY_KEY_SQL[6] in shown and "MODIFY" not in shown, shown
    elif project.db.dialect == "postgresql":
        assert [op for op, _ in steps] == ["add_column", "alter_column", "fill_column", "add_check", "validate_constraint", "alter_column", "drop_check"], steps
    applied = project.cli("apply", "--yes", models=after)
    assert applied.exit_code == ExitCode.OK, applied.output
    assert_converged(project, after)
    _all_filled(project, 2_500)
    if project.db.dialect == "mysql":
        assert project.db.rows("SELECT table_name, column_name, last_key, done_key, rows_filled FROM schemasync_fill") == [
            ("items", "total", f"[{3 * 2499}]", f"[{3 * 2499}]", 2_500)]
    # Rows written after the apply take the default, as the models say.
    project.db.execute("INSERT INTO items (id, qty) VALUES (100000, 4)")
    assert project.db.scalar("SELECT total FROM items WHERE id = 100000") == 0
    assert project.cli("rollback", "--yes").exit_code == ExitCode.OK
    assert "total" not in project.cli("inspect").output


def test_a_mariadb_not_null_column_without_a_default_keeps_the_fill_then_not_null(project):
    """Without a server default, an insert that leaves the column out would fail once it is NOT NULL:
    the column is added nullable, filled, then required (a rebuild), and the plan says so."""
    if project.db.dialect != "mysql":
        pytest.skip("MariaDB's plan (the others are covered above)")
    _seed(project, 100)
    planned = json.loads(project.cli("plan", "--json", models=project.write_models("after", AFTER)).output)
    assert [s["op"] for s in planned["operations"]] == ["add_column", "fill_column", "alter_column"], planned["operations"]
    assert any("items.total has no server default" in hint and "rebuilds the table" in hint for hint in planned["hints"]), planned["hints"]


def test_a_fill_by_key_killed_mid_way_is_continued_from_its_last_key(project):
    """SIGKILLed after five batches, then writers change rows on both sides of where it stopped and add
    rows; the next apply (itself killed after two more batches on MariaDB, then a third) fills exactly
    the rows it had not reached: a row a writer changed after its batch keeps the writer's value, a
    row added after the fill began keeps what it was written with."""
    _seed(project)
    after = project.write_models("after", DEFAULTED)
    (project.path / "schemasync.yaml").write_text(f"online: true\nfill_batch_size: {BATCH}\ndatabase_url: {project.db.url}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def kill_after(batches: int) -> None:
        killed = subprocess.run([sys.executable, "-c", KILLER, after, str(batches)], cwd=project.path, env=env, capture_output=True, text=True, timeout=300)
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    kill_after(5)
    first = None
    if project.db.dialect == "sqlite":  # one transaction: nothing stayed
        assert not _has_total(project)
    else:
        assert project.db.scalar("SELECT COUNT(*) FROM items WHERE total = qty * 10 + 1") == 5 * BATCH
        assert f"{5 * BATCH} rows filled, keys up to {3 * (5 * BATCH - 1)}" in project.cli("history").output.replace("\n", " ")
        first = json.loads(project.cli("history", "--json").output)[0]["id"]
        planned = json.loads(project.cli("plan", "--json", models=after).output)
        assert project.cli("check", models=after).exit_code != ExitCode.OK  # not in sync until the rows are filled
        if project.db.dialect == "mysql":  # the column is as the models want it: schema_state says its fill is not done
            assert any("did not finish filling items.total" in hint for hint in planned["hints"]), planned["hints"]
            assert [(s["op"], s["mode"]) for s in planned["operations"]] == [("fill_rows", "batched")], planned["operations"]
            assert f"continuing the fill of apply #{first}," in planned["operations"][0]["summary"], planned["operations"][0]
        project.db.execute(
            "UPDATE items SET total = 999 WHERE id = 3",  # filled already: the writer's value stays
            f"UPDATE items SET qty = 7 WHERE id = {3 * (ROWS - 1)}",  # not reached yet: filled from its new qty
            f"UPDATE items SET total = 555 WHERE id = {3 * (ROWS - 2)}",  # not reached yet, given a value: the writer's value stays
            f"INSERT INTO items (id, qty) VALUES ({3 * ROWS + 1}, 5)",  # written after the fill began: the default stays
            f"INSERT INTO items (id, qty, total) VALUES ({3 * ROWS + 2}, 5, 777)",
        )
        if project.db.dialect == "mysql":
            kill_after(2)
            assert project.db.scalar("SELECT COUNT(*) FROM items WHERE total = qty * 10 + 1") == 7 * BATCH - 1
    resumed = project.cli("apply", "--yes", models=after)
    assert resumed.exit_code == ExitCode.OK, resumed.output
    assert_converged(project, after)
    expected = [(3 * n, n, 10 * n + 1) for n in range(ROWS)]
    if project.db.dialect != "sqlite":
        expected[1] = (3, 1, 999)
        expected[-1] = (3 * (ROWS - 1), 7, 71)
        expected[-2] = (3 * (ROWS - 2), ROWS - 2, 555)
        expected += [(3 * ROWS + 1, 5, 0), (3 * ROWS + 2, 5, 777)]
    assert project.db.rows("SELECT id, qty, total FROM items ORDER BY id") == expected
    history = json.loads(project.cli("history", "--json").output)
    assert history[0]["status"] == "applied", history
    assert json.loads(project.cli("plan", "--json", models=after).output)["operations"] == []
    back = project.cli("rollback", "--yes", *(("--to", str(first)) if first else ()))
    assert back.exit_code == ExitCode.OK, back.output
    assert not _has_total(project)


@pytest.mark.parametrize(("type_", "default", "compared"), [
    ("INTEGER", "0", "0"), ("BIGINT", "-3", "-3"), ("DECIMAL(10, 2)", "1.5", "1.5"), ("VARCHAR(10)", "'it''s'", "'it''s'"),
    ("TINYINT(1)", "0", "0"),
    ("FLOAT", "0.1", None),  # a float column's value is not the literal it was given
    ("BINARY(4)", "'a'", None),  # padded with zero bytes: never equal to the literal
    ("DATETIME", "current_timestamp()", None), ("INTEGER", "(1 + 1)", None), ("INTEGER", None, None),
])
def test_a_fill_by_key_leaves_a_written_row_only_where_the_default_compares_exactly(type_, default, compared):
    """A row a writer gave another value is told apart by its default only where the comparison is
    exact; elsewhere every row of a range is filled (comparing would leave rows unfilled)."""
    from schemasync.online import still_default
    from schemasync.snapshot import Column

    assert still_default(Column("c", type_, nullable=False, default=default)) == compared
