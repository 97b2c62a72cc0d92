"""Benchmark: `schemasync apply --all-targets`, sequential against `--parallel N`.

    python bench/targets_bench.py --targets 100 --tables 20 --parallel 8 [--dialect postgresql|mysql]

Creates a scratch database holding one schema per target (PostgreSQL, schema-per-tenant
`targets:` template) or one database per target (MySQL/MariaDB), writes models of N tables
(a few columns each, a foreign key to the previous table, an index), then times whole
`schemasync apply --all-targets --yes` processes: once with `--parallel 1`, once with
`--parallel N`, each on freshly emptied targets, and prints a table with the speed-up.
Every target is checked afterwards (`check --all-targets` must exit 0). Never a unit test: the
figures depend on the machine; compare the two rows of one run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import sqlalchemy as sa

URLS = {
    "postgresql": os.environ.get("SCHEMASYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mysql": os.environ.get("SCHEMASYNC_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


def models_source(tables: int) -> str:
    lines = ["import sqlalchemy as sa", "metadata = sa.MetaData()"]
    for n in range(tables):
        fk = f", sa.Column('parent_id', sa.Integer, sa.ForeignKey('t{n - 1:02d}.id'))" if n else ""
        lines.append(
            f"sa.Table('t{n:02d}', metadata, sa.Column('id', sa.Integer, primary_key=True), sa.Column('name', sa.String(80), nullable=False),"
            f" sa.Column('amount', sa.Numeric(12, 2), server_default='0'), sa.Column('note', sa.Text){fk},"
            f" sa.Index('ix_t{n:02d}_name', 'name'))"
        )
    return "\n".join(lines) + "\n"


class Place:
    """Where the targets live: N schemas of one PostgreSQL database, or N MySQL databases."""

    def __init__(self, dialect: str, count: int) -> None:
        self.dialect, self.count = dialect, count
        self.base = sa.engine.make_url(URLS[dialect])
        self.token = secrets.token_hex(4)
        self.names = [f"bench_{self.token}_{n:03d}" for n in range(count)]
        self.admin = sa.create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.database = f"bench_{self.token}"

    def targets_config(self) -> str:
        if self.dialect == "postgresql":
            url = self.base.set(database=self.database).render_as_string(hide_password=False)
            return f"targets:\n  database_url: {url}\n  schema: '{{name}}'\n  names: [{', '.join(self.names)}]\n"
        url = self.base.set(database="NAME").render_as_string(hide_password=False).replace("NAME", "{name}")
        return f"targets:\n  database_url: '{url}'\n  names: [{', '.join(self.names)}]\n"

    def reset(self) -> None:
        """Empty targets: drop and create every schema/database."""
        with self.admin.connect() as connection:
            if self.dialect == "postgresql":
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
                connection.exec_driver_sql(f"CREATE DATABASE {self.database}")
            else:
                for name in self.names:
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
                    connection.exec_driver_sql(f"CREATE DATABASE {name}")
        if self.dialect == "postgresql":
            engine = sa.create_engine(self.base.set(database=self.database))
            with engine.begin() as connection:
                for name in self.names:
                    connection.exec_driver_sql(f"CREATE SCHEMA {name}")
            engine.dispose()

    def drop(self) -> None:
        with self.admin.connect() as connection:
            if self.dialect == "postgresql":
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            else:
                for name in self.names:
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        self.admin.dispose()


def run(folder: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "schemasync", *args], cwd=folder, capture_output=True, text=True)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialect", choices=sorted(URLS), default="postgresql")
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=8)
    options = parser.parse_args()

    place = Place(options.dialect, options.targets)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench_models.py").write_text(models_source(options.tables))
        (folder / "schemasync.yaml").write_text("models: bench_models:metadata\n" + textwrap.dedent(place.targets_config()))
        rows = []
        try:
            for parallel in (1, options.parallel):
                place.reset()
                seconds, done = run(folder, "apply", "--all-targets", "--yes", "--parallel", str(parallel))
                if done.returncode != 0:
                    sys.exit(f"apply --parallel {parallel} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
                check = run(folder, "check", "--all-targets", "--parallel", str(options.parallel), "-q")[1]
                if check.returncode != 0:
                    sys.exit(f"check after apply --parallel {parallel} exited {check.returncode}:\n{check.stdout[-2000:]}")
                rows.append((parallel, seconds))
        finally:
            place.drop()
    base = rows[0][1]
    print(f"apply --all-targets: {options.targets} targets ({options.dialect}), {options.tables} new tables each\n")
    print(f"{'mode':<14} {'wall time':>10} {'per target':>11} {'speed-up':>9}")
    for parallel, seconds in rows:
        mode = "sequential" if parallel == 1 else f"--parallel {parallel}"
        print(f"{mode:<14} {seconds:>9.1f}s {seconds / options.targets * 1000:>9.0f}ms {base / seconds:>8.2f}x")


if __name__ == "__main__":
    main()
