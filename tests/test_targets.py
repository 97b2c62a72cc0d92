"""Many targets: `targets:` in the config, `--target NAME`, `--all-targets --parallel N`. Each target
gets its own plan, lock and schema_state (a tenant's in its own PostgreSQL schema); one failing target
never stops or corrupts the others; the exit code reports it."""

from __future__ import annotations

import json
import os
import secrets
import textwrap
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemasync.cli import app
from schemasync.config import load_settings
from schemasync.errors import ConfigError, ExitCode
from tests.conftest import make_database

V0 = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("accounts", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(100), nullable=False))
"""
V1 = V0 + """
sa.Index("ix_accounts_email", metadata.tables["accounts"].c.email, unique=True)
sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False), sa.Column("total", sa.Numeric(10, 2)))
"""
TENANTS = [f"tenant_{n:02d}" for n in range(20)]
SHOPS = [f"shop_{n}" for n in range(5)]
BROKEN = ("tenant_07", "shop_2")


def cli(folder: Path, *args: str):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(app, list(args), catch_exceptions=False, env={})
    finally:
        os.chdir(cwd)


def write_project(folder: Path, source: str, targets: list[dict[str, str]]) -> None:
    module = f"m_targets_{secrets.token_hex(3)}"
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    (folder / "schemasync.yaml").write_text(json.dumps({"models": f"{module}:metadata", "targets": targets}))


@pytest.fixture
def servers(tmp_path: Path):
    """A PostgreSQL database with 20 tenant schemas and 5 MariaDB databases."""
    with ExitStack() as stack:
        pg = stack.enter_context(_generator(make_database("postgresql", tmp_path)))
        pg.execute(*[f"CREATE SCHEMA {t}" for t in TENANTS])
        shops = [stack.enter_context(_generator(make_database("mysql", tmp_path))) for _ in SHOPS]
        yield pg, dict(zip(SHOPS, shops))


class _generator:
    """A fixture-style generator as a context manager (closing it runs its clean-up)."""

    def __init__(self, generator):
        self.generator = generator

    def __enter__(self):
        return next(self.generator)

    def __exit__(self, *exc):
        self.generator.close()


def test_25_targets_in_parallel_one_broken_on_purpose(tmp_path: Path, servers):
    pg, shops = servers
    folder = tmp_path / "project"
    folder.mkdir()
    targets = [{"name": t, "database_url": pg.url, "schema": t} for t in TENANTS]
    targets += [{"name": name, "database_url": db.url} for name, db in shops.items()]

    # Break two targets on purpose: v0 applied there with duplicate emails, so v1's unique index fails.
    write_project(folder, V0, targets)
    for name in BROKEN:
        assert cli(folder, "apply", "--yes", "--target", name).exit_code == 0
    pg.execute("INSERT INTO tenant_07.accounts (email) VALUES ('a@x'), ('a@x')")
    shops["shop_2"].execute("INSERT INTO accounts (email) VALUES ('a@x'), ('a@x')")

    write_project(folder, V1, targets)
    result = cli(folder, "apply", "--all-targets", "--parallel", "4", "--yes")
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "2 of 25 targets failed" in result.output
    cells = [line.replace("│", " ").split() for line in result.output.splitlines()]
    rows = {c[0]: " ".join(c) for c in cells if c and c[0] in TENANTS + SHOPS}
    assert sorted(rows) == sorted(TENANTS + SHOPS)
    for name, line in rows.items():
        assert ("failed" in line) == (name in BROKEN), line

    for tenant in TENANTS:  # each tenant's tables and its own schema_state live in its schema
        states = pg.rows(f"SELECT status FROM {tenant}.schema_state ORDER BY id")
        tables = {r[0] for r in pg.rows(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{tenant}'")}
        if tenant == "tenant_07":
            assert states == [("applied",), ("failed",)] and "orders" not in tables  # rolled back
        else:
            assert states == [("applied",)] and tables == {"accounts", "orders", "schema_state"}
    assert pg.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'") == []
    for name, db in shops.items():
        states = db.rows("SELECT status FROM schema_state ORDER BY id")
        assert states == ([("applied",), ("failed",)] if name == "shop_2" else [("applied",)]), name
        if name != "shop_2":
            assert db.scalar("SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = 'ix_accounts_email'") == 1

    check = cli(folder, "check", "--all-targets", "--parallel", "4", "--format", "json")
    assert check.exit_code == ExitCode.PENDING, check.output
    report = json.loads(check.output)
    statuses = {t["name"]: t["status"] for t in report["targets"]}
    assert {n for n, s in statuses.items() if s != "in sync"} == set(BROKEN)
    history = json.loads(cli(folder, "history", "--json", "--target", "tenant_03").output)
    assert [row["status"] for row in history] == ["applied"]


def test_one_unreachable_target_fails_alone(tmp_path: Path, sqlite_db):
    folder = tmp_path / "project"
    folder.mkdir()
    targets = [{"name": "good", "database_url": sqlite_db.url}, {"name": "gone", "database_url": "postgresql+psycopg://nobody@127.0.0.1:9/x"}]
    write_project(folder, V1, targets)
    result = cli(folder, "apply", "--all-targets", "--parallel", "2", "--yes")
    assert result.exit_code == ExitCode.ERROR
    assert "cannot connect" in result.output and "1 of 2 targets failed" in result.output
    # Each plan is counted as people read it (changes, not bookkeeping steps), in the right plural.
    assert "good: 2 changes, hash sha256:" in result.output
    assert cli(folder, "check", "--target", "good").exit_code == ExitCode.OK
    plan = cli(folder, "plan", "--all-targets", "--json")
    assert plan.exit_code == ExitCode.ERROR
    assert [t["status"] for t in json.loads(plan.output)["targets"]] == ["no changes", "failed"]


def test_targets_config_forms_and_errors(tmp_path: Path):
    config = tmp_path / "schemasync.yaml"
    config.write_text("targets:\n  database_url: mysql+pymysql://root@h/{name}\n  names: [a, b]\n")
    settings = load_settings(config=str(config), environ={}, cwd=tmp_path)
    assert [(t.name, t.database_url, t.schema) for t in settings.targets] == [("a", "mysql+pymysql://root@h/a", None), ("b", "mysql+pymysql://root@h/b", None)]
    config.write_text("targets:\n  database_url: postgresql+psycopg://${U:-app}@h/app\n  schema: t_{name}\n  names: [a]\n")
    chosen = load_settings(config=str(config), environ={}, cwd=tmp_path, target="a")
    assert (chosen.database_url, chosen.default_schema, chosen.target_name) == ("postgresql+psycopg://app@h/app", "t_a", "a")
    with pytest.raises(ConfigError, match="unknown target 'c'"):
        load_settings(config=str(config), environ={}, cwd=tmp_path, target="c")
    config.write_text("targets:\n  - name: a\n    database_url: sqlite://\n  - name: a\n    database_url: sqlite://\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_settings(config=str(config), environ={}, cwd=tmp_path)


def test_all_targets_without_targets_is_one_line(tmp_path: Path):
    result = cli(tmp_path, "check", "--all-targets", "--models", "m:metadata")
    assert result.exit_code == ExitCode.ERROR
    assert "lists no targets" in result.output and len(result.output.strip().splitlines()) == 1


def test_schema_per_target_needs_postgresql(tmp_path: Path, sqlite_db):
    write_project(tmp_path, V1, [{"name": "a", "database_url": sqlite_db.url, "schema": "a"}])
    result = cli(tmp_path, "plan", "--target", "a")
    assert result.exit_code == ExitCode.ERROR and "needs PostgreSQL" in result.output
