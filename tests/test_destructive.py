"""Destructive steps (drop table, drop column, narrowing a type where the server cuts or refuses) are refused without --allow-destructive."""

from __future__ import annotations

import json

import pytest

WIDE = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("code", sa.String({n})){extra})
"""


@pytest.mark.parametrize("change, extra_before, n_after", [("narrow", "", 10), ("drop_column", ', sa.Column("old", sa.Integer)', 50)])
def test_destructive_change_is_refused_then_allowed(project, change, extra_before, n_after):
    before = project.write_models("b", WIDE.format(n=50, extra=extra_before))
    after = project.write_models("a", WIDE.format(n=n_after, extra=""))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute("INSERT INTO t (id, code) VALUES (1, 'short')")

    plan = json.loads(project.cli("plan", "--json", models=after).output)
    if change == "narrow" and project.db.dialect == "sqlite":
        # SQLite neither refuses nor cuts a value longer than the new length: nothing to refuse or keep.
        assert [(op["op"], op["destructive"]) for op in plan["operations"]] == [("rebuild_table", False)]
        assert project.cli("apply", "--yes", models=after).exit_code == 0
        assert project.db.rows("SELECT id, code FROM t") == [(1, "short")]
        return
    # The values are kept first (for rollback), then lost.
    assert (plan["operations"][0]["op"], plan["operations"][0]["destructive"]) == ("backup_columns", False)
    assert [op["destructive"] for op in plan["operations"]] == [False, True]
    assert "(destructive)" in project.cli("plan", models=after).output

    refused = project.cli("apply", "--yes", models=after)
    assert refused.exit_code == 1 and "--allow-destructive" in refused.output
    assert project.cli("check", models=after).exit_code == 2  # unchanged

    assert project.cli("apply", "--yes", "--allow-destructive", models=after).exit_code == 0
    assert project.cli("check", models=after).exit_code == 0
    assert project.db.rows("SELECT id, code FROM t") == [(1, "short")]
