"""The harness itself: capability gates fail loudly on a typo, and the convergence helper's schema
comparison catches a difference (a helper that never fails would make every test using it pass)."""

from __future__ import annotations

import pytest

from tests.capabilities import CAPABILITIES, DIALECTS, dialects_with, requires, supports
from tests.harness import HEADER, converge, mismatches

TABLE = HEADER + 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", sa.String(20)))\n'


def test_every_capability_names_known_dialects_and_some_dialect_has_it():
    for name, dialects in CAPABILITIES.items():
        assert dialects and dialects <= set(DIALECTS), name


def test_an_unknown_capability_is_an_error_not_a_skipped_test():
    with pytest.raises(KeyError, match="unknown capability 'identiy_columns'"):
        requires("identiy_columns")
    with pytest.raises(KeyError):
        supports("sqlite", "no_such_thing")
    with pytest.raises(ValueError, match="no dialect"):
        dialects_with("identity_columns", "auto_increment_off_the_key")


def test_gates_choose_dialects_by_what_they_have():
    assert dialects_with("expression_indexes") == ["sqlite", "postgresql"]
    assert dialects_with(lacking=("expression_indexes",)) == ["mysql"]
    assert dialects_with("online_ddl", lacking=("concurrent_index_builds",)) == ["mysql"]


def test_mismatches_name_what_differs():
    live = {"tables": {"t": {"columns": [{"name": "id"}], "primary_key": {"columns": ["id"], "name": None}}}}
    assert list(mismatches({"tables": {"t": {"primary_key": {"columns": ["id"]}}}}, live, "schema")) == []
    assert list(mismatches({"tables": {"u": {}}}, live, "schema")) == ["schema.tables.u: missing"]
    assert list(mismatches({"tables": {"t": {"columns": []}}}, live, "schema")) == [
        "schema.tables.t.columns: expected [], found [{'name': 'id'}]"]


def test_converge_checks_the_live_schema_when_asked(sqlite_project):
    plan = converge(sqlite_project, TABLE, schema={"tables": {"t": {"primary_key": {"columns": ["id"]}}}})
    assert [op["op"] for op in plan["operations"]] == ["create_table"]
    with pytest.raises(AssertionError, match=r"schema.tables.t.primary_key.columns: expected \['s'\]"):
        converge(sqlite_project, TABLE, schema={"tables": {"t": {"primary_key": {"columns": ["s"]}}}})


def test_converge_fails_when_the_apply_is_refused(sqlite_project):
    converge(sqlite_project, TABLE)
    sqlite_project.db.execute("INSERT INTO t (id, s) VALUES (1, 'kept')")
    dropped = HEADER + 'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True))\n'
    with pytest.raises(AssertionError, match="--allow-destructive"):
        converge(sqlite_project, dropped)
    assert sqlite_project.db.rows("SELECT id, s FROM t") == [(1, "kept")]
