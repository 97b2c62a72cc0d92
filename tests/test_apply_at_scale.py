"""A plan of hundreds of statements applies in one go, with a progress bar on a terminal, and converges."""

from __future__ import annotations

import io

import sqlalchemy as sa
from rich.console import Console

from schemasync import console, workflow
from schemasync.config import Settings
from tests.test_convergence import models_module

TABLES = 100


def models() -> sa.MetaData:
    """A chain of tables, each with an index and a key to the one before: hundreds of operations."""
    metadata = sa.MetaData()
    for n in range(TABLES):
        parent = [sa.Column("p", sa.Integer, sa.ForeignKey(f"t{n - 1:03d}.id"))] if n else []
        sa.Table(f"t{n:03d}", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String(20), index=True), *parent)
    return metadata


def test_hundreds_of_operations_apply_with_a_progress_bar(db, tmp_path):
    terminal = Console(file=io.StringIO(), force_terminal=True, width=140)
    progress = console.StatementProgress(terminal)
    with models_module(models()) as spec:
        settings = Settings(database_url=db.url, models=spec, base_dir=tmp_path)
        planned = workflow.plan(settings).plan
        assert len(planned.steps) >= TABLES and len(planned.statements) >= 2 * TABLES

        def confirm(plan) -> bool:
            progress.expect(len(plan.statements))
            return True

        with progress:
            report = workflow.apply(settings, confirm, on_statement=progress)
        assert report.result is not None and report.result.statements == len(planned.statements)
        assert not workflow.plan(settings).plan.steps
    drawn = terminal.file.getvalue()
    assert f"/{len(planned.statements)}" in drawn, "the bar counts the plan's statements"


def test_no_bar_without_a_terminal():
    quiet_file = io.StringIO()
    progress = console.StatementProgress(Console(file=quiet_file, force_terminal=False))
    with progress:
        progress.expect(500)
        for number in range(1, 501):
            progress(number, "CREATE TABLE t (id INTEGER)")
    assert quiet_file.getvalue() == ""
