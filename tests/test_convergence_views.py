"""Property: random views over random tables (and over each other) converge through random edits.

Reuses test_convergence's schemas and edits (column drops and type changes under the views
included) and adds views: each reads a table or an earlier view, some of its columns, maybe with a
filter, materialized sometimes on PostgreSQL. After the table edits, each view is repaired as its
author would (columns that went are left out; a view with nothing left to read goes), then the
views themselves are edited (added, removed, columns and filters changed). After every apply the
plan is empty and `check` is in sync.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemasync
from tests import harness
from tests.capabilities import supports
from tests.conftest import Project
from tests.test_convergence import (
    MAX_APPLIES,
    Schema,
    edited,
    reset,
    schemas,
    to_metadata,
)

SCALE = float(os.environ.get("SCHEMASYNC_CONVERGENCE_SCALE", "1"))
EXAMPLES = {dialect: max(1, round(n * SCALE)) for dialect, n in {"sqlite": 40, "postgresql": 15, "mysql": 15}.items()}


@dataclass(frozen=True)
class Vw:
    name: str
    source: str  # a table, or an earlier view
    columns: tuple[str, ...]
    where: str | None = None  # "<column> IS NOT NULL"
    materialized: bool = False


@dataclass(frozen=True)
class World:
    schema: Schema
    views: tuple[Vw, ...] = ()
    serial: int = 0


def available(world: World, views: tuple[Vw, ...], source: str) -> list[str]:
    """The columns a view may read from `source` (a table of the schema or one of `views`)."""
    table = next((t for t in world.schema.tables if t.name == source), None)
    if table is not None:
        return [c.name for c in table.columns]
    view = next((v for v in views if v.name == source), None)
    return list(view.columns) if view else []


def repaired(world: World) -> World:
    """The views as their author would fix them after the tables changed under them."""
    kept: tuple[Vw, ...] = ()
    for view in world.views:
        there = available(world, kept, view.source)
        columns = tuple(c for c in view.columns if c in there)
        if columns:
            kept += (replace(view, columns=columns, where=view.where if view.where in there else None),)
    return replace(world, views=kept)


@st.composite
def new_view(draw: st.DrawFn, world: World, materialized_ok: bool) -> World:
    sources = [t.name for t in world.schema.tables] + [v.name for v in world.views if not v.materialized]
    if not sources:
        return world
    source = draw(st.sampled_from(sources))
    there = available(world, world.views, source)
    columns = tuple(draw(st.lists(st.sampled_from(there), min_size=1, max_size=3, unique=True)))
    where = draw(st.none() | st.sampled_from(there))
    materialized = materialized_ok and draw(st.integers(0, 3)) == 0
    view = Vw(f"vw{world.serial}", source, columns, where, materialized)
    return replace(world, views=world.views + (view,), serial=world.serial + 1)


@st.composite
def view_edits(draw: st.DrawFn, world: World, materialized_ok: bool) -> World:
    for _ in range(draw(st.integers(0, 2))):
        choice = draw(st.sampled_from(["add", "drop", "columns", "filter"]))
        if choice == "add" or not world.views:
            world = draw(new_view(world, materialized_ok))
            continue
        index = draw(st.integers(0, len(world.views) - 1))
        view = world.views[index]
        if choice == "drop":
            # a view that others read goes with them (repaired() drops readers of a missing source)
            world = replace(world, views=world.views[:index] + world.views[index + 1:])
            world = repaired(world)
            continue
        there = available(world, world.views[:index], view.source)
        if choice == "columns":
            view = replace(view, columns=tuple(draw(st.lists(st.sampled_from(there), min_size=1, max_size=3, unique=True))))
        else:
            view = replace(view, where=draw(st.none() | st.sampled_from(there)))
        world = repaired(replace(world, views=world.views[:index] + (view,) + world.views[index + 1:]))
    return world


def to_models(world: World) -> sa.MetaData:
    metadata = to_metadata(world.schema)
    made: dict[str, schemasync.View] = {}
    for view in world.views:
        source = metadata.tables[view.source] if view.source in metadata.tables else made[view.source].table
        select = sa.select(*[source.c[c] for c in view.columns])
        if view.where:
            select = select.where(source.c[view.where].is_not(None))
        made[view.name] = schemasync.View(view.name, select, metadata, materialized=view.materialized)
    return metadata


def reset_all(url: str) -> None:
    """Views first (test_convergence's reset drops tables), then everything else."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            inspector = sa.inspect(connection)
            quote = engine.dialect.identifier_preparer.quote
            for name in inspector.get_view_names():
                connection.exec_driver_sql(f"DROP VIEW IF EXISTS {quote(name)}" + (" CASCADE" if engine.dialect.name == "postgresql" else ""))
    finally:
        engine.dispose()
    reset(url)


def converge(project: Project, world: World) -> None:
    harness.converge(project, to_models(world), "--allow-destructive", "--allow-mass-drop")


@pytest.mark.slow
def test_random_views_over_random_edits_converge(project: Project) -> None:
    db = project.db
    materialized_ok = supports(db, "materialized_views")

    @settings(max_examples=EXAMPLES[db.dialect], deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        reset_all(db.url)
        world = World(data.draw(schemas(), label="schema"))
        for _ in range(data.draw(st.integers(1, 3), label="views")):
            world = data.draw(new_view(world, materialized_ok), label="view")
        converge(project, world)
        for number in range(data.draw(st.integers(1, MAX_APPLIES), label="edits")):
            world = repaired(replace(world, schema=data.draw(edited(world.schema), label=f"edit {number + 1}")))
            world = data.draw(view_edits(world, materialized_ok), label=f"view edit {number + 1}")
            converge(project, world)

    run()
