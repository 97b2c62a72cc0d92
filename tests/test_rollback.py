"""Rollback brings the schema back to before an apply, and the data that apply dropped with it.

What an apply destroys is kept first, in `schemasync_backup_<id>_*` tables of the same database
(visible steps of the plan). `rollback` is the same pipeline fed the recorded snapshot: renames are
reversed by renames, dropped tables and columns come back with their rows and values, and what the
rollback itself drops (rows written since) is kept in turn so a roll-forward brings it back.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.capabilities import supports

V1 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(60), nullable=False),
    sa.Column("bio", sa.String(200)),
    sa.Index("ix_users_email", "email", unique=True))
sa.Table("posts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("title", sa.String(80)))
sa.Table("tags", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(20), nullable=False))
"""

# v2 drops a table (tags), drops a column (users.bio), narrows one (posts.title), renames one
# (users.email), and adds a column and a table that will hold rows written after the apply.
V2 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email_address", sa.String(60), nullable=False, info={"schemasync": {"renamed_from": "email"}}),
    sa.Column("nickname", sa.String(30)),
    sa.Index("ix_users_email", "email_address", unique=True))
sa.Table("posts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("title", sa.String(10)))
sa.Table("audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note", sa.String(50)))
"""


def _seed(db) -> None:
    db.execute(
        "INSERT INTO users (id, email, bio) VALUES (1, 'ada@example.com', 'first programmer'), (2, 'alan@example.com', NULL)",
        "INSERT INTO posts (id, user_id, title) VALUES (10, 1, 'short'), (11, 2, 'tiny')",
        "INSERT INTO tags (id, label) VALUES (1, 'sql'), (2, 'python')",
    )
    if not supports(db, "refuses_cutting_text"):  # MariaDB's strict mode refuses to narrow it; PostgreSQL cuts it, SQLite keeps it
        db.execute("INSERT INTO posts (id, user_id, title) VALUES (12, 1, 'a title much longer than ten')")


def _v1_data(db) -> dict:
    return {
        "users": db.rows("SELECT id, email, bio FROM users WHERE id IN (1, 2) ORDER BY id"),
        "posts": db.rows("SELECT id, user_id, title FROM posts ORDER BY id"),
        "tags": db.rows("SELECT id, label FROM tags ORDER BY id"),
    }


def _tables(db) -> set[str]:
    engine = db.engine()
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_rollback_restores_schema_and_data_then_rolls_forward(project):
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    before = _v1_data(project.db)

    plan = json.loads(project.cli("plan", "--json", models=v2).output)
    ops = [op["op"] for op in plan["operations"]]
    assert "backup_table" in ops and "backup_columns" in ops, ops
    first_loss = min(i for i, op in enumerate(plan["operations"]) if op["destructive"])
    assert max(i for i, op in enumerate(ops) if op.startswith("backup_")) < first_loss
    applied = project.cli("apply", "--yes", "--allow-destructive", models=v2)
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=v2).exit_code == 0  # backups are not drift, not unmanaged tables
    assert "schemasync_backup_2_tags" in _tables(project.db)
    if project.db.dialect == "postgresql":  # the narrowing cut the long title: only the backup still has it
        assert project.db.scalar("SELECT title FROM posts WHERE id = 12") == "a title mu"

    # Written after the apply: a new user, a nickname, an audit row.
    project.db.execute(
        "INSERT INTO users (id, email_address, nickname) VALUES (3, 'grace@example.com', 'amazing')",
        "UPDATE users SET nickname = 'countess' WHERE id = 1",
        "INSERT INTO audit (id, note) VALUES (1, 'written after v2')",
    )

    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    check = project.cli("check", models=v1)
    assert check.exit_code == 0, check.output
    assert _v1_data(project.db) == before
    assert project.db.rows("SELECT id, email FROM users WHERE id = 3") == [(3, "grace@example.com")]  # not thrown away

    history = json.loads(project.cli("history", "--json").output)
    assert [(h["id"], h["kind"], h["status"]) for h in history] == [(3, "rollback", "applied"), (2, "apply", "rolled back"), (1, "apply", "applied")]
    kept = {b["backup"]: b["rows"] for b in history[1]["backups"]}
    assert kept["schemasync_backup_2_tags"] == 2
    assert any(name.startswith("schemasync_backup_3_audit") for name in {b["backup"] for b in history[0]["backups"]})
    assert "schemasync_backup_2_tags" in project.cli("history").output

    # Roll forward: the rows written after v2 come back from what the rollback kept.
    forward = project.cli("apply", "--yes", "--allow-destructive", models=v2)
    assert forward.exit_code == 0, forward.output
    assert project.cli("check", models=v2).exit_code == 0
    assert project.db.rows("SELECT id, note FROM audit") == [(1, "written after v2")]
    assert project.db.rows("SELECT id, nickname FROM users ORDER BY id") == [(1, "countess"), (2, None), (3, "amazing")]
    project.db.execute("INSERT INTO audit (note) VALUES ('the key sequence moved past restored rows')")
    assert project.db.scalar("SELECT count(*) FROM audit") == 2

    # And back once more: v1 again, with its data.
    assert project.cli("rollback", "--yes").exit_code == 0
    assert project.cli("check", models=v1).exit_code == 0
    assert _v1_data(project.db) == before


V3 = V2.replace('sa.Column("note", sa.String(50)))', 'sa.Column("note", sa.String(50)), sa.Column("level", sa.Integer))')
V4 = V3.replace('sa.Column("nickname", sa.String(30)),', 'sa.Column("nickname", sa.String(30)), sa.Column("score", sa.Integer),')


def test_rollback_to_steps_back_through_every_later_apply(project):
    v1 = project.write_models("v1", V1)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    before = _v1_data(project.db)
    for n, source in enumerate((V2, V3, V4), 2):
        result = project.cli("apply", "--yes", "--allow-destructive", models=project.write_models(f"v{n}", source))
        assert result.exit_code == 0, result.output

    sql = project.cli("rollback", "--sql", "--to", "2")
    assert sql.exit_code == 0, sql.output
    assert [line.split(":")[1].strip() for line in sql.output.splitlines() if line.startswith("-- step ")] == [
        "roll back apply #4, recorded as schema_state #5", "roll back apply #3, recorded as schema_state #6", "roll back apply #2, recorded as schema_state #7"]
    assert project.cli("check", models=project.write_models("v4b", V4)).exit_code == 0  # --sql changed nothing

    rolled = project.cli("rollback", "--yes", "--to", "2")
    assert rolled.exit_code == 0, rolled.output
    assert rolled.output.count("Rolled back") == 3
    # What --sql printed, planned ahead from the recorded snapshots, is exactly what ran: same plans, same statements.
    recorded = _recorded_rollbacks(project.db)
    printed_hashes = [line.split()[3] for line in sql.output.splitlines() if line.startswith("-- schemasync plan ")]
    assert printed_hashes == [h for h, _ in recorded]
    assert _statements(sql.output) == _statements("\n".join(text for _, text in recorded))
    assert project.cli("check", models=project.write_models("v1b", V1)).exit_code == 0
    assert _v1_data(project.db) == before
    statuses = {h["id"]: h["status"] for h in json.loads(project.cli("history", "--json").output)}
    assert statuses[2] == statuses[3] == statuses[4] == "rolled back" and statuses[1] == "applied"


def _recorded_rollbacks(db) -> list[tuple[str, str]]:
    from schemasync.state import state_table

    engine = db.engine()
    try:
        with engine.connect() as connection:
            query = sa.select(state_table.c.plan_hash, state_table.c.sql).where(state_table.c.kind == "rollback").order_by(state_table.c.id)
            return [tuple(r) for r in connection.execute(query)]
    finally:
        engine.dispose()


def _statements(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("--")]


def test_rollback_refuses_drift_and_a_missing_backup_and_prune_asks(project):
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("rollback", "--yes").exit_code == 1  # nothing applied yet
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    assert project.cli("apply", "--yes", "--allow-destructive", models=v2).exit_code == 0

    project.db.execute("ALTER TABLE audit ADD COLUMN extra INTEGER")
    drifted = project.cli("rollback", "--yes")
    assert drifted.exit_code == 1 and "drift" in drifted.output and len(drifted.output.strip().splitlines()) == 1
    project.db.execute("ALTER TABLE audit DROP COLUMN extra")

    no_terminal = project.cli("rollback")
    assert no_terminal.exit_code == 1 and "pass --yes" in no_terminal.output

    assert project.cli("prune", "--keep", "0").exit_code == 1  # asks, and there is no terminal
    pruned = project.cli("prune", "--keep", "0", "--yes")
    assert pruned.exit_code == 0, pruned.output
    assert not any(name.startswith("schemasync_backup_") for name in _tables(project.db))
    assert "pruned" in project.cli("history").output

    refused = project.cli("rollback", "--yes")
    assert refused.exit_code == 1
    assert "schemasync_backup_2_" in refused.output and "gone" in refused.output
    assert project.cli("check", models=v2).exit_code == 0  # nothing was changed


def test_rollback_compares_as_check_does_names_the_models_give_in_the_servers_form(project):
    """Constraint names the models give in the form of the server's own (Airflow's `adrq_asset_fkey`):
    `check` finds the schema in sync, so `rollback` sees no drift either and runs."""
    from tests.test_false_drift import SERVER_LIKE_NAMES

    models = project.write_models("m", SERVER_LIKE_NAMES)
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    assert project.cli("check", models=models).exit_code == 0
    rolled = project.cli("rollback", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert not {"parent", "child"} & set(_tables(project.db))


def test_an_apply_cut_off_after_its_last_step_is_recovered_with_names_the_models_give_in_the_servers_form(project):
    """The recovery of an apply whose session died after its last statement compares as `check` does:
    every change in place, so the row is recorded as applied, not as interrupted."""
    from tests.test_false_drift import SERVER_LIKE_NAMES

    models = project.write_models("m", SERVER_LIKE_NAMES)
    assert project.cli("apply", "--yes", models=models).exit_code == 0
    project.db.execute("UPDATE schema_state SET status = 'running' WHERE id = 1")  # as a killed session leaves it
    recovered = project.cli("apply", "--yes", models=models)
    assert recovered.exit_code == 0 and "every change it made is in place" in recovered.output, recovered.output


def test_prune_keeps_the_newest_backups_from_the_config(project):
    (project.path / "schemasync.yaml").write_text("keep_backups: 1\n")
    v1, v2 = project.write_models("v1", V1), project.write_models("v2", V2)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    assert project.cli("apply", "--yes", "--allow-destructive", models=v2).exit_code == 0
    assert project.cli("rollback", "--yes").exit_code == 0
    backups = {t for t in _tables(project.db) if t.startswith("schemasync_backup_")}
    assert any(t.startswith("schemasync_backup_2_") for t in backups) and any(t.startswith("schemasync_backup_3_") for t in backups)
    assert project.cli("prune", "--yes").exit_code == 0
    left = {t for t in _tables(project.db) if t.startswith("schemasync_backup_")}
    assert left and all(t.startswith("schemasync_backup_3_") for t in left)


# v2 plus a unique constraint the data breaks: the apply fails on its last step, after the drops.
V2_FAILING = V2.replace('sa.Column("title", sa.String(10)))', 'sa.Column("title", sa.String(10)), sa.UniqueConstraint("title", name="uq_posts_title"))')


def test_a_failed_apply_leaves_a_state_from_which_apply_and_rollback_work(project):
    v1, v2 = project.write_models("v1", V1), project.write_models("v2f", V2_FAILING)
    assert project.cli("apply", "--yes", models=v1).exit_code == 0
    _seed(project.db)
    project.db.execute("INSERT INTO posts (id, user_id, title) VALUES (13, 2, 'tiny')")  # a duplicate title
    before = _v1_data(project.db)

    # Pre-flight would see the duplicate and refuse before anything runs (test_preflight.py): skip it to make the apply fail.
    failed = project.cli("apply", "--yes", "--allow-destructive", "--no-preflight", models=v2)
    assert failed.exit_code == 1 and "failed" in failed.output
    history = json.loads(project.cli("history", "--json").output)
    assert history[0]["status"] == "failed"

    if not supports(project.db, "transactional_ddl"):  # DDL commits: stopped at a recorded step, the drops done
        assert history[0]["steps_done"] >= 1 and "tags" not in _tables(project.db)
        assert project.cli("check", models=v1).exit_code == 2
        rolled = project.cli("rollback", "--yes")
        assert rolled.exit_code == 0, rolled.output
        assert json.loads(project.cli("history", "--json").output)[1]["status"] == "rolled back"
    else:  # all or nothing: not even the backups were made
        assert history[0]["steps_done"] == 0 and history[0]["backups"] == []
        assert not any(t.startswith("schemasync_backup_") for t in _tables(project.db))
    check = project.cli("check", models=v1)
    assert check.exit_code == 0, check.output
    assert _v1_data(project.db) == before

    project.db.execute("DELETE FROM posts WHERE id = 13")
    before = _v1_data(project.db)
    applied = project.cli("apply", "--yes", "--allow-destructive", models=v2)
    assert applied.exit_code == 0, applied.output
    assert project.cli("check", models=v2).exit_code == 0
    assert project.cli("rollback", "--yes").exit_code == 0
    assert project.cli("check", models=v1).exit_code == 0
    assert _v1_data(project.db) == before


def test_backup_names_fit_the_server_and_tables_without_a_key_are_named_in_a_hint():
    from schemasync.backup import backup_name, protect
    from schemasync.operations import DropColumn
    from schemasync.snapshot import Column, Snapshot, Table

    taken: set[str] = set()
    long_name = "a_table_with_a_rather_long_name_that_goes_on_and_on_" * 2
    first = backup_name(12, long_name, "__columns", 63, taken)
    second = backup_name(12, long_name, "__columns", 63, taken)
    assert len(first) <= 63 and len(second) <= 63 and first != second and first.startswith("schemasync_backup_12_")

    keyless = Table("log", (Column("line", "TEXT"), Column("at", "TEXT")))
    steps, records, notes = protect([DropColumn(keyless.key, keyless.columns[1])], Snapshot("sqlite", (keyless,)), 3, 63)
    assert steps == [] and records == [] and "log.(at)" in notes[0] and "primary key" in notes[0]
