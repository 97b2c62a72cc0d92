"""Benchmark: `schemasync plan` against Alembic, migra and the floor, on one synthetic schema.

    python bench/plan_bench.py                                  # the whole table (may take an hour)
    python bench/plan_bench.py --dialect postgresql --tables 1000 --rounds 3

For each dialect and size it builds a deterministic schema of N tables (8-15 columns of mixed
types, a primary key, 1-2 foreign keys to earlier tables, 1-3 indexes including composite and
unique ones, some checks and server defaults) on a scratch database, records it with
`schemasync apply` (PostgreSQL: 500 tables per apply, then VACUUM ANALYZE), and times
whole processes, alternating, for several rounds:

  plan           schemasync plan, models equal to the database (the CI case; target cache warm)
  plan-1%        schemasync plan with about 1% of the tables changed (its cache entry warm)
  plan-1%-cold   the same with an empty cache directory (the first plan after an edit on a fresh
                 machine: the database's record serves the unchanged tables, the rest are built)
  check          schemasync check, models unchanged since the last apply (target cache warm)
  check-fresh    schemasync check, models unchanged since the last apply, empty cache directory
                 (a fresh CI runner: the database's record serves every table, nothing is built)
  plan-cold      schemasync plan of new models (every table changed), empty cache directory: the
                 whole scratch build
  alembic        alembic.autogenerate.compare_metadata on the same connection and models
  migra          migra comparing the database with itself (PostgreSQL; --migra PATH, two inspections,
                 no models to load)
  reflection     SQLAlchemy's bulk reflection alone (Inspector.get_multi_*), models loaded
  raw-catalog    the floor: the models loaded and the catalog read with plain SQL, one query per
                 kind of object, rows fetched and nothing done with them
  raw-catalog-nogc  the same with Python's cyclic garbage collector off, as schemasync runs
  models         importing the models module alone

It prints, per dialect and size, medians, ratios and each process's peak RSS, then the summary
table and the issue's targets. Needs the `bench` extra (alembic); migra only from its own
virtualenv (`python -m venv /tmp/migra-venv && /tmp/migra-venv/bin/pip install migra psycopg2-binary`).
Never a unit test: compare ratios measured in the same run, and mind the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

SERVER_URLS = {
    "postgresql": os.environ.get("SCHEMASYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mysql": os.environ.get("SCHEMASYNC_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
DIALECTS = ("sqlite", "postgresql", "mysql")
SIZES = (100, 1000, 5000)
COLD = ("plan-1%-cold", "check-fresh", "plan-cold")  # run with an empty cache directory
APPLY_STEP = 500
MEASURES = ("plan", "plan-1%", "plan-1%-cold", "check", "check-fresh", "plan-cold", "alembic", "migra", "reflection", "raw-catalog", "raw-catalog-nogc", "models")

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


TABLES_PER_MODULE = 100


def models_source(tables: int, changed_every: int = 0, seed: int = 7) -> dict[str, str]:
    """The models package's files by name: `_meta.py` holds the MetaData, each `part_NNN.py` a
    hundred tables, as an application of that size splits its models. (One 4 MB module makes
    every process that imports it compile it first: 1.8 s and a 490 MB peak at 5,000 tables, with
    PYTHONDONTWRITEBYTECODE set as on this machine, which then measures Python's compiler.)
    With `changed_every`, every n-th table gains a column."""
    rng = random.Random(seed)
    parts: list[list[str]] = []
    for n in range(tables):
        if n % TABLES_PER_MODULE == 0:
            parts.append(["import sqlalchemy as sa", "", "from ._meta import metadata", ""])
        name = f"t{n:05d}"
        columns = ["    sa.Column('id', sa.Integer, primary_key=True),"]
        numeric_columns, indexable = [], []
        for c in range(rng.randint(8, 15) - 1):
            type_, default = rng.choice(COLUMN_TYPES)
            column = f"c{c:02d}"
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
        for i in range(rng.randint(1, 3) if indexable else 0):
            picked = rng.sample(indexable, k=min(len(indexable), rng.randint(1, 2)))
            unique = "True" if i == 0 and rng.random() < 0.3 else "False"
            extras.append(f"    sa.Index('ix_{name}_{i}', {', '.join(repr(p) for p in picked)}, unique={unique}),")
        # Not on `id`: MariaDB refuses an AUTO_INCREMENT column in a CHECK (error 1901).
        if rng.random() < 0.2 and numeric_columns:
            extras.append(f"    sa.CheckConstraint('{numeric_columns[0]} >= 0', name='ck_{name}_{numeric_columns[0]}'),")
        parts[-1] += [f"sa.Table('{name}', metadata,", *columns, *extras, ")", ""]
    files = {"_meta.py": "import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n"}
    files |= {f"part_{k:03d}.py": "\n".join(lines) for k, lines in enumerate(parts)}
    imports = "".join(f"from . import part_{k:03d}  # noqa: F401\n" for k in range(len(parts)))
    files["__init__.py"] = f"from ._meta import metadata\n{imports}"
    return files


def write_models(folder: Path, package: str, tables: int, changed_every: int = 0) -> None:
    """The models package `package` in `folder` (importable as `package:metadata`)."""
    (folder / package).mkdir()
    for name, source in models_source(tables, changed_every).items():
        (folder / package / name).write_text(source)


# --- the measured processes (scripts written into the bench folder) --------------------------------

RAW_CATALOG = {
    "sqlite": [
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'",
        "SELECT m.name, p.* FROM sqlite_master AS m JOIN pragma_table_xinfo(m.name) AS p WHERE m.type = 'table'",
        ("SELECT m.name, l.name, l.\"unique\", i.name FROM sqlite_master AS m JOIN pragma_index_list(m.name) AS l "
        "JOIN pragma_index_info(l.name) AS i WHERE m.type = 'table'"),
        "SELECT m.name, f.* FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'",
    ],
    "postgresql": [
        ("SELECT c.oid, c.relname, d.description FROM pg_class c "
        "LEFT JOIN pg_description d ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass "
        "WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace"),
        ("SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(ad.adbin, ad.adrelid), a.attnotnull, d.description "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "LEFT JOIN pg_attrdef ad ON a.atthasdef AND ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
        "LEFT JOIN pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum "
        "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"),
        ("SELECT con.conrelid, con.conname, con.contype, con.conkey, con.confrelid, con.confkey, con.confupdtype, con.confdeltype, "
        "CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid, true) END "
        "FROM pg_constraint con WHERE con.connamespace = 'public'::regnamespace"),
        ("SELECT i.indrelid, c.relname, i.indisunique, i.indkey::int2[] FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relnamespace = 'public'::regnamespace"),
    ],
    "mysql": [
        "SELECT TABLE_NAME, TABLE_COMMENT, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        ("SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLLATION_NAME, "
        "CHARACTER_SET_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"),
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()",
        ("SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
        "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL"),
        ("SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE()"),
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    ],
}

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
    "raw-catalog": """
        import gc, json, sys
        if len(sys.argv) > 3:
            gc.disable()
        import sqlalchemy as sa
        sys.path.insert(0, '.')
        from models_base import metadata
        engine = sa.create_engine(sys.argv[1])
        with engine.connect() as connection:
            rows = [connection.exec_driver_sql(sql).fetchall() for sql in json.loads(sys.argv[2])]
        print(sum(len(r) for r in rows))
    """,
    "models": """
        import sys
        sys.path.insert(0, '.')
        from models_base import metadata
    """,
}


def _script(name: str) -> str:
    """File name of a measured script (prefixed, so `alembic.py` cannot shadow the alembic package)."""
    return f"bench_{name.replace('-', '_')}.py"


# --- running ---------------------------------------------------------------------------------------


@dataclass
class Result:
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run(command: list[str], folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one whole process; its output goes to files, not pipes."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(command[:4])} failed ({process.returncode}): {err.read().decode()[-800:]}")
    return elapsed, usage.ru_maxrss / 1024


def create_database(dialect: str, folder: Path) -> tuple[str, Callable[[], None]]:
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


def psycopg2_url(url: str) -> str:
    """migra (through sqlbag) connects with psycopg2: the same database, that driver."""
    return sa.engine.make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def measure(dialect: str, tables: int, rounds: int, migra: str | None, log: Callable[[str], None]) -> dict[str, Result]:
    import json

    with tempfile.TemporaryDirectory(prefix="schemasync-bench-") as tmp:
        folder = Path(tmp)
        write_models(folder, "models_base", tables)
        write_models(folder, "models_changed", tables, changed_every=100)
        write_models(folder, "models_new", tables, changed_every=1)
        for name, source in SCRIPTS.items():
            (folder / _script(name)).write_text(textwrap.dedent(source))
        url, drop = create_database(dialect, folder)
        env = {**os.environ, "SCHEMASYNC_DATABASE_URL": url, "SCHEMASYNC_CACHE_DIR": str(folder / "cache")}
        schemasync = [sys.executable, "-m", "schemasync"]
        try:
            started = time.perf_counter()
            # PostgreSQL applies a plan in one transaction, which holds a lock per relation it
            # creates: past about a thousand new tables the server's default lock table is full.
            # So the schema grows 500 tables per apply there, leaving room in the lock table for
            # other sessions (the first N tables of the models are the same for any N).
            step = APPLY_STEP if dialect == "postgresql" else tables
            for upto in [*range(step, tables, step), tables]:
                write_models(folder, f"models_upto_{upto}", upto)
                run([*schemasync, "apply", "--yes", "-q", "--models", f"models_upto_{upto}:metadata"], folder, env)
            log(f"  {dialect} {tables}: schema built and recorded in {time.perf_counter() - started:.1f} s")
            if dialect == "postgresql":
                engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
                with engine.connect() as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
                engine.dispose()
            commands = {
                "plan": [*schemasync, "plan", "-q", "--models", "models_base:metadata"],
                "plan-1%": [*schemasync, "plan", "-q", "--models", "models_changed:metadata"],
                "plan-1%-cold": [*schemasync, "plan", "-q", "--models", "models_changed:metadata"],
                "check": [*schemasync, "check", "-q", "--models", "models_base:metadata"],
                "check-fresh": [*schemasync, "check", "-q", "--models", "models_base:metadata"],
                "plan-cold": [*schemasync, "plan", "-q", "--models", "models_new:metadata"],
                "alembic": [sys.executable, _script("alembic"), url],
                "reflection": [sys.executable, _script("reflection"), url],
                "raw-catalog": [sys.executable, _script("raw-catalog"), url, json.dumps(RAW_CATALOG[dialect])],
                "raw-catalog-nogc": [sys.executable, _script("raw-catalog"), url, json.dumps(RAW_CATALOG[dialect]), "nogc"],
                "models": [sys.executable, _script("models")],
            }
            if migra and dialect == "postgresql":
                commands["migra"] = [migra, "--unsafe", psycopg2_url(url), psycopg2_url(url)]
            started = time.perf_counter()
            for warm in ("plan", "plan-1%"):  # fill the target cache: the CI case reruns unchanged models
                run(commands[warm], folder, env)
            log(f"  {dialect} {tables}: target cache filled in {time.perf_counter() - started:.1f} s (two scratch builds)")
            results = {name: Result() for name in commands}
            for number in range(rounds):
                for name, command in commands.items():  # alternating, so drift in load hits all alike
                    cold = folder / f"cold-cache-{number}-{name}"  # a new, empty cache directory for each cold process
                    seconds, peak = run(command, folder, {**env, "SCHEMASYNC_CACHE_DIR": str(cold)} if name in COLD else env)
                    results[name].seconds.append(seconds)
                    results[name].peak_mb.append(peak)
                log(f"  {dialect} {tables}: round {number + 1}/{rounds} done (load {os.getloadavg()[0]:.2f})")
        finally:
            drop()
    return results


# --- reporting -------------------------------------------------------------------------------------


def detail(dialect: str, tables: int, results: dict[str, Result]) -> str:
    alembic, floor = results["alembic"].median, results["raw-catalog"].median
    lines = [f"\n{dialect}, {tables} tables", "", "| measure | median s | vs alembic | vs raw catalog | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    for name in MEASURES:
        if name in results:
            r = results[name]
            lines.append(f"| {name} | {r.median:.2f} | {r.median / alembic:.2f}x | {r.median / floor:.2f}x | {max(r.peak_mb):.0f} |")
    return "\n".join(lines)


def summary(all_results: dict[tuple[str, int], dict[str, Result]]) -> str:
    lines = [
        ("| tables | dialect | plan in sync | plan 1% changed | plan 1% changed, cold | check | check, fresh machine | plan, cold build | Alembic | migra "
        "| SQLAlchemy reflection | raw catalog | raw catalog, gc off | models alone | plan vs Alembic | plan vs raw | plan vs raw, gc off "
        "| 1% cold vs Alembic | fresh check vs warm | cold build vs Alembic | plan peak RSS | Alembic peak RSS |"),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (dialect, tables), r in sorted(all_results.items(), key=lambda item: (item[0][1], DIALECTS.index(item[0][0]))):
        def s(name: str, r: dict[str, Result] = r) -> str:
            return f"{r[name].median:.2f} s" if name in r else ""

        def ratio(name: str, to: str, r: dict[str, Result] = r) -> str:
            return f"{r[name].median / r[to].median:.2f}x" if name in r and to in r else ""

        plan = r["plan"].median
        lines.append(
            f"| {tables:,} | {dialect} | {s('plan')} | {s('plan-1%')} | {s('plan-1%-cold')} | {s('check')} | {s('check-fresh')} | {s('plan-cold')} | {s('alembic')} "
            f"| {s('migra')} | {s('reflection')} | {s('raw-catalog')} | {s('raw-catalog-nogc')} | {s('models')} | {plan / r['alembic'].median:.2f}x "
            f"| {plan / r['raw-catalog'].median:.2f}x | {plan / r['raw-catalog-nogc'].median:.2f}x | {ratio('plan-1%-cold', 'alembic')} "
            f"| {ratio('check-fresh', 'check')} | {ratio('plan-cold', 'alembic')} | {max(r['plan'].peak_mb):.0f} MB | {max(r['alembic'].peak_mb):.0f} MB |"
        )
    return "\n".join(lines)


def targets(all_results: dict[tuple[str, int], dict[str, Result]]) -> str:
    """The issue's targets, each met or not, from this run's medians."""
    lines = []
    for (dialect, tables), r in sorted(all_results.items()):
        plan = r["plan"].median
        if tables >= 1000:
            checks = [
                (f"<= 0.5x Alembic ({plan / r['alembic'].median:.2f}x)", plan <= 0.5 * r["alembic"].median),
                (f"<= 1.5x raw catalog ({plan / r['raw-catalog'].median:.2f}x)", plan <= 1.5 * r["raw-catalog"].median),
            ]
            alembic = r["alembic"].median
            checks.append((f"plan 1% changed, cold <= 0.5x Alembic ({r['plan-1%-cold'].median / alembic:.2f}x)", r["plan-1%-cold"].median <= 0.5 * alembic))
            fresh = r["check-fresh"].median / r["check"].median
            checks.append((f"check on a fresh machine <= 1.2x warm ({fresh:.2f}x)", fresh <= 1.2))
            if tables == 1000:
                checks.append((f"cold build <= 1.5x Alembic ({r['plan-cold'].median / alembic:.2f}x)", r["plan-cold"].median <= 1.5 * alembic))
            if "migra" in r:
                checks.append((f"faster than migra ({plan:.2f} s vs {r['migra'].median:.2f} s)", plan < r["migra"].median))
            if tables >= 5000:
                checks.append((f"peak RSS < 400 MB ({max(r['plan'].peak_mb):.0f} MB)", max(r["plan"].peak_mb) < 400))
                small = all_results.get((dialect, 1000))
                if small:
                    growth = plan / small["plan"].median
                    checks.append((f"5,000 tables <= 6x 1,000 tables ({growth:.2f}x)", growth <= 6))
            for text, ok in checks:
                lines.append(f"- {dialect} {tables:,}: {'met' if ok else 'NOT met'}: {text}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", choices=DIALECTS, action="append", help="repeatable; default: all three")
    parser.add_argument("--tables", type=int, action="append", help="repeatable; default: 100, 1000 and 5000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--migra", default=os.environ.get("MIGRA", "/tmp/migra-venv/bin/migra"), help="migra executable (PostgreSQL column; skipped when absent)")
    args = parser.parse_args()
    migra = args.migra if args.migra and Path(args.migra).exists() else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped: still drop the scratch databases

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    log(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; migra: {migra or 'not found'}")
    all_results = {}
    for tables in args.tables or SIZES:
        for dialect in args.dialect or DIALECTS:
            all_results[(dialect, tables)] = measure(dialect, tables, args.rounds, migra, log)
            print(detail(dialect, tables, all_results[(dialect, tables)]), flush=True)
    print(f"\n## Summary ({args.rounds} rounds, medians; load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())})\n")
    print(summary(all_results))
    print("\n## Targets\n")
    print(targets(all_results))


if __name__ == "__main__":
    main()
