"""Property: indexes beyond plain columns, constraint options and table options converge (issue 3).

Beside a core schema from test_convergence's generator, a table `fx` carries a random set of the
features of its dialect: partial, expression, descending and NULLS-ordered indexes, PostgreSQL
methods, INCLUDE and operator classes, MariaDB prefix lengths and FULLTEXT, deferrable uniques,
and table options (SQLite AUTOINCREMENT / WITHOUT ROWID / STRICT, MariaDB engine, charset,
ROW_FORMAT). Each apply draws the set anew (so features are added, changed and removed); after
each, the plan is empty, check is in sync, and the rows of `fx` are all there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import harness
from tests.conftest import Project
from tests.test_convergence import SCALE, reset, schemas, to_metadata

EXAMPLES = {dialect: max(1, round(n * SCALE)) for dialect, n in {"sqlite": 25, "postgresql": 10, "mysql": 10}.items()}
MAX_APPLIES = 3


@dataclass(frozen=True)
class Ix:
    name: str
    parts: tuple[str, ...]  # column names, or "lower(a)" for the expression part
    unique: bool = False
    where: str | None = None
    desc: tuple[str, ...] = ()
    nulls_first: tuple[str, ...] = ()
    options: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Fx:
    indexes: tuple[Ix, ...]
    table_options: tuple[tuple[str, object], ...] = ()
    deferrable: str | None = None  # None, "immediate", "deferred": the unique constraint on b


@st.composite
def index(draw: st.DrawFn, dialect: str, name: str) -> Ix:
    if dialect == "mysql":
        kind = draw(st.sampled_from(["plain", "length", "fulltext"]))
        if kind == "fulltext":
            return Ix(name, ("a",), options=(("mysql_prefix", "FULLTEXT"),))
        parts = tuple(draw(st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=2, unique=True)))
        options = (("mysql_length", {"a": draw(st.integers(2, 10))}),) if kind == "length" and "a" in parts else ()
        # MariaDB 10.8+, MySQL 8; SQLAlchemy cannot write mysql_length beside DESC (refused in one line).
        desc = tuple(p for p in parts if not options and draw(st.booleans()))
        return Ix(name, parts, draw(st.booleans()), desc=desc, options=options)
    parts = tuple(draw(st.lists(st.sampled_from(["a", "b", "lower(a)"]), min_size=1, max_size=2, unique=True)))
    where = draw(st.sampled_from([None, "b > 0", "b IS NOT NULL"]))
    desc = tuple(p for p in parts if draw(st.booleans()))
    nulls_first = tuple(p for p in parts if dialect == "postgresql" and draw(st.booleans()))
    options: list[tuple[str, object]] = []
    unique = draw(st.booleans())
    if dialect == "postgresql":
        method = draw(st.sampled_from([None, "hash", "brin"]))
        if method == "hash" or method == "brin":  # single-part, unordered, not unique
            return Ix(name, parts[:1], where=where, options=(("postgresql_using", method),))
        if draw(st.booleans()):
            options.append(("postgresql_include", ["c"]))
        if "a" in parts and draw(st.booleans()):
            options.append(("postgresql_ops", {"a": "text_pattern_ops"}))
    return Ix(name, parts, unique, where, desc, nulls_first, tuple(options))


@st.composite
def table_options(draw: st.DrawFn, dialect: str) -> tuple[tuple[str, object], ...]:
    if dialect == "sqlite":
        shape = draw(st.sampled_from(["rowid", "autoincrement", "without_rowid"]))
        found: list[tuple[str, object]] = [("sqlite_autoincrement", True)] if shape == "autoincrement" else []
        found += [("sqlite_with_rowid", False)] if shape == "without_rowid" else []
        return tuple(found + ([("sqlite_strict", True)] if draw(st.booleans()) else []))
    if dialect == "mysql":
        found = [("mysql_engine", draw(st.sampled_from(["InnoDB", "MyISAM"])))]
        found += [("mysql_charset", "latin1")] if draw(st.booleans()) else []
        found += [("mysql_row_format", "DYNAMIC")] if draw(st.booleans()) else []
        return tuple(found)
    return ()


@st.composite
def fx(draw: st.DrawFn, dialect: str) -> Fx:
    count = draw(st.integers(0, 3))
    indexes = tuple(draw(index(dialect, f"ix_fx_{n}")) for n in range(count))
    deferrable = draw(st.sampled_from([None, "immediate", "deferred"])) if dialect == "postgresql" else None
    return Fx(indexes, draw(table_options(dialect)), deferrable)


def add_fx(metadata: sa.MetaData, spec: Fx, dialect: str) -> None:
    text = sa.Text if dialect == "sqlite" else sa.String(20)  # STRICT takes TEXT, not VARCHAR(n)
    unique = sa.UniqueConstraint("b", name="uq_fx_b", deferrable=True if spec.deferrable else None,
                                 initially="DEFERRED" if spec.deferrable == "deferred" else None)
    table = sa.Table("fx", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", text),
                     sa.Column("b", sa.Integer), sa.Column("c", sa.Integer), unique, **dict(spec.table_options))
    for ix in spec.indexes:
        elements = []
        for part in ix.parts:
            element = sa.func.lower(table.c.a) if part == "lower(a)" else table.c[part]
            element = element.desc() if part in ix.desc else element
            elements.append(element.nulls_first() if part in ix.nulls_first else element)
        where = {"postgresql_where": sa.text(ix.where), "sqlite_where": sa.text(ix.where)} if ix.where else {}
        sa.Index(ix.name, *elements, unique=ix.unique, **where, **dict(ix.options))


def rows(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            return connection.exec_driver_sql("SELECT COUNT(*) FROM fx").scalar_one()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_indexes_and_options_converge(project: Project) -> None:
    db = project.db

    @settings(max_examples=EXAMPLES[db.dialect], deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        reset(db.url)
        core = data.draw(schemas(), label="core schema")
        for number in range(data.draw(st.integers(1, MAX_APPLIES), label="applies")):
            metadata = to_metadata(core)
            add_fx(metadata, data.draw(fx(db.dialect), label=f"fx {number}"), db.dialect)
            harness.converge(project, metadata, "--allow-destructive", "--allow-mass-drop")
            if number == 0:
                engine = sa.create_engine(db.url)
                with engine.begin() as connection:
                    connection.exec_driver_sql("INSERT INTO fx (id, a, b, c) VALUES (1, 'Ab', 1, 1), (2, 'cd', NULL, 2)")
                engine.dispose()
            assert rows(db.url) == 2

    run()
