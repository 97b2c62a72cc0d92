"""Property: declared fills and conversions (data_changes.py) converge with the expected values, row by row.

Hypothesis draws a table with rows, then a few applies of random edits: a column added (NOT NULL
or not) with a `backfill` over the columns there; a type change (INTEGER -> BIGINT) with a `using`
that changes the values; a split (a new column filled from one the same apply drops); a plain drop.
After each apply (`--allow-destructive`) the plan is empty, check is in sync, and every row holds the
values a Python model of the same edits computes. A fill reads the columns as they were before the
apply (never one the same apply converts: see docs/data-changes.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import harness
from tests.conftest import Project
from tests.test_convergence import SCALE, reset

EXAMPLES = {dialect: max(1, round(n * SCALE)) for dialect, n in {"sqlite": 12, "postgresql": 4, "mysql": 4}.items()}
# (SQL with {x} and {y} for columns, the same in Python)
EXPRESSIONS = (("{x} + 1", lambda x, y: x + 1), ("{x} * 2", lambda x, y: x * 2), ("{x} + {y}", lambda x, y: x + y), ("{x} - {y} - 3", lambda x, y: x - y - 3))
CONVERSIONS = (("{x} * 10", lambda x: x * 10), ("{x} + 7", lambda x: x + 7))


@dataclass
class Model:
    """The table as the models declare it, and the values each row must hold."""

    ids: list[int]
    types: dict[str, str] = field(default_factory=dict)  # column -> "int" | "big"
    nullable: dict[str, bool] = field(default_factory=dict)
    values: dict[str, list[int]] = field(default_factory=dict)
    info: dict[str, dict[str, str]] = field(default_factory=dict)  # this apply's declarations
    added: int = 0

    def metadata(self) -> sa.MetaData:
        metadata = sa.MetaData()
        columns = [sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)]
        for name, kind in self.types.items():
            declared = {"schemasync": self.info[name]} if name in self.info else {}
            columns.append(sa.Column(name, sa.BigInteger if kind == "big" else sa.Integer, nullable=self.nullable[name], info=declared))
        sa.Table("t", metadata, *columns)
        return metadata


def _edit(data: st.DataObject, model: Model, touched: set[str]) -> None:
    """One random edit of `model` (and its expected values); `touched`: columns this apply already changes."""
    readable = [c for c in model.types if c not in touched]
    kind = data.draw(st.sampled_from(("add", "convert", "split", "drop")))
    if kind == "add" and readable:
        sql, compute = data.draw(st.sampled_from(EXPRESSIONS))
        x, y = data.draw(st.sampled_from(readable)), data.draw(st.sampled_from(readable))
        model.added += 1
        name = f"c{model.added}"
        model.types[name], model.nullable[name] = "int", data.draw(st.booleans())
        model.values[name] = [compute(a, b) for a, b in zip(model.values[x], model.values[y])]
        model.info[name] = {"backfill": sql.format(x=x, y=y)}
        touched |= {name, x, y}
    elif kind == "convert" and (small := [c for c in readable if model.types[c] == "int"]):
        x = data.draw(st.sampled_from(small))
        sql, compute = data.draw(st.sampled_from(CONVERSIONS))
        model.types[x] = "big"
        model.values[x] = [compute(v) for v in model.values[x]]
        model.info[x] = {"using": sql.format(x=x)}
        touched.add(x)
    elif kind == "split" and (spare := [c for c in readable if c != "a"]):
        x = data.draw(st.sampled_from(spare))
        model.added += 1
        name = f"c{model.added}"
        model.types[name], model.nullable[name] = "int", False
        model.values[name] = [v + 1 for v in model.values[x]]
        model.info[name] = {"backfill": f"{x} + 1"}
        _drop(model, x)
        touched |= {name, x}
    elif kind == "drop" and (spare := [c for c in readable if c != "a"]):
        x = data.draw(st.sampled_from(spare))
        _drop(model, x)
        touched.add(x)


def _drop(model: Model, name: str) -> None:
    for mapping in (model.types, model.nullable, model.values, model.info):
        mapping.pop(name, None)


def _rows(url: str, model: Model) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            names = ", ".join(["id", *model.types])
            return [tuple(r) for r in connection.exec_driver_sql(f"SELECT {names} FROM t ORDER BY id")]
    finally:
        engine.dispose()


@pytest.mark.slow
def test_fills_and_conversions_converge_with_the_expected_values(project: Project) -> None:
    db = project.db

    @settings(max_examples=EXAMPLES[db.dialect], deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        reset(db.url)
        ids = sorted(data.draw(st.sets(st.integers(1, 1000), min_size=0, max_size=8), label="ids"))
        model = Model(ids, {"a": "int", "b": "int"}, {"a": False, "b": True})
        model.values = {"a": [data.draw(st.integers(-50, 50)) for _ in ids], "b": [data.draw(st.integers(-50, 50)) for _ in ids]}
        harness.converge(project, model.metadata())
        if ids:
            db.execute(*(f"INSERT INTO t (id, a, b) VALUES ({i}, {a}, {b})" for i, a, b in zip(ids, model.values["a"], model.values["b"])))
        for number in range(data.draw(st.integers(1, 3), label="applies")):
            model.info = {}
            touched: set[str] = set()
            for _ in range(data.draw(st.integers(1, 3), label=f"edits of apply {number + 1}")):
                _edit(data, model, touched)
            harness.converge(project, model.metadata(), "--allow-destructive", "--allow-mass-drop")
            expected = [(i, *(model.values[c][n] for c in model.types)) for n, i in enumerate(ids)]
            assert _rows(db.url, model) == expected

    run()
