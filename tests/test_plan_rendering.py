"""The plan as people read it (issue 23), against golden files in tests/golden_plans/:

- `<case>.<dialect>.txt`: `plan` without colour, `<case>.<dialect>.ansi`: the same with colour (a
  terminal's escapes; stripped of them it is the .txt), `<case>.<dialect>.mmd`: `plan --format
  mermaid`, for three of the golden cases of tests/golden/ (new tables; altered columns, which
  SQLite rebuilds; drops with their backups as footnotes) on each dialect;
- `blog.sqlite.mmd`: `inspect --format mermaid` of the blog fixture.

The plan's JSON and hash are the ones the SQL goldens pin (tests/golden/<case>/expected.*.sql):
the text is a view of the same plan. Regenerate after a deliberate change with
`SCHEMASYNC_UPDATE_GOLDEN=1 python -m pytest tests/test_plan_rendering.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.harness import converge

GOLDEN_CASES = Path(__file__).parent / "golden"
GOLDEN = Path(__file__).parent / "golden_plans"
UPDATE = bool(os.environ.get("SCHEMASYNC_UPDATE_GOLDEN"))
CASES = ("create_tables", "evolve_columns", "drop_objects")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# rich draws colour when FORCE_COLOR is set; TERM=xterm: the 16 standard colours, the same everywhere.
COLOUR = {"FORCE_COLOR": "1", "TERM": "xterm", "COLORTERM": "", "COLUMNS": "120", "NO_COLOR": None}


def assert_golden(name: str, text: str) -> None:
    golden = GOLDEN / name
    if UPDATE:
        golden.write_text(text)
    assert golden.exists(), f"no golden file {name}: run with SCHEMASYNC_UPDATE_GOLDEN=1"
    assert text == golden.read_text(), f"golden_plans/{name} differs"


@pytest.mark.parametrize("case", CASES)
def test_the_plan_as_people_read_it(project, case):
    folder = GOLDEN_CASES / case
    before = project.write_models(f"{case}_before", (folder / "before.py").read_text())
    after = project.write_models(f"{case}_after", (folder / "after.py").read_text())
    converge(project, before, "--allow-destructive", "--allow-mass-drop")

    plain = project.cli("plan", models=after, env={"NO_COLOR": "1"})
    coloured = project.cli("plan", models=after, env=COLOUR)
    diagram = project.cli("plan", "--format", "mermaid", models=after)
    planned = json.loads(project.cli("plan", "--json", models=after).stdout)
    for result in (plain, coloured, diagram):
        assert result.exit_code == 0, result.output
    dialect = project.db.dialect
    assert_golden(f"{case}.{dialect}.txt", plain.stdout)
    assert_golden(f"{case}.{dialect}.ansi", coloured.stdout)
    assert_golden(f"{case}.{dialect}.mmd", diagram.stdout)

    assert "\x1b[" in coloured.stdout and "\x1b[" not in plain.stdout
    assert ANSI.sub("", coloured.stdout) == plain.stdout, "colour is the only difference"
    assert f"Plan hash: {planned['hash']}\n" in plain.stdout, "the same plan, the same hash"
    # Every operation of the plan is either a numbered change or a footnote under one.
    numbered = re.findall(r"^[+~>-]\s+\d+\. ", plain.stdout, re.MULTILINE)
    notes = re.findall(r"^\s+note: ", plain.stdout, re.MULTILINE)
    assert len(numbered) + len(notes) == len(planned["operations"])
    kept = [op for op in planned["operations"] if op["op"].startswith("backup")]
    assert len(notes) == len(kept)


def test_the_compact_plan_is_one_line_per_change(project):
    folder = GOLDEN_CASES / "evolve_columns"
    converge(project, project.write_models("before", (folder / "before.py").read_text()), "--allow-destructive")
    after = project.write_models("after", (folder / "after.py").read_text())
    full = project.cli("plan", models=after).stdout.splitlines()
    compact = project.cli("plan", "--compact", models=after).stdout.splitlines()
    planned = json.loads(project.cli("plan", "--json", models=after).stdout)
    assert len(compact) < len(full)
    summaries = [op["summary"] for op in planned["operations"] if not op["op"].startswith(("backup", "restore"))]
    steps = [line for line in compact if re.match(r"^[+~>-]\s+\d+\. ", line)]
    assert [re.sub(r"^[+~>-]\s+\d+\. ", "", line).split(" (destructive)")[0].split(" [")[0] for line in steps] == summaries
    assert [line for line in compact if not re.match(r"^[+~>-]\s+\d+\. |^\s+note: ", line)] == \
           [line for line in full if not re.match(r"^[+~>-]\s+\d+\. |^\s+", line)]


def test_inspect_draws_the_blog_schema(sqlite_project):
    models = sqlite_project.copy_fixture("blog/models.py")
    assert sqlite_project.cli("apply", "--yes", models=models).exit_code == 0
    result = sqlite_project.cli("inspect", "--format", "mermaid", models=models)
    assert result.exit_code == 0, result.output
    assert_golden("blog.sqlite.mmd", result.stdout)
    for command in ("inspect", "plan"):
        refused = sqlite_project.cli(command, "--format", "dot", models=models)
        assert refused.exit_code == 1 and refused.stderr.startswith("error: --format dot: choose ") and len(refused.stderr.splitlines()) == 1
