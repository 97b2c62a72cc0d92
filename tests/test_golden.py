"""Golden SQL per dialect, in four phases per case (the sqldef harness):

1. from `before`, `plan --sql` for `after` equals `expected.<dialect>.sql`;
2. apply it: the plan is then empty;
3. plan back to `before` and apply it: the plan is empty again.

No plan SQL names the scratch place the models were built in (the issue-16 rule: render refuses it,
and this checks every golden plan both ways).

Regenerate after a deliberate change with `SCHEMASYNC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import assert_no_scratch_name

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def _models(project, case: str, name: str) -> str:
    return project.write_models(f"{case}_{name}", (GOLDEN / case / f"{name}.py").read_text())


def _sql_without_header(output: str) -> str:
    """The first line carries the plan hash, which covers server-reported fingerprints; the SQL is what is pinned."""
    return "\n".join(line for line in output.splitlines() if not line.startswith("-- schemasync plan ")).strip() + "\n"


def _apply(project, models: str) -> None:
    assert_no_scratch_name(project.cli("plan", "--sql", models=models).output)
    # The way back drops most tables of a case: a mass drop, allowed here on purpose.
    result = project.cli("apply", "--yes", "--allow-destructive", "--allow-mass-drop", models=models)
    assert result.exit_code == 0, result.output
    assert "No changes." in project.cli("plan", models=models).output
    assert project.cli("check", models=models).exit_code == 0


@pytest.mark.parametrize("case", CASES)
def test_golden_sql(project, case):
    before, after = _models(project, case, "before"), _models(project, case, "after")
    _apply(project, before)

    sql = _sql_without_header(project.cli("plan", "--sql", models=after).output)
    expected_file = GOLDEN / case / f"expected.{project.db.dialect}.sql"
    if os.environ.get("SCHEMASYNC_UPDATE_GOLDEN"):
        expected_file.write_text(sql)
    assert expected_file.exists(), f"no golden file {expected_file.name}: run with SCHEMASYNC_UPDATE_GOLDEN=1"
    assert sql == expected_file.read_text()
    assert_no_scratch_name(sql)

    _apply(project, after)
    _apply(project, before)
