"""Declared renames keep the data (RENAME, never drop + add); undeclared look-alikes get a hint only."""

from __future__ import annotations

import json

from tests.capabilities import supports
from tests.harness import converge

BEFORE = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("clients", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(60), nullable=False, unique=True),
    sa.Column("name", sa.String(40)),
    sa.Index("ix_clients_name", "name"))
sa.Table("orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False))
"""

AFTER = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("customers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email_address", sa.String(60), nullable=False, unique=True, info={"schemasync": {"renamed_from": "email"}}),
    sa.Column("name", sa.String(80)),
    sa.Index("ix_clients_name", "name"),
    info={"schemasync": {"renamed_from": "clients"}})
sa.Table("orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False))
"""


def test_declared_table_and_column_renames_keep_rows(project):
    before, after = project.write_models("b", BEFORE), project.write_models("a", AFTER)
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute("INSERT INTO clients (id, email, name) VALUES (1, 'a@example.com', 'Ada')", "INSERT INTO orders (id, client_id) VALUES (10, 1)")

    plan = json.loads(project.cli("plan", "--json", models=after).output)
    ops = [op["op"] for op in plan["operations"]]
    assert ops[:2] == ["rename_table", "rename_column"], ops
    assert not any(op["destructive"] for op in plan["operations"])
    assert "drop_table" not in ops and "drop_column" not in ops

    converge(project, after)  # the declaration is inert once applied: nothing left to do
    assert project.db.rows("SELECT id, email_address, name FROM customers") == [(1, "a@example.com", "Ada")]
    assert project.db.rows("SELECT id, client_id FROM orders") == [(10, 1)]


def test_a_look_alike_drop_and_add_is_never_renamed_but_hinted(project):
    before = project.write_models("b", BEFORE)
    after = project.write_models("a", BEFORE.replace('"email"', '"email_address"'))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    plan = json.loads(project.cli("plan", "--json", models=after).output)
    assert "rename_column" not in [op["op"] for op in plan["operations"]]
    assert any("renamed_from" in hint and "email_address" in hint for hint in plan["hints"])
    assert "hint:" in project.cli("plan", models=after).output


OBJECTS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("owners", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
sa.Table("pets", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("legs", sa.Integer, nullable=False),
    sa.Column("owner_id", sa.Integer, nullable=False),
    sa.Index("{ix}", "name"{ix_info}),
    sa.UniqueConstraint("name", "owner_id", name="{uq}"{uq_info}),
    sa.CheckConstraint("legs >= 0", name="{ck}"{ck_info}),
    sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], name="{fk}"{fk_info}))
"""
OLD = {"ix": "ix_pets_name", "uq": "uq_pets_name_owner", "ck": "ck_pets_legs", "fk": "fk_pets_owner"}
NEW = {"ix": "ix_pets_by_name", "uq": "uq_pets_owner_name", "ck": "ck_pets_legs_positive", "fk": "fk_pets_owned_by"}


def _objects(names: dict[str, str], declared: bool) -> str:
    info = {f"{k}_info": (f', info={{"schemasync": {{"renamed_from": "{OLD[k]}"}}}}' if declared else "") for k in OLD}
    return OBJECTS.format(**names, **info)


def test_declared_index_and_constraint_renames_rename_and_keep_rows(project):
    before = project.write_models("b", _objects(OLD, declared=False))
    after = project.write_models("a", _objects(NEW, declared=True))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute("INSERT INTO owners (id) VALUES (1)", "INSERT INTO pets (id, name, legs, owner_id) VALUES (7, 'Rex', 4, 1)")

    plan = json.loads(project.cli("plan", "--json", models=after).output)
    summaries = [op["summary"] for op in plan["operations"]]
    assert not any(op["destructive"] for op in plan["operations"])
    if supports(project.db, "renames_constraints_in_place"):  # every kind renames in place
        assert sorted(op["op"] for op in plan["operations"]) == ["rename_constraint"] * 3 + ["rename_index"], summaries
    elif supports(project.db, "renames_indexes_in_place"):  # index and unique (an index here) rename in place; a check or key is dropped and added
        ops = [op["op"] for op in plan["operations"]]
        assert ops.count("rename_index") == 2 and "drop_table" not in ops and "drop_column" not in ops, summaries
    else:  # SQLite: the index is dropped and created, the constraints renamed by the rebuild
        ops = [op["op"] for op in plan["operations"]]
        assert set(ops) <= {"drop_index", "create_index", "rebuild_table"} and "rebuild_table" in ops, summaries

    converge(project, after)  # inert once applied
    assert project.db.rows("SELECT id, name, legs, owner_id FROM pets") == [(7, "Rex", 4, 1)]
    shown = project.cli("inspect").output
    for new_name in NEW.values():
        if new_name == NEW["fk"] and not supports(project.db, "foreign_key_names_reflected"):
            continue  # SQLAlchemy reflects SQLite foreign keys without their names
        assert new_name in shown, new_name
    for old_name in OLD.values():
        assert f"name: {old_name}\n" not in shown, old_name


def test_a_look_alike_index_or_constraint_is_renamed_without_a_declaration(project):
    """The models' names are carried (issue 16): the same definition under another live name is a
    visible rename step, declared or not; the rows stay."""
    before = project.write_models("b", _objects(OLD, declared=False))
    after = project.write_models("a", _objects({**OLD, "ix": NEW["ix"], "ck": NEW["ck"]}, declared=False))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute("INSERT INTO owners (id) VALUES (1)", "INSERT INTO pets (id, name, legs, owner_id) VALUES (7, 'Rex', 4, 1)")
    plan = json.loads(project.cli("plan", "--json", models=after).output)
    summaries = " | ".join(op["summary"] for op in plan["operations"])
    assert not any(op["destructive"] for op in plan["operations"])
    if project.db.dialect == "sqlite":  # no ALTER INDEX: dropped (made again by the rebuild that renames the check)
        assert f"drop index {OLD['ix']}" in summaries and f"rename check {OLD['ck']} on pets to {NEW['ck']}" in summaries, summaries
    else:
        assert f"rename index {OLD['ix']} on pets to {NEW['ix']}" in summaries, summaries
    if project.db.dialect == "postgresql":
        assert f"rename check {OLD['ck']} on pets to {NEW['ck']}" in summaries, summaries
    assert project.cli("apply", "--yes", models=after).exit_code == 0
    assert "No changes." in project.cli("plan", models=after).output
    assert project.db.rows("SELECT id, name, legs, owner_id FROM pets") == [(7, "Rex", 4, 1)]


def test_rollback_renames_indexes_and_constraints_back(project):
    before = project.write_models("b", _objects(OLD, declared=False))
    after = project.write_models("a", _objects(NEW, declared=True))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute("INSERT INTO owners (id) VALUES (1)", "INSERT INTO pets (id, name, legs, owner_id) VALUES (7, 'Rex', 4, 1)")
    assert project.cli("apply", "--yes", models=after).exit_code == 0

    shown = project.cli("rollback", "--sql").output
    if supports(project.db, "renames_indexes_in_place"):  # renamed back, not dropped and built again
        assert f"rename index {NEW['ix']} on pets to {OLD['ix']}" in shown, shown
    if supports(project.db, "renames_constraints_in_place"):
        assert shown.count("RENAME CONSTRAINT") == 3 and "ALTER INDEX" in shown, shown
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert project.cli("check", models=before).exit_code == 0
    assert project.db.rows("SELECT id, name, legs, owner_id FROM pets") == [(7, "Rex", 4, 1)]
