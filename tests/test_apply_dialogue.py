"""What `apply` says while it works (issue 23): the prompt names the target without its password, a
refused destructive plan is shown before the refusal, `-v` echoes statements with their durations,
`-q` prints the hash alone, and `schemasync explain HAZARD` answers from the installed package."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy.engine import make_url

from schemasync import cli, hazards
from tests.conftest import project_on

USERS_AND_POSTS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
sa.Table("posts", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80)))
"""
USERS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
"""


def test_a_destructive_plan_is_shown_marked_then_refused(project):
    assert project.cli("apply", "--yes", models=project.write_models("both", USERS_AND_POSTS)).exit_code == 0
    refused = project.cli("apply", "--yes", models=project.write_models("users", USERS))
    assert refused.exit_code == 1
    lines = refused.stdout.splitlines()
    assert lines[0] == f"Plan ({project.db.dialect}): 1 change, 1 destructive"
    assert re.fullmatch(r"-\s+1\. drop table posts \(destructive\) \[data-loss\]", lines[1]), lines[1]
    assert re.fullmatch(r"\s+note: rows kept in schemasync_backup_\d+_posts for rollback", lines[2]), lines[2]
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in lines
    assert len(refused.stderr.splitlines()) == 1 and "--allow-destructive" in refused.stderr


def test_the_prompt_names_the_target_and_hides_its_password(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    for project in project_on("postgresql", tmp_path):  # trust authentication: any password is accepted
        url = make_url(project.db.url).set(password="s3cret-pw")
        with_password = replace(project, db=replace(project.db, url=url.render_as_string(hide_password=False)))
        result = with_password.cli("apply", models=project.write_models("users", USERS), input="n\n")
        shown = url._replace(password=None).render_as_string(hide_password=False)
        assert f"Apply 1 change to {shown}? [y/N]" in result.stdout
        assert "s3cret-pw" not in result.output
        assert result.exit_code == 1 and "cancelled" in result.stderr


def test_verbose_echoes_each_statement_with_its_duration(project):
    result = project.cli("apply", "--yes", "-v", models=project.write_models("both", USERS_AND_POSTS))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"-- statement 1/2\nCREATE TABLE ", out), out
    assert re.search(r"-- statement 2/2\nCREATE TABLE ", out), out
    assert len(re.findall(r"^-- done in \d+\.\d ms$", out, re.MULTILINE)) == 2
    assert "Applied 2 changes (2 statements)" in out


def test_quiet_plan_and_apply_print_the_hash_alone(project):
    models = project.write_models("users", USERS)
    planned = project.cli("plan", "-q", models=models)
    applied = project.cli("apply", "--yes", "-q", models=models)
    assert planned.stdout == applied.stdout and re.fullmatch(r"sha256:[0-9a-f]{64}\n", planned.stdout)
    assert project.cli("plan", "-q", models=models).stdout == "", "nothing to do: nothing to keep"


def test_explain_prints_each_hazard_from_the_package(sqlite_project):
    for name in hazards.ALL:
        result = sqlite_project.cli("explain", name)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"{name}: ") and "docs/" not in result.stdout
    unknown = sqlite_project.cli("explain", "slow")
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert unknown.stderr.strip() == "error: unknown hazard 'slow' (known: " + ", ".join(hazards.ALL) + ")"


def test_the_plan_points_at_explain(sqlite_project):
    assert sqlite_project.cli("apply", "--yes", models=sqlite_project.write_models("users", USERS)).exit_code == 0
    grown = USERS.replace('sa.String(50))', 'sa.String(50), index=True)')
    shown = sqlite_project.cli("plan", models=sqlite_project.write_models("indexed", grown)).stdout
    assert "Hazards: 1 index-build (`schemasync explain HAZARD` says what each means)" in shown
