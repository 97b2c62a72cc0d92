"""`rollback --to ID` plans every step before running any: each plan starts from the snapshot the
previous step restores, so `--sql` shows them all, and a step that would be refused stops the
rollback before anything changes. The names a server gives unnamed constraints (never in a
recorded snapshot) are carried over from the live schema; when an earlier step re-creates such a
constraint and a later one drops it, `--sql` says it cannot show that step yet.
"""

from __future__ import annotations

import json

from tests.capabilities import supports
from tests.test_rollback import _recorded_rollbacks, _statements

C1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(40)))
sa.Table("posts", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(40)))
"""
# An unnamed foreign key (the server names it) on an existing table.
C2 = C1.replace('sa.Column("title", sa.String(40)))', 'sa.Column("title", sa.String(40)), sa.Column("editor_id", sa.Integer, sa.ForeignKey("users.id")))')
C3 = C2.replace('sa.Column("name", sa.String(40)))', 'sa.Column("name", sa.String(40)), sa.Column("score", sa.Integer))')
# C3 without the foreign key: undoing it re-creates the key under a name only the server knows.
C3_UNBOUND = C3.replace('sa.Column("editor_id", sa.Integer, sa.ForeignKey("users.id"))', 'sa.Column("editor_id", sa.Integer)')


def _apply_all(project, *sources: str) -> None:
    for n, source in enumerate(sources, 1):
        result = project.cli("apply", "--yes", "--allow-destructive", models=project.write_models(f"c{n}", source))
        assert result.exit_code == 0, result.output
        if n == 1:
            project.db.execute("INSERT INTO users (id, name) VALUES (1, 'ada')", "INSERT INTO posts (id, title) VALUES (1, 'hello')")


def test_rollback_sql_to_shows_every_step_and_it_is_what_runs(project):
    _apply_all(project, C1, C2, C3)
    project.db.execute("UPDATE posts SET editor_id = 1", "UPDATE users SET score = 5")

    sql = project.cli("rollback", "--sql", "--to", "2")
    assert sql.exit_code == 0, sql.output
    assert sql.output.count("-- step ") == 2 and "cannot be shown" not in sql.output
    if not supports(project.db, "alter_by_rebuild"):  # the key the server named when apply #2 ran is dropped by name
        assert "DROP CONSTRAINT" in sql.output or "DROP FOREIGN KEY" in sql.output

    rolled = project.cli("rollback", "--yes", "--to", "2")
    assert rolled.exit_code == 0, rolled.output
    recorded = _recorded_rollbacks(project.db)
    assert _statements(sql.output) == _statements("\n".join(text for _, text in recorded))
    assert project.cli("check", models=project.write_models("c1b", C1)).exit_code == 0


def test_a_step_whose_names_the_server_gives_later_is_announced_not_guessed(project):
    _apply_all(project, C1, C2, C3_UNBOUND)
    sql = project.cli("rollback", "--sql", "--to", "2")
    assert sql.exit_code == 0, sql.output
    if supports(project.db, "alter_by_rebuild"):  # a rebuild needs no constraint names
        assert sql.output.count("-- step ") == 2
    else:
        assert sql.output.count("-- step ") == 1
        assert "1 more step(s) cannot be shown before the ones above run" in sql.output and "apply #2" in sql.output
    rolled = project.cli("rollback", "--yes", "--to", "2")
    assert rolled.exit_code == 0, rolled.output
    assert project.cli("check", models=project.write_models("c1b", C1)).exit_code == 0


def test_a_step_that_would_be_refused_stops_the_rollback_before_anything_runs(project):
    _apply_all(project, C1, C2)
    project.db.execute("ALTER TABLE users ADD COLUMN extra INTEGER")  # drift between two applies
    result = project.cli("apply", "--yes", "--allow-destructive", models=project.write_models("c3", C3))
    assert result.exit_code == 0, result.output  # extra is unmanaged: the apply goes ahead

    refused = project.cli("rollback", "--yes", "--to", "2")
    assert refused.exit_code == 1
    assert "step 2 of 2; nothing was changed" in refused.output and "apply #2" in refused.output, refused.output
    history = json.loads(project.cli("history", "--json").output)
    assert [h["status"] for h in history] == ["applied", "applied", "applied"]
    assert project.cli("check", models=project.write_models("c3b", C3)).exit_code == 0
