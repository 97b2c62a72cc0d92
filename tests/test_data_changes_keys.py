"""Online fills by any primary key (docs/data-changes.md): a key of two columns is paged on the tuple,
batch by batch; a table without a primary key is filled by one UPDATE in a transaction of its own,
and the plan says so. SQLite has no online mode: the same models converge the plain way there.
"""

from __future__ import annotations

import json

from schemasync.errors import ExitCode
from tests.harness import assert_converged

BATCH = 700
COMPOSITE = """
import sqlalchemy as sa
metadata = sa.MetaData()
order_lines = sa.Table("order_lines", metadata,
    sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("line_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("qty", sa.Integer, nullable=False))
"""
KEYLESS = """
import sqlalchemy as sa
metadata = sa.MetaData()
order_lines = sa.Table("order_lines", metadata,
    sa.Column("order_id", sa.Integer, nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("qty", sa.Integer, nullable=False))
"""
FILLED = '\norder_lines.append_column(sa.Column("total", sa.Integer, nullable=False, info={"schemasync": {"backfill": "qty * 10 + line_no"}}))\n'
# Orders 1, 4, 7, ... with 1 to 7 lines each: batches end inside an order as well as between two.
ROWS = [(3 * order + 1, line, order + line) for order in range(400) for line in range(1, 2 + order % 7)]


def _seed(project, models: str) -> str:
    (project.path / "schemasync.yaml").write_text(f"online: true\nfill_batch_size: {BATCH}\n")
    before = project.write_models("before", models)
    assert project.cli("apply", "--yes", models=before).exit_code == ExitCode.OK
    project.db.execute("INSERT INTO order_lines (order_id, line_no, qty) VALUES " + ", ".join(f"({o}, {n}, {q})" for o, n, q in ROWS))
    return project.write_models("after", models + FILLED)


def _all_filled(project) -> None:
    found = project.db.rows("SELECT order_id, line_no, total FROM order_lines ORDER BY order_id, line_no")
    assert found == [(o, n, q * 10 + n) for o, n, q in ROWS]


def test_a_composite_key_fills_in_batches_on_the_tuple(project):
    after = _seed(project, COMPOSITE)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    if project.db.dialect != "sqlite":
        [fill] = [s for s in planned["operations"] if s["op"] == "fill_column"]
        assert fill["mode"] == "batched" and f"in batches of {BATCH} rows by (order_id, line_no)" in fill["summary"], fill
        assert ":low_1" in fill["sql"][2] and f"LIMIT {BATCH}" in fill["sql"][1], fill["sql"]
    applied = project.cli("apply", "--yes", models=after)
    assert applied.exit_code == ExitCode.OK, applied.output
    assert_converged(project, after)
    _all_filled(project)
    assert len(ROWS) > 2 * BATCH  # several batches ran


def test_a_composite_key_fill_that_fails_names_the_first_key_tuple(project):
    """A check refuses the fill's value from some row on: the batches before it stay (online), and the
    error names the first failing row by its whole key."""
    checked = COMPOSITE.replace('sa.Column("qty", sa.Integer, nullable=False))',
                                'sa.Column("qty", sa.Integer, nullable=False),\n    sa.Column("total", sa.Integer),\n'
                                '    sa.CheckConstraint("total < 3000", name="total_small"))')
    _seed(project, checked)
    after = project.write_models("after", checked.replace('sa.Column("total", sa.Integer)',
                                 'sa.Column("total", sa.Integer, nullable=False, info={"schemasync": {"backfill": "qty * 10 + line_no"}})'))
    failed = project.cli("apply", "--yes", models=after)
    assert failed.exit_code == ExitCode.ERROR, failed.output
    line = " ".join(failed.output.split())
    first = next(i for i, (o, n, q) in enumerate(ROWS) if q * 10 + n >= 3000)
    order_id, line_no, _ = ROWS[first]
    assert f"it fails first at order_id={order_id}, line_no={line_no}:" in line, line
    committed = (first // BATCH) * BATCH if project.db.dialect != "sqlite" else 0
    assert project.db.scalar("SELECT COUNT(*) FROM order_lines WHERE total IS NOT NULL") == committed
    assert f"could not fill {len(ROWS) - committed} rows of order_lines" in line, line


def test_a_table_without_a_primary_key_is_filled_by_one_update_and_the_plan_says_so(project):
    after = _seed(project, KEYLESS)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    if project.db.dialect != "sqlite":
        [fill] = [s for s in planned["operations"] if s["op"] == "fill_column"]
        assert fill["mode"] == "transaction" and len(fill["sql"]) == 1 and fill["sql"][0].startswith("UPDATE"), fill
        assert any("order_lines has no primary key to fill total in batches by: the fill is one UPDATE" in h for h in planned["hints"]), planned["hints"]
        assert "has no primary key to fill total" in project.cli("plan", models=after).output.replace("\n", " ")
    applied = project.cli("apply", "--yes", models=after)
    assert applied.exit_code == ExitCode.OK, applied.output
    assert_converged(project, after)
    _all_filled(project)
