"""Property: what `metadata.create_all` builds is what schemasync plans for (the create_all oracle).

Hypothesis draws a schema with test_convergence's generator, for the test's dialect (so with the
whole surface that dialect has: generic and dialect types, every kind of server default, Enum and
Boolean constraints, generated and identity columns, named schemas, comments, partial, expression
and descending indexes). SQLAlchemy itself builds it on an empty database (`create_all`, no
schemasync involved); then `plan --json` must have no step, `adopt` must record it, and `check` exit
0. From that state an edited schema is applied: it must converge like any other.
A difference here is a false drift every user of `create_all` (or of a database built by it) sees.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemasync.errors import ExitCode
from tests import harness
from tests.conftest import Project
from tests.test_convergence import SCALE, edited, reset, schemas, to_metadata

EXAMPLES = {dialect: max(1, round(n * SCALE)) for dialect, n in {"sqlite": 20, "postgresql": 6, "mysql": 6}.items()}


def create_all(url: str, metadata: sa.MetaData) -> None:
    """Build the models the way an application does, with SQLAlchemy alone."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for schema in sorted({t.schema for t in metadata.tables.values() if t.schema}):
                connection.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        metadata.create_all(engine)
    finally:
        engine.dispose()


def assert_plans_empty(project: Project, metadata: sa.MetaData) -> str:
    """`plan --json` has no step against what create_all built; `adopt` records it and `check` agrees. The --models value."""
    spec = harness.metadata_module(metadata)
    planned = project.cli("plan", "--json", models=spec)
    assert planned.exit_code == ExitCode.OK, planned.output
    steps = json.loads(planned.output)["operations"]
    assert not steps, "create_all built a schema schemasync would change:\n" + "\n".join(f"{s['summary']}: {s['sql']}" for s in steps)
    adopted = project.cli("adopt", models=spec)
    assert adopted.exit_code == ExitCode.OK, adopted.output
    checked = project.cli("check", models=spec)
    assert checked.exit_code == ExitCode.OK, checked.output
    return spec


@pytest.mark.slow
def test_create_all_plans_empty_and_converges_onward(project: Project) -> None:
    db = project.db

    @settings(max_examples=EXAMPLES[db.dialect], deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        reset(db.url)
        schema = data.draw(schemas(db.dialect), label="schema")
        create_all(db.url, to_metadata(schema))
        assert_plans_empty(project, to_metadata(schema))
        after = data.draw(edited(schema), label="edit")
        harness.converge(project, to_metadata(after), "--allow-destructive", "--allow-mass-drop")

    run()
