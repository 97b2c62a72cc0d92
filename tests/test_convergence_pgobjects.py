"""Property: PostgreSQL enum types, sequences and tables in a second schema converge under random edits.

Hypothesis draws a chain of states: an enum type's values (added, dropped, reordered, in a named
schema or not), how many columns use it and their defaults, a standalone sequence's options (or
none), and whether a table lives in a second schema with a foreign key back. Each state is applied
(`apply --allow-destructive`); the plan must then be empty, `check` in sync, and the rows kept
(rows holding a value the next state drops are moved to a kept value first, as a user would).
Converges through tests/harness.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import harness
from tests.capabilities import requires
from tests.conftest import Project
from tests.test_convergence import SCALE

EXAMPLES = max(1, round(6 * SCALE))
POOL = ("red", "green", "blue", "it's", "Upper Case", "z")
SIDE = "side"


@dataclass(frozen=True)
class State:
    values: tuple[str, ...]
    enum_schema: str | None
    columns: int  # how many columns of `items` use the type (0: the type is standalone-less, so it goes)
    default: str | None  # the first such column's default (one of the values)
    sequence: tuple[int, int] | None  # (start, increment)
    side_table: bool


@st.composite
def states(draw: st.DrawFn, enum_schema: str | None) -> State:
    values = tuple(draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=4, unique=True)))
    columns = draw(st.integers(0, 2))
    default = draw(st.sampled_from((None, *values))) if columns else None
    sequence = draw(st.none() | st.tuples(st.integers(1, 50), st.integers(1, 5)))
    return State(values, enum_schema, columns, default, sequence, draw(st.booleans()))


def to_metadata(state: State) -> sa.MetaData:
    metadata = sa.MetaData()
    kind = sa.Enum(*state.values, name="shade", schema=state.enum_schema)
    columns = [sa.Column(f"c{n}", kind, server_default=state.default if n == 0 else None) for n in range(state.columns)]
    sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False), *columns)
    if state.sequence:
        sa.Sequence("tickets", metadata=metadata, start=state.sequence[0], increment=state.sequence[1], schema=SIDE)
    if state.side_table:
        sa.Table("notes", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id")), schema=SIDE)
    return metadata


def reset(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SIDE} CASCADE")
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


def prepare_rows(url: str, before: State | None, after: State) -> int:
    """Insert a row holding a value; move rows off values `after` drops (pre-flight would refuse). Returns the row count."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if before is None:
                return 0
            number = connection.exec_driver_sql("SELECT count(*) FROM items").scalar() + 1
            value = next((v for v in before.values if v in after.values), None)
            if before.columns and value is not None:
                connection.exec_driver_sql("INSERT INTO items (id, c0) VALUES (%(id)s, %(v)s)", {"id": number, "v": value})
            else:
                connection.exec_driver_sql("INSERT INTO items (id) VALUES (%(id)s)", {"id": number})
            if before.columns:
                kept = [v.replace("'", "''") for v in before.values if v in after.values]
                for n in range(min(before.columns, after.columns)):
                    replacement = f"'{kept[0]}'" if kept else "NULL"
                    literals = ", ".join("'" + v.replace("'", "''") + "'" for v in after.values)
                    connection.exec_driver_sql(f"UPDATE items SET c{n} = {replacement.replace('%', '%%')} WHERE c{n}::text NOT IN ({literals.replace('%', '%%')})")
            return number
    finally:
        engine.dispose()


def converge(project: Project, state: State, rows: int) -> None:
    """Apply the state; then the plan is empty, check is in sync and every row of `items` is still there."""
    harness.converge(project, to_metadata(state), "--allow-destructive", "--allow-mass-drop")
    assert project.db.scalar("SELECT count(*) FROM items") == rows


@pytest.mark.slow
@requires("enum_types", "sequences", "named_schemas")
def test_enum_types_sequences_and_schemas_converge(project: Project) -> None:
    pg_url = project.db.url
    (project.path / "schemasync.yaml").write_text(f"include_schemas: [{SIDE}]\n")

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        reset(pg_url)
        enum_schema = data.draw(st.sampled_from((None, SIDE)), label="enum schema")
        previous = None
        for number in range(data.draw(st.integers(2, 4), label="states")):
            state = data.draw(states(enum_schema), label=f"state {number + 1}")
            rows = prepare_rows(pg_url, previous, state)
            converge(project, state, rows)
            previous = state

    run()
