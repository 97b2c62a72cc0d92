"""A declared fill that fails at run time (docs/data-changes.md): pre-flight cannot foresee a value
the column refuses (here a check), so the step fails; its one-line error says how many rows the fill
could not fill and the first of them by primary key, schema_state records it, and the database is
left where the error says (nothing changed, or the batches committed so far). Through the CLI on
every dialect, plain and (PostgreSQL, MariaDB) online; a row written between pre-flight and the
fill through the workflow API (its statement hook writes it).
"""

from __future__ import annotations

import json

import pytest

from schemasync import workflow
from schemasync.config import load_settings
from schemasync.errors import ApplyError, ExitCode
from tests.harness import assert_converged

BEFORE = """
import sqlalchemy as sa
metadata = sa.MetaData()
items = sa.Table("items", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("qty", sa.Integer, nullable=False),
    sa.Column("score", sa.Integer),
    sa.CheckConstraint("score >= 0", name="score_not_negative"))
"""
# The fill gives qty - 10: negative (refused by the check) where qty < 10.
AFTER = BEFORE.replace('sa.Column("score", sa.Integer)',
                       'sa.Column("score", sa.Integer, nullable=False, info={"schemasync": {"backfill": "qty - 10"}})')


def _seed(project, rows: list[tuple[int, int]]) -> str:
    before = project.write_models("before", BEFORE)
    assert project.cli("apply", "--yes", models=before).exit_code == ExitCode.OK
    project.db.execute("INSERT INTO items (id, qty) VALUES " + ", ".join(f"({i}, {q})" for i, q in rows))
    return before


def _failed_row(project) -> dict:
    history = json.loads(project.cli("history", "--json").output)
    assert history[0]["status"] == "failed", history
    return history[0]


def test_a_fill_refused_by_a_check_names_the_rows_left_and_the_first_key(project):
    # 2 and 4 would fill; 3 (qty 5) and 5 (qty 1) cannot.
    before = _seed(project, [(2, 20), (3, 5), (4, 40), (5, 1)])
    after = project.write_models("after", AFTER)
    failed = project.cli("apply", "--yes", models=after)
    assert failed.exit_code == ExitCode.ERROR, failed.output
    line = " ".join(failed.output.split())
    assert "Traceback" not in failed.output
    assert "items.score: the fill could not fill 4 rows of items (still NULL); it fails first at id=3:" in line, line
    assert "nothing was changed" in line or "statements were applied" in line, line
    row = _failed_row(project)
    assert "it fails first at id=3" in row["error"] and "4 rows of items" in row["error"], row
    # The database is where the error says: nothing of the fill stayed (the rows are as they were).
    assert project.db.rows("SELECT id, score FROM items ORDER BY id") == [(2, None), (3, None), (4, None), (5, None)]
    assert_converged(project, before) if project.db.dialect != "mysql" else None
    # Once the rows are fixed, the same models apply.
    project.db.execute("UPDATE items SET qty = 10 WHERE qty < 10")
    assert project.cli("apply", "--yes", models=after).exit_code == ExitCode.OK
    assert_converged(project, after)
    assert project.db.rows("SELECT id, score FROM items ORDER BY id") == [(2, 10), (3, 0), (4, 30), (5, 0)]


def test_a_new_column_whose_fill_does_not_fit_names_the_first_key(project):
    if project.db.dialect == "sqlite":
        pytest.skip("SQLite stores a text of any length in VARCHAR(2): nothing fails")
    too_long = BEFORE + (
        '\nitems.append_column(sa.Column("label", sa.String(2), '
        'info={"schemasync": {"backfill": sa.cast(items.c.qty, sa.String)}}))\n')
    before = _seed(project, [(1, 5), (2, 50), (3, 500), (4, 7), (5, 1000)])
    failed = project.cli("apply", "--yes", models=project.write_models("after", too_long))
    assert failed.exit_code == ExitCode.ERROR, failed.output
    line = " ".join(failed.output.split())
    # On PostgreSQL the column was added in the apply's transaction: the rows are counted there (savepoint).
    assert "items.label: the fill could not fill 5 rows of items (still NULL); it fails first at id=3:" in line, line
    assert "too long" in line.lower(), line
    assert "it fails first at id=3" in _failed_row(project)["error"]
    if project.db.dialect == "postgresql":
        assert_converged(project, before)  # all of it rolled back
    else:  # MariaDB committed the new column: the plan goes on from there
        assert project.db.scalar("SELECT COUNT(*) FROM items WHERE label IS NULL") == 5


@pytest.mark.parametrize("rows", [2_500])
def test_an_online_fill_that_fails_mid_way_says_what_was_committed(project, rows):
    if project.db.dialect == "sqlite":
        pytest.skip("SQLite has no online mode: its fill is the plain one (the test above)")
    (project.path / "schemasync.yaml").write_text("online: true\nfill_batch_size: 1000\n")
    # The first 2,000 rows fill; 2,001 onwards have qty 0 (refused), so the third batch fails.
    _seed(project, [(n, 20 if n <= 2000 else 0) for n in range(1, rows + 1)])
    after = project.write_models("after", AFTER)
    failed = project.cli("apply", "--yes", models=after)
    assert failed.exit_code == ExitCode.ERROR, failed.output
    line = " ".join(failed.output.split())
    assert "items.score: the fill could not fill 500 rows of items (still NULL); it fails first at id=2001:" in line, line
    assert "2000 rows filled, keys up to 2000 (committed)" in line, line
    assert "statements were applied and committed" in line, line
    row = _failed_row(project)
    assert "id=2001" in row["error"] and "2000 rows filled" in row["error"], row
    assert project.db.scalar("SELECT COUNT(*) FROM items WHERE score IS NOT NULL") == 2000
    # The plan continues from there: fix the rows, apply, every row filled.
    project.db.execute("UPDATE items SET qty = 10 WHERE qty = 0")
    assert project.cli("apply", "--yes", models=after).exit_code == ExitCode.OK
    assert_converged(project, after)
    assert project.db.scalar("SELECT COUNT(*) FROM items WHERE score IS NULL") == 0


NAMED = BEFORE + '\nitems.append_column(sa.Column("label", sa.String(20)))\n'
REQUIRED = BEFORE + '\nitems.append_column(sa.Column("label", sa.String(20), nullable=False, info={"schemasync": {"backfill": "CASE WHEN qty > 0 THEN \'some\' END"}}))\n'


@pytest.mark.parametrize("online", [False, True])
def test_a_row_written_after_preflight_that_the_fill_leaves_null_is_named(project, online):
    """A writer adds a row the expression gives NULL for after pre-flight looked: the NOT NULL after
    the fill fails, and the error counts the rows the fill left NULL and names the first."""
    if project.db.dialect == "sqlite":
        pytest.skip("SQLite's apply holds the database's write lock: no writer gets in")
    before = project.write_models("before", NAMED)
    assert project.cli("apply", "--yes", models=before).exit_code == ExitCode.OK
    project.db.execute("INSERT INTO items (id, qty) VALUES (1, 5), (2, 7)")
    after = project.write_models("after", REQUIRED)
    (project.path / "schemasync.yaml").write_text(f"online: {'true' if online else 'false'}\nfill_batch_size: 1000\n")
    written = []

    def writer(number: int, sql: str) -> None:
        if not written:  # before the first statement: after pre-flight, before the fill
            project.db.execute("INSERT INTO items (id, qty) VALUES (7, 0)")
            written.append(number)

    settings = load_settings(database_url=project.db.url, models=after, cwd=project.path)
    with pytest.raises(ApplyError) as failed:
        workflow.apply(settings, confirm=lambda plan: True, on_statement=writer)
    message = str(failed.value)
    assert "items.label: the expression gives NULL for 1 row of items still to fill, and the column is NOT NULL, the first at id=7" in message, message
    assert "id=7" in _failed_row(project)["error"]


def test_a_fill_by_key_that_fails_mid_way_names_the_keys_left_and_continues_from_there(project):
    """MariaDB's online fill of a NOT NULL column added with its default (online.FillRowsByKey): its
    rows hold the default, not NULL, so the error counts the rows between the keys it had left."""
    if project.db.dialect != "mysql":
        pytest.skip("a fill by key is MariaDB's (the others fill the rows still NULL: above)")
    (project.path / "schemasync.yaml").write_text("online: true\nfill_batch_size: 1000\n")
    # qty * 1000 fits a SMALLINT for the first 2,000 rows (qty 20), not after (qty 40): the third batch fails.
    _seed(project, [(n, 20 if n <= 2000 else 40) for n in range(1, 2501)])
    after = project.write_models("after", BEFORE + (
        '\nitems.append_column(sa.Column("bonus", sa.SmallInteger, nullable=False, server_default="0", '
        'info={"schemasync": {"backfill": "qty * 1000"}}))\n'))
    failed = project.cli("apply", "--yes", models=after)
    assert failed.exit_code == ExitCode.ERROR, failed.output
    line = " ".join(failed.output.split())
    assert "items.bonus: the fill could not fill 500 rows of items (keys from id=2001 to id=2500); it fails first at id=2001:" in line, line
    assert "out of range" in line.lower(), line
    assert "2000 rows filled, keys up to 2000 (committed)" in line, line
    assert "id=2001" in _failed_row(project)["error"]
    assert project.db.scalar("SELECT COUNT(*) FROM items WHERE bonus = 20000") == 2000
    project.db.execute("UPDATE items SET qty = 30 WHERE qty = 40")
    resumed = project.cli("apply", "--yes", models=after)
    assert resumed.exit_code == ExitCode.OK, resumed.output
    assert_converged(project, after)
    assert project.db.rows("SELECT qty, bonus, COUNT(*) FROM items GROUP BY qty, bonus ORDER BY qty") == [(20, 20000, 2000), (30, 30000, 500)]
