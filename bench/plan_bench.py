"""Benchmark: `schemasync plan` against Alembic's compare_metadata on one synthetic schema.

    python bench/plan_bench.py --dialect postgresql --tables 1000 --rounds 3

Builds a deterministic schema of N tables (8-15 columns of mixed types, a primary key, 1-2
foreign keys to earlier tables, 1-3 indexes including composite and unique ones, some checks
and server defaults), creates it on a scratch database, records it with `schemasync apply`,
then times whole processes, alternating, for several rounds:

  plan-in-sync   schemasync plan, models equal to the database (the CI case)
  plan-1%        schemasync plan with about 1% of the tables changed
  alembic        alembic.autogenerate.compare_metadata on the same connection and models
  reflection     SQLAlchemy's bulk reflection alone (Inspector.get_multi_*)
  load-models    importing the models module alone

and prints medians and ratios. Needs the `bench` extra (alembic). Never a unit test: the
machine is noisy, so compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import sqlalchemy as sa

SERVER_URLS = {
    "postgresql": os.environ.get("SCHEMASYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mysql": os.environ.get("SCHEMASYNC_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}

COLUMN_TYPES = [
    ("sa.Integer()", "0"),
    ("sa.BigInteger()", "0"),
    ("sa.String(64)", "'x'"),
    ("sa.String(200)", None),
    ("sa.Text()", None),
    ("sa.Boolean()", None),
    ("sa.Numeric(12, 2)", "0"),
    ("sa.Date()", None),
    ("sa.DateTime()", None),
    ("sa.Float()", None),
]


def models_source(tables: int, changed_every: int = 0, seed: int = 7) -> str:
    """The models module's text; with `changed_every`, every n-th table gains a column."""
    rng = random.Random(seed)
    lines = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()", ""]
    for n in range(tables):
        name = f"t{n:05d}"
        columns = ["    sa.Column('id', sa.Integer, primary_key=True),"]
        data_columns, numeric_columns, indexable = [], [], []
        for c in range(rng.randint(8, 15) - 1):
            type_, default = rng.choice(COLUMN_TYPES)
            column = f"c{c:02d}"
            data_columns.append(column)
            if type_.startswith(("sa.Integer", "sa.BigInteger", "sa.Numeric")):
                numeric_columns.append(column)
            if type_ != "sa.Text()":  # MySQL cannot index TEXT without a prefix length
                indexable.append(column)
            server_default = f", server_default=sa.text({default!r})" if default and rng.random() < 0.3 else ""
            columns.append(f"    sa.Column('{column}', {type_}, nullable={rng.random() < 0.7}{server_default}),")
        for f in range(min(n, rng.randint(1, 2))):
            parent = rng.randrange(n)
            columns.append(f"    sa.Column('ref{f}_id', sa.Integer, sa.ForeignKey('t{parent:05d}.id')),")
        if changed_every and n % changed_every == 0:
            columns.append("    sa.Column('added_by_change', sa.Integer),")
        extras = []
        for i in range(rng.randint(1, 3)):
            picked = rng.sample(indexable, k=min(len(indexable), rng.randint(1, 2)))
            unique = "True" if i == 0 and rng.random() < 0.3 else "False"
            extras.append(f"    sa.Index('ix_{name}_{i}', {', '.join(repr(p) for p in picked)}, unique={unique}),")
        # Not on `id`: MariaDB refuses an AUTO_INCREMENT column in a CHECK (error 1901).
        if rng.random() < 0.2 and numeric_columns:
            extras.append(f"    sa.CheckConstraint('{numeric_columns[0]} >= 0', name='ck_{name}_{numeric_columns[0]}'),")
        lines += [f"sa.Table('{name}', metadata,", *columns, *extras, ")", ""]
    return "\n".join(lines)


SCRIPTS = {
    "alembic": """
        import sys, sqlalchemy as sa
        from alembic.migration import MigrationContext
        from alembic.autogenerate import compare_metadata
        sys.path.insert(0, '.')
        from models_base import metadata
        engine = sa.create_engine(sys.argv[1])
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={'compare_type': True, 'compare_server_default': True})
            diffs = compare_metadata(context, metadata)
        print(len(diffs))
    """,
    "reflection": """
        import sys, sqlalchemy as sa
        sys.path.insert(0, '.')
        from models_base import metadata
        engine = sa.create_engine(sys.argv[1])
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            for method in ('get_multi_columns', 'get_multi_pk_constraint', 'get_multi_foreign_keys',
                           'get_multi_indexes', 'get_multi_unique_constraints', 'get_multi_check_constraints'):
                getattr(inspector, method)()
    """,
    "load-models": """
        import sys
        sys.path.insert(0, '.')
        from models_base import metadata
    """,
}


def _script(name: str) -> str:
    """File name of a measured script (prefixed, so `alembic.py` cannot shadow the alembic package)."""
    return f"bench_{name.replace('-', '_')}.py"


def create_database(dialect: str, folder: Path) -> tuple[str, callable]:
    if dialect == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    base = sa.engine.make_url(SERVER_URLS[dialect])
    name = f"ss_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")

    def drop() -> None:
        with admin.connect() as connection:
            force = " WITH (FORCE)" if dialect == "postgresql" else ""
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def timed(command: list[str], folder: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0,):
        raise SystemExit(f"{' '.join(command[:4])} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", choices=["sqlite", "postgresql", "mysql"], default="sqlite")
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="schemasync-bench-") as tmp:
        folder = Path(tmp)
        (folder / "models_base.py").write_text(models_source(args.tables))
        (folder / "models_changed.py").write_text(models_source(args.tables, changed_every=100))
        for name, source in SCRIPTS.items():
            (folder / _script(name)).write_text(textwrap.dedent(source))
        url, drop = create_database(args.dialect, folder)
        env = {**os.environ, "SCHEMASYNC_DATABASE_URL": url}
        try:
            started = time.perf_counter()
            timed([sys.executable, "-m", "schemasync", "apply", "--yes", "-q", "--models", "models_base:metadata"], folder, env)
            setup = time.perf_counter() - started
            if args.dialect == "postgresql":
                engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
                with engine.connect() as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
                engine.dispose()
            commands = {
                "plan-in-sync": [sys.executable, "-m", "schemasync", "plan", "-q", "--models", "models_base:metadata"],
                "plan-1%": [sys.executable, "-m", "schemasync", "plan", "-q", "--models", "models_changed:metadata"],
                "alembic": [sys.executable, _script("alembic"), url],
                "reflection": [sys.executable, _script("reflection"), url],
                "load-models": [sys.executable, _script("load-models")],
            }
            times: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.rounds):
                for name, command in commands.items():  # alternating, so drift in load hits all alike
                    times[name].append(timed(command, folder, env))
        finally:
            drop()

    medians = {name: statistics.median(values) for name, values in times.items()}
    alembic = medians["alembic"]
    print(f"\n{args.dialect}, {args.tables} tables, {args.rounds} rounds (first apply: {setup:.2f} s)\n")
    print(f"| {'measure':<13} | {'median s':>9} | {'vs alembic':>10} | {'vs reflection':>13} |")
    print(f"|{'-' * 15}|{'-' * 11}|{'-' * 12}|{'-' * 15}|")
    for name, median in medians.items():
        print(f"| {name:<13} | {median:>9.2f} | {median / alembic:>9.2f}x | {median / medians['reflection']:>12.2f}x |")


if __name__ == "__main__":
    main()
