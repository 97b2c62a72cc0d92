"""Minimal reproduction: SQLAlchemy's SQLite reflection time grows with the square of the table count.

    python bench/sqlite_reflection_repro.py [--sizes 500 1000 2000 4000]

Plain SQLAlchemy, no schemasync: N small tables (an id, a text column, a foreign key to the
previous table) in a file database, then each `Inspector.get_multi_*` call on a fresh Inspector,
timed, with the number of statements it ran and how many of them read `sqlite_master`.

What it shows (SQLAlchemy 2.1, SQLite 3.40): the per-table methods run PRAGMAs per table, and
the CREATE statement behind each table is looked up with
`SELECT sql FROM (SELECT * FROM sqlite_master UNION ALL SELECT * FROM sqlite_temp_master)
WHERE name = ? AND type in ('table', 'view')`, which scans `sqlite_master` (no index on name)
once per table: N lookups x N rows. The last column is the same information read in bulk with
the pragma table-valued functions joined to sqlite_master (one statement per kind), which stays
linear.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

METHODS = ("get_multi_columns", "get_multi_pk_constraint", "get_multi_foreign_keys", "get_multi_indexes", "get_multi_unique_constraints", "get_multi_check_constraints")
BULK = (
    "SELECT m.name, m.sql FROM sqlite_master AS m WHERE m.type = 'table'",
    "SELECT m.name, p.* FROM sqlite_master AS m JOIN pragma_table_xinfo(m.name) AS p WHERE m.type = 'table'",
    "SELECT m.name, l.name, i.name FROM sqlite_master AS m JOIN pragma_index_list(m.name) AS l JOIN pragma_index_info(l.name) AS i WHERE m.type = 'table'",
    "SELECT m.name, f.* FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'",
)


def build(path: Path, tables: int) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        for n in range(tables):
            parent = f", parent_id INTEGER REFERENCES t{n - 1} (id)" if n else ""
            connection.exec_driver_sql(f"CREATE TABLE t{n} (id INTEGER PRIMARY KEY, name VARCHAR(20) UNIQUE{parent}, CHECK (id > 0))")
            connection.exec_driver_sql(f"CREATE INDEX ix_t{n}_name ON t{n} (name)")
    return engine


def timed(engine: sa.Engine, work) -> tuple[float, int, int]:
    """Seconds, statements run, statements that read sqlite_master."""
    statements: list[str] = []

    def listener(conn, cursor, statement, *rest):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        with engine.connect() as connection:
            started = time.perf_counter()
            work(connection)
            elapsed = time.perf_counter() - started
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return elapsed, len(statements), sum("sqlite_master" in s for s in statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    args = parser.parse_args()
    print(f"SQLAlchemy {sa.__version__}, SQLite {sa.create_engine('sqlite://').dialect.dbapi.sqlite_version}\n")
    header = "| tables | " + " | ".join(m.removeprefix("get_multi_") for m in METHODS) + " | all six | statements (sqlite_master) | bulk pragma queries |"
    print(header)
    print("|" + "---:|" * (len(METHODS) + 4))
    previous = None
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            engine = build(Path(folder) / "repro.db", size)
            cells, total, statements, master = [], 0.0, 0, 0
            for method in METHODS:
                seconds, count, scans = timed(engine, lambda connection, m=method: getattr(sa.inspect(connection), m)())
                cells.append(f"{seconds:.2f} s")
                total, statements, master = total + seconds, statements + count, master + scans
            bulk, _, _ = timed(engine, lambda connection: [connection.exec_driver_sql(sql).fetchall() for sql in BULK])
            engine.dispose()
        growth = f" ({total / previous:.1f}x)" if previous else ""
        print(f"| {size:,} | " + " | ".join(cells) + f" | {total:.2f} s{growth} | {statements:,} ({master:,}) | {bulk:.3f} s |", flush=True)
        previous = total


if __name__ == "__main__":
    main()
