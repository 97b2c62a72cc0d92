"""Golden cases, one folder each in tests/golden/, run through sqldef's four phases per dialect:

1. up: from `before.py` applied, `plan --sql` for `after.py` equals `expected.<dialect>.sql`
   (its first line pins the plan hash);
2. apply it: the plan is then empty and `check` exits 0;
3. down: `plan --sql` back to `before.py` equals `down.<dialect>.sql`;
4. apply it: the plan is empty and `check` exits 0 again.

`case.yaml` names the dialects the case applies to. No plan names the scratch place the models were
built in (the issue-16 rule: render refuses it; this checks every golden plan both ways, and
tests/harness.py every plan it converges). Regenerate after a deliberate change with
`SCHEMASYNC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and review the diff
(docs/testing.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.capabilities import DIALECTS
from tests.conftest import assert_no_scratch_name
from tests.harness import converge

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("SCHEMASYNC_UPDATE_GOLDEN"))


@dataclass(frozen=True)
class Case:
    """One folder of tests/golden/."""

    folder: Path
    dialects: tuple[str, ...]

    def source(self, name: str) -> str:
        return (self.folder / f"{name}.py").read_text()


def read_case(folder: Path) -> Case:
    """A case folder: case.yaml's dialects (every one a known dialect), before.py and after.py."""
    settings = yaml.safe_load((folder / "case.yaml").read_text())
    dialects = tuple(settings["dialects"])
    unknown = set(dialects) - set(DIALECTS)
    assert not unknown, f"{folder.name}/case.yaml: unknown dialects {sorted(unknown)}"
    for name in ("before.py", "after.py"):
        assert (folder / name).is_file(), f"{folder.name} has no {name}"
    return Case(folder, dialects)


CASES = [read_case(folder) for folder in sorted(GOLDEN.iterdir()) if folder.is_dir()]


def test_every_case_has_a_golden_file_per_dialect_and_no_stray_ones():
    for case in CASES:
        expected = {f"{prefix}.{dialect}.sql" for dialect in case.dialects for prefix in ("expected", "down")}
        # A server major that prints something its own way has its own file beside (views on PostgreSQL 18).
        found = {re.sub(r"@\d+(?=\.sql$)", "", p.name) for p in case.folder.glob("*.sql")}
        assert found == expected, f"{case.folder.name}: {sorted(found ^ expected)}"


def golden_file(project, case: Case, prefix: str) -> Path:
    """`<prefix>.<dialect>.sql`, or `<prefix>.<dialect>@<major>.sql` where the server's major version has one."""
    engine = project.db.engine()
    try:
        with engine.connect():
            major = (engine.dialect.server_version_info or (0,))[0]
    finally:
        engine.dispose()
    own = case.folder / f"{prefix}.{project.db.dialect}@{major}.sql"
    return own if own.exists() else case.folder / f"{prefix}.{project.db.dialect}.sql"


def assert_golden(project, models: str, golden: Path) -> None:
    """`plan --sql` for the models equals the golden file (written instead under SCHEMASYNC_UPDATE_GOLDEN)."""
    result = project.cli("plan", "--sql", models=models)
    assert result.exit_code == 0, result.output
    assert_no_scratch_name(result.output)
    if UPDATE:
        golden.write_text(result.output)
    assert golden.exists(), f"no golden file {golden.name}: run with SCHEMASYNC_UPDATE_GOLDEN=1"
    assert result.output == golden.read_text(), f"{golden.parent.name}/{golden.name} differs (a new plan hash is a change too)"


@pytest.mark.parametrize(("case", "db"), [pytest.param(c, d, id=f"{c.folder.name}-{d}") for c in CASES for d in c.dialects], indirect=["db"])
def test_golden_case(project, case: Case):
    before = project.write_models(f"{case.folder.name}_before", case.source("before"))
    after = project.write_models(f"{case.folder.name}_after", case.source("after"))
    # The way down drops most tables of a case: a mass drop, allowed here on purpose.
    allowed = ("--allow-destructive", "--allow-mass-drop")
    converge(project, before, *allowed)

    assert_golden(project, after, golden_file(project, case, "expected"))
    converge(project, after, *allowed)

    assert_golden(project, before, golden_file(project, case, "down"))
    converge(project, before, *allowed)
