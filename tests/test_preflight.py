"""Pre-flight: rows that would make a data-dependent step fail are counted before anything runs.

Each case applies a v1 schema with rows, then asks for one change the rows break. `apply` must
refuse with the exact count, and leave the schema, the rows and schema_state as they were.
"""

from __future__ import annotations

import json

import pytest

from tests.capabilities import CAPABILITIES, DIALECTS, dialects_with


def supports_name(dialect: str, capability: str) -> bool:
    return dialect in CAPABILITIES[capability]

V1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
parent = sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
child = sa.Table(
    "child", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("parent_id", sa.Integer),
    sa.Column("email", sa.String(50)),
    sa.Column("qty", sa.BigInteger),
    sa.Column("code", sa.String(50)),
    {extra}
)
"""

ROWS = [
    "INSERT INTO parent (id) VALUES (1)",
    "INSERT INTO parent (id) VALUES (2)",
    "INSERT INTO child (id, parent_id, email, qty, code) VALUES (1, 1, 'a@x', 5, 'aaaa')",
    "INSERT INTO child (id, parent_id, email, qty, code) VALUES (2, 9, NULL, 70000, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')",
    "INSERT INTO child (id, parent_id, email, qty, code) VALUES (3, NULL, 'a@x', 3, 'c')",
    "INSERT INTO child (id, parent_id, email, qty, code) VALUES (4, 8, NULL, 2, 'dd')",
]


def models(**replace: str) -> str:
    """V1 with some column lines replaced (by column name) and table-level items added (`extra`)."""
    source = V1.format(extra=replace.pop("extra", ""))
    for name, line in replace.items():
        start = source.index(f'sa.Column("{name}"')
        end = source.index("\n", start)
        source = source[:start] + line + source[end:]
    return source


CASES = {
    "set_not_null": (
        models(email='sa.Column("email", sa.String(50), nullable=False),'),
        "child.email: 2 rows are NULL; backfill them first or keep the column nullable",
    ),
    "not_null_column_without_default": (
        models(extra='sa.Column("age", sa.Integer, nullable=False),'),
        "child.age: NOT NULL with no server_default, and the table has 4 rows",
    ),
    "unique": (
        models(extra='sa.UniqueConstraint("email", name="uq_child_email"),'),
        "child(email): 2 rows share a value with another row",
    ),
    "unique_index": (
        models(extra='sa.Index("ix_child_email", "email", unique=True),'),
        "child(email): 2 rows share a value with another row",
    ),
    "foreign_key": (
        models(extra='sa.ForeignKeyConstraint(["parent_id"], ["parent.id"], name="fk_child_parent"),'),
        "child(parent_id): 2 rows point at no row of parent(id)",
    ),
    "check": (
        models(extra='sa.CheckConstraint("qty < 1000", name="ck_child_qty"),'),
        "child check ck_child_qty: 1 row fails",
    ),
    "narrow_text": (
        models(code='sa.Column("code", sa.String(10)),'),
        "child.code: 1 value is longer than 10 characters",
    ),
    "narrow_integer": (
        models(qty='sa.Column("qty", sa.SmallInteger),'),
        "child.qty: 1 value is outside SMALLINT",  # MariaDB spells it SMALLINT(6)
        "'s range (-32768 to 32767); fix them first or keep the wider type",
    ),
}


def _state_rows(project) -> int:
    return project.db.scalar("SELECT COUNT(*) FROM schema_state")


# Narrowings fail only where the server refuses a value that does not fit: MariaDB (strict mode)
# for text and numbers, PostgreSQL for numbers (its USING cast cuts text: data loss, kept for
# rollback); SQLite enforces neither and keeps every value.
# The capability that makes the server refuse each narrowing (the other cases fail everywhere).
REFUSED_BY = {"narrow_text": "refuses_cutting_text", "narrow_integer": "refuses_numbers_out_of_range"}
REFUSING = [(case, d) for case in sorted(CASES) for d in (dialects_with(REFUSED_BY[case]) if case in REFUSED_BY else DIALECTS)]
# (SQLite keeps every value: its narrowing is neither a failure nor data loss, test_false_drift.py.)
TAKING = [(case, d) for case in sorted(REFUSED_BY) for d in dialects_with(lacking=(REFUSED_BY[case],)) if not supports_name(d, "narrowing_keeps_values")]


@pytest.mark.parametrize(("case", "db"), REFUSING, indirect=["db"])
def test_preflight_refuses_with_the_exact_count_and_changes_nothing(project, case):
    after_source, *expected = CASES[case]
    before = project.write_models("v1", models())
    after = project.write_models(f"v2_{case}", after_source)
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute(*ROWS)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    assert planned["preconditions"], "the plan carries the question it will ask"
    assert "data-dependent" in planned["hazards"]
    states = _state_rows(project)

    refused = project.cli("apply", "--yes", "--allow-destructive", models=after)

    assert refused.exit_code == 1, refused.output
    assert all(fragment in refused.output for fragment in expected), refused.output
    assert "pre-flight" in refused.output and "nothing was changed" in refused.output
    # The plan it refuses is shown first (stdout); the error is one line on stderr, no traceback.
    assert refused.stdout.startswith("Plan (") and "Traceback" not in refused.output
    assert len(refused.stderr.strip().splitlines()) == 1
    # Untouched: the same plan (same source fingerprint), the same rows, no schema_state row.
    again = json.loads(project.cli("plan", "--json", models=after).output)
    assert again["source_fingerprint"] == planned["source_fingerprint"]
    assert project.db.scalar("SELECT COUNT(*) FROM child") == 4
    assert _state_rows(project) == states
    assert project.cli("check", models=before).exit_code == 0


def test_after_fixing_the_rows_the_same_change_applies(project):
    before = project.write_models("v1", models())
    after = project.write_models("v2", models(email='sa.Column("email", sa.String(50), nullable=False),'))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute(*ROWS)
    assert project.cli("apply", "--yes", models=after).exit_code == 1
    project.db.execute("UPDATE child SET email = 'backfilled' WHERE email IS NULL")
    applied = project.cli("apply", "--yes", models=after)
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=after).exit_code == 0
    assert project.db.scalar("SELECT COUNT(*) FROM child WHERE email = 'backfilled'") == 2


def test_a_not_null_column_with_a_server_default_just_works(project):
    before = project.write_models("v1", models())
    after = project.write_models("v2", models(extra='sa.Column("age", sa.Integer, nullable=False, server_default="7"),'))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute(*ROWS)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    assert planned["preconditions"] == []
    applied = project.cli("apply", "--yes", models=after)
    assert applied.exit_code == 0, applied.output
    assert project.db.rows("SELECT DISTINCT age FROM child") == [(7,)]
    assert project.cli("check", models=after).exit_code == 0


def test_an_empty_table_needs_no_default(project):
    """The refusal is about rows, not about the declaration: an empty table takes the column."""
    before = project.write_models("v1", models())
    after = project.write_models("v2", models(extra='sa.Column("age", sa.Integer, nullable=False),'))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    applied = project.cli("apply", "--yes", models=after)
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=after).exit_code == 0


def test_a_foreign_key_to_a_table_the_plan_creates_counts_every_set_reference(project):
    before = project.write_models("v1", models())
    after_source = models(extra='sa.ForeignKeyConstraint(["parent_id"], ["owner.id"], name="fk_child_owner"),') + (
        '\nsa.Table("owner", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))\n'
    )
    after = project.write_models("v2", after_source)
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute(*ROWS)
    refused = project.cli("apply", "--yes", models=after)
    assert refused.exit_code == 1
    assert "child(parent_id): 3 rows point at no row of a table this plan creates" in refused.output
    assert "owner" not in project.cli("inspect", models=before).output


def test_a_saved_plan_carries_its_preconditions(project, tmp_path):
    before = project.write_models("v1", models())
    after = project.write_models("v2", models(email='sa.Column("email", sa.String(50), nullable=False),'))
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute(*ROWS)
    saved = tmp_path / "plan.json"
    assert project.cli("plan", "--out", str(saved), models=after).exit_code == 0
    refused = project.cli("apply", "--yes", "--plan", str(saved), models=after)
    assert refused.exit_code == 1 and "child.email: 2 rows are NULL" in refused.output


@pytest.mark.parametrize(("case", "db"), TAKING, indirect=["db"])
def test_narrowing_that_the_server_takes_is_data_loss_not_failure(project, case):
    """Where the server cuts (PostgreSQL text) or keeps (SQLite) what does not fit, there is nothing
    to refuse: the step is data loss, needs --allow-destructive, and the old values are kept."""
    after_source = CASES[case][0]
    before = project.write_models("v1", models())
    after = project.write_models(f"v2_{case}", after_source)
    assert project.cli("apply", "--yes", models=before).exit_code == 0
    project.db.execute(*ROWS)
    planned = json.loads(project.cli("plan", "--json", models=after).output)
    assert not any(c["kind"] == "fits" for c in planned["preconditions"])
    assert project.cli("apply", "--yes", models=after).exit_code == 1  # data loss needs the flag
    applied = project.cli("apply", "--yes", "--allow-destructive", models=after)
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=after).exit_code == 0
    backups = [t for t in project.cli("history").output.split() if t.startswith("schemasync_backup_")]
    assert backups, "the narrowed values are kept for rollback"
