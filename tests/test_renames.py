"""Declared renames keep the data (RENAME, never drop + add); undeclared look-alikes get a hint only."""

from __future__ import annotations

import json

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

    applied = project.cli("apply", "--yes", models=after)
    assert applied.exit_code == 0, applied.output
    assert project.db.rows("SELECT id, email_address, name FROM customers") == [(1, "a@example.com", "Ada")]
    assert project.db.rows("SELECT id, client_id FROM orders") == [(10, 1)]
    check = project.cli("check", models=after)
    assert check.exit_code == 0, check.output
    assert "No changes." in project.cli("plan", models=after).output  # the declaration is inert once applied


def test_a_look_alike_drop_and_add_is_never_renamed_but_hinted(project):
    before = project.write_models("b", BEFORE)
    after = project.write_models("a", BEFORE.replace('"email"', '"email_address"'))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    plan = json.loads(project.cli("plan", "--json", models=after).output)
    assert "rename_column" not in [op["op"] for op in plan["operations"]]
    assert any("renamed_from" in hint and "email_address" in hint for hint in plan["hints"])
    assert "hint:" in project.cli("plan", models=after).output
