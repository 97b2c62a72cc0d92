"""Property: column-level features (issue 3) converge under random edits, on their dialects.

Hypothesis draws a table whose columns carry the features of each dialect (generated columns,
VIRTUAL or STORED; collations; PostgreSQL identity options; MariaDB unsigned integers, ENUM and
SET), then redraws some of them a few times. After each apply (`--allow-destructive`) the plan is
empty, check is in sync, and the table's row is still there. The convergence assertion is tests/harness.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql

from tests import harness
from tests.conftest import Project
from tests.test_convergence import SCALE, reset

EXAMPLES = {dialect: max(1, round(n * SCALE)) for dialect, n in {"sqlite": 15, "postgresql": 5, "mysql": 5}.items()}
# No subtraction: MariaDB refuses `b - a` in a generated column when b is UNSIGNED (error 1901).
EXPRESSIONS = ("a + b", "a * 2", "b * 3")
COLLATIONS = {"sqlite": (None, "NOCASE", "RTRIM"), "postgresql": (None, "C", "POSIX"), "mysql": (None, "utf8mb4_bin", "utf8mb4_unicode_ci")}
# PostgreSQL 15 has only STORED generated columns.
KINDS = {"sqlite": (False, True), "postgresql": (True,), "mysql": (False, True)}


@dataclass(frozen=True)
class Features:
    generated: tuple[tuple[str, bool] | None, ...]  # per generated slot: (expression, stored) or absent
    collation: str | None
    identity: tuple[bool, int, int] | None  # PostgreSQL: (always, start, increment)
    enum: tuple[str, ...]  # MariaDB
    unsigned: bool  # MariaDB


@st.composite
def features(draw: st.DrawFn, dialect: str) -> Features:
    generated = st.none() | st.tuples(st.sampled_from(EXPRESSIONS), st.sampled_from(KINDS[dialect]))
    return Features(
        generated=tuple(draw(generated) for _ in range(2)),
        collation=draw(st.sampled_from(COLLATIONS[dialect])),
        identity=draw(st.none() | st.tuples(st.booleans(), st.integers(1, 3), st.integers(1, 3))) if dialect == "postgresql" else None,
        enum=tuple(draw(st.permutations(["x", "y", "z"]))[: draw(st.integers(2, 3))]) if dialect == "mysql" else (),
        unsigned=draw(st.booleans()) if dialect == "mysql" else False,
    )


def to_metadata(f: Features) -> sa.MetaData:
    metadata = sa.MetaData()
    key = sa.Column("id", sa.BigInteger if f.identity else sa.Integer, *([sa.Identity(always=f.identity[0], start=f.identity[1], increment=f.identity[2])] if f.identity else []), primary_key=True)
    columns = [key, sa.Column("a", sa.Integer), sa.Column("b", mysql.INTEGER(unsigned=True) if f.unsigned else sa.Integer)]
    for number, generated in enumerate(f.generated):
        if generated is not None:
            columns.append(sa.Column(f"g{number}", sa.Integer, sa.Computed(generated[0], persisted=generated[1])))
    columns.append(sa.Column("s", sa.String(20, collation=f.collation)))
    if f.enum:
        columns.append(sa.Column("e", mysql.ENUM(*f.enum)))
    sa.Table("t", metadata, *columns)
    return metadata


def converge(project: Project, f: Features) -> None:
    harness.converge(project, to_metadata(f), "--allow-destructive", "--allow-mass-drop")


def row_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT COUNT(*) FROM t").scalar()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_column_features_converge(project: Project) -> None:
    db = project.db

    @settings(max_examples=EXAMPLES[db.dialect], deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        reset(db.url)
        f = data.draw(features(db.dialect), label="first")
        converge(project, f)
        db.execute("INSERT INTO t (a, b, s) VALUES (1, 2, 'x')")
        for number in range(data.draw(st.integers(1, 3), label="edits")):
            f = data.draw(features(db.dialect), label=f"edit {number + 1}")
            converge(project, f)
            assert row_count(db.url) == 1

    run()
