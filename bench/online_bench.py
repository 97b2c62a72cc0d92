"""Benchmark: how long writers stall while `schemasync apply` adds an index and a foreign key,
with and without online mode.

    python bench/online_bench.py --dialect postgresql --rows 2000000
    python bench/online_bench.py --dialect mysql --rows 500000
    python bench/online_bench.py --dialect postgresql --rows 2000000 --changes backfill

Creates `parent` (1,000 rows) and `events` (--rows rows) in a scratch database with `schemasync
apply`, then for each change (an index on events.value; a foreign key events.parent_id ->
parent.id; `--changes backfill`: a new NOT NULL column filled from `value`, docs/data-changes.md)
and each mode (plain: one UPDATE; online: batches of `fill_batch_size` rows): starts a writer thread on its own connection that
inserts one row into `events` every --interval ms and times every insert, runs `schemasync
apply --yes [--online]` as a separate process (so the apply never competes with the writer for
the GIL), stops the writer a second later, and removes the change again (plain apply). It
prints, per run, the apply's own duration (as `apply` reports it: lock, checks and statements),
the longest time one insert took while the apply ran (the stall a user would see), the 99th
percentile and how many inserts completed meanwhile.

`--timeline` runs the apply through the workflow API instead of the CLI (still a separate process),
noting when each statement (each batch of a fill) starts, and prints the three longest stalls with
the statement that was running when each began: where a stall comes from. It also samples, every
2 ms, what the writer's session waits for on the server (a table or row lock, a metadata lock, the
server's own I/O) and prints the longest wait of each kind: a lock that blocked the writer, told
apart from a machine too busy to run it. `--control` times the writer alone as long again: the
stall floor of the machine at that moment.

Never a unit test: the machine is shared and noisy; read the figures of one run side by side.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

SERVER_URLS = {
    "postgresql": os.environ.get("SCHEMASYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mysql": os.environ.get("SCHEMASYNC_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
PARENTS = 1000

MODELS = """
import sqlalchemy as sa
metadata = sa.MetaData()
sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False), sa.Column("name", sa.String(40)))
sa.Table("events", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("parent_id", sa.Integer{fk}),
    sa.Column("value", sa.Integer),
    sa.Column("payload", sa.String(100)){extra}{index})
"""
# A declared fill (docs/data-changes.md): a new NOT NULL column computed from `value`; the writer's
# rows take the default while the fill runs.
BACKFILL = ',\n    sa.Column("score", sa.BigInteger, nullable=False, server_default="0", info={"schemasync": {"backfill": "value * 2 + 1"}})'
CHANGES = {
    "none": {"fk": "", "index": "", "extra": ""},
    "add index": {"fk": "", "index": ',\n    sa.Index("ix_events_value", "value")', "extra": ""},
    "add foreign key": {"fk": ', sa.ForeignKey("parent.id", name="fk_events_parent")', "index": "", "extra": ""},
    "backfill": {"fk": "", "index": "", "extra": BACKFILL},
}
FILL = {
    "postgresql": [
        f"INSERT INTO parent (id, name) SELECT g, 'p' || g FROM generate_series(1, {PARENTS}) g",
        "INSERT INTO events (parent_id, value, payload) SELECT 1 + g %% {parents}, (g::bigint * 7919) %% 1000003, md5(g::text) FROM generate_series(1, {rows}) g",
        "VACUUM ANALYZE events",
        "CHECKPOINT",
    ],
    "mysql": [
        f"INSERT INTO parent (id, name) SELECT seq, CONCAT('p', seq) FROM seq_1_to_{PARENTS}",
        "INSERT INTO events (parent_id, value, payload) SELECT 1 + seq %% {parents}, (seq * 7919) %% 1000003, MD5(seq) FROM seq_1_to_{rows}",
        "ANALYZE TABLE events",
    ],
}


@dataclass
class Writer:
    """Inserts a row every `interval` seconds on its own connection and times each insert."""

    engine: sa.Engine
    interval: float
    timings: list[tuple[float, float]] = field(default_factory=list)  # (started, seconds)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    # The writer's session on the server (for Waits), known once it has connected.
    session: int | None = None
    connected: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        insert = sa.text("INSERT INTO events (parent_id, value, payload) VALUES (:p, :v, 'load')")
        n = 0
        with self.engine.connect() as connection:
            self.session = connection.execute(sa.text(SESSION_ID[self.engine.dialect.name])).scalar()
            connection.commit()
            self.connected.set()
            while not self.stop.is_set():
                n += 1
                started = time.monotonic()
                try:
                    connection.execute(insert, {"p": 1 + n % PARENTS, "v": n})
                    connection.commit()
                except sa.exc.DBAPIError as error:
                    connection.rollback()
                    self.errors.append(str(error).splitlines()[0])
                took = time.monotonic() - started
                self.timings.append((started, took))
                time.sleep(max(0.0, self.interval - took))


SESSION_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
# What the writer's session is waiting for, if anything: PostgreSQL's wait event (Lock:relation is a
# table lock; LWLock and IO waits are the server's own resources), MariaDB's metadata lock wait
# (PROCESSLIST state) or row lock wait (INNODB_TRX).
WAITING = {
    "postgresql": "SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity WHERE pid = :id AND state = 'active' AND wait_event_type IS NOT NULL",
    "mysql": "SELECT CASE WHEN t.trx_state = 'LOCK WAIT' THEN 'row lock wait' ELSE p.state END FROM information_schema.PROCESSLIST p "
             "LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.id WHERE p.id = :id AND p.command <> 'Sleep' AND p.state <> ''",
}


@dataclass
class Waits:
    """Samples, every `every` seconds on a connection of its own, what the writer's session waits
    for; a run of samples with the same answer is one wait (its length is the sampling's resolution
    at best). Tells a lock that blocked the writer from a slow machine."""

    engine: sa.Engine
    writer: Writer
    every: float = 0.002
    samples: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        self.writer.connected.wait()
        query = sa.text(WAITING[self.engine.dialect.name])
        with self.engine.connect() as connection:
            while not self.stop.is_set():
                try:
                    found = connection.execute(query, {"id": self.writer.session}).scalar()
                except sa.exc.DBAPIError as error:  # the server busy with the DDL: note it, go on
                    found = f"(not sampled: {str(error.orig).splitlines()[0][:60]})"
                connection.rollback()
                self.samples.append((time.monotonic(), found or ""))
                time.sleep(self.every)

    def longest(self, begun: float, ended: float) -> list[tuple[float, float, str]]:
        """(seconds, started, what) of the longest wait of each kind between `begun` and `ended`."""
        best: dict[str, tuple[float, float, str]] = {}
        start, what, last = 0.0, "", 0.0
        for moment, found in [*self.samples, (float("inf"), "")]:
            if found != what or moment - last > 10 * self.every:  # a gap between samples: nothing is known of it
                if what and begun <= start <= ended and last - start + self.every > best.get(what, (0.0,))[0]:
                    best[what] = (last - start + self.every, start, what)
                start, what = moment, found
            last = moment
        return sorted(best.values(), reverse=True)


# The apply with a timeline: `schemasync apply --yes [--online]` through the workflow API, printing
# "<monotonic clock> <statement number> <first words>" as each statement (each fill batch) starts.
# argv: url, models, online (0/1). CLOCK_MONOTONIC is the same clock in every process here.
TIMED_APPLY = textwrap.dedent("""
    import sys, time
    from dataclasses import replace
    from pathlib import Path
    from schemasync import workflow
    from schemasync.config import load_settings

    url, models, online = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    settings = load_settings(database_url=url, models=models, cwd=Path.cwd())
    settings = replace(settings, online=online)

    def on_statement(number, sql):
        print(f"{time.monotonic():.4f} {number} {' '.join(sql.split())[:110]}", flush=True)

    started = time.monotonic()
    report = workflow.apply(settings, confirm=lambda plan: True, on_statement=on_statement)
    print(f"{time.monotonic():.4f} end applied in {report.result.duration_ms / 1000:.2f}s;", flush=True)
""")


@dataclass
class Run:
    change: str
    mode: str
    apply_seconds: float
    longest_stall: float
    p99: float
    inserts: int
    errors: int
    # The longest stalls and the statement running when each began (--timeline).
    worst: list[tuple[float, str]] = field(default_factory=list)
    # The writer's longest wait of each kind, and the statement running when it began (--timeline).
    waits: list[tuple[float, str, str]] = field(default_factory=list)


def cli(url: str, models: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "schemasync", *args, "--database-url", url, "--models", models]
    return subprocess.run(command, check=False, cwd=folder, capture_output=True, text=True, env={**os.environ, "SCHEMASYNC_CACHE_DIR": "off"})


def write_models(folder: Path, change: str) -> str:
    module = f"m_{change.replace(' ', '_')}"
    (folder / f"{module}.py").write_text(textwrap.dedent(MODELS.format(**CHANGES[change])))
    return f"{module}:metadata"


def timed_apply(url: str, models: str, folder: Path, online: bool) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", TIMED_APPLY, url, models, "1" if online else "0"]
    return subprocess.run(command, check=False, cwd=folder, capture_output=True, text=True, env={**os.environ, "SCHEMASYNC_CACHE_DIR": "off"})


def running_at(timeline: list[tuple[float, str]], moment: float) -> str:
    """The statement that had started last at `moment` (a stall's beginning)."""
    before = [what for when, what in timeline if when <= moment]
    return before[-1] if before else "(before the first statement: lock, checks)"


def measure(url: str, folder: Path, change: str, mode: str, interval: float, timeline: bool = False) -> Run:
    engine = sa.create_engine(url)
    writer = Writer(engine, interval)
    thread = threading.Thread(target=writer.run)
    thread.start()
    waits = Waits(engine, writer)
    watcher = threading.Thread(target=waits.run)
    if timeline:
        watcher.start()
    time.sleep(1.0)  # a steady load before the change starts
    begun = time.monotonic()
    models = write_models(folder, change)
    if timeline:
        result = timed_apply(url, models, folder, mode == "online")
    else:
        result = cli(url, models, folder, "apply", "--yes", *(["--online"] if mode == "online" else []))
    ended = time.monotonic()
    time.sleep(1.0)
    writer.stop.set()
    waits.stop.set()
    thread.join()
    if timeline:
        watcher.join()
    engine.dispose()
    if result.returncode != 0:
        raise SystemExit(f"apply failed ({change}, {mode}): {result.stderr.strip() or result.stdout.strip()}")
    reported = re.search(r"in (\d+\.\d+)s;", result.stdout)
    during = sorted(took for started, took in writer.timings if started + took >= begun and started <= ended)
    steps = [(float(line.split(" ", 1)[0]), line.split(" ", 1)[1]) for line in result.stdout.splitlines() if line[:1].isdigit()]
    longest = sorted(((took, started) for started, took in writer.timings if started + took >= begun and started <= ended), reverse=True)[:3]
    return Run(
        change=change,
        mode=mode,
        apply_seconds=float(reported.group(1)) if reported else float("nan"),
        longest_stall=during[-1] if during else float("nan"),
        p99=during[int(len(during) * 0.99)] if during else float("nan"),
        inserts=len(during),
        errors=len(writer.errors),
        worst=[(took, running_at(steps, started)) for took, started in longest] if timeline else [],
        waits=[(took, what, running_at(steps, started)) for took, started, what in waits.longest(begun, ended)[:4]],
    )


def idle(url: str, seconds: float, interval: float) -> Run:
    """The writer alone for `seconds`, no apply: the machine's own noise (the stall floor)."""
    engine = sa.create_engine(url)
    writer = Writer(engine, interval)
    thread = threading.Thread(target=writer.run)
    thread.start()
    time.sleep(1.0)
    begun = time.monotonic()
    time.sleep(seconds)
    ended = time.monotonic()
    writer.stop.set()
    thread.join()
    engine.dispose()
    during = sorted(took for started, took in writer.timings if started + took >= begun and started <= ended)
    return Run("(none: the writer alone)", "idle", seconds, during[-1], during[int(len(during) * 0.99)], len(during), len(writer.errors))


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialect", choices=sorted(SERVER_URLS), default="postgresql")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--interval", type=float, default=5.0, help="milliseconds between two inserts")
    parser.add_argument("--changes", default="add index,add foreign key")
    parser.add_argument("--modes", default="plain,online", help="which of plain, online to run")
    parser.add_argument("--timeline", action="store_true", help="name the statement running at each of the longest stalls")
    parser.add_argument("--batch-size", type=int, default=None, help="fill_batch_size for --changes backfill (default: schemasync's)")
    parser.add_argument("--pause", default=None, help="fill_pause for --changes backfill, e.g. 20ms (default: schemasync's, none)")
    parser.add_argument("--control", action="store_true", help="also time the writer alone, as long as the longest apply: the noise floor")
    args = parser.parse_args()

    base = sa.engine.make_url(SERVER_URLS[args.dialect])
    name = f"ss_online_bench_{secrets.token_hex(3)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            config = (f"fill_batch_size: {args.batch_size}\n" if args.batch_size else "") + (f"fill_pause: {args.pause}\n" if args.pause else "")
            if config:
                (folder / "schemasync.yaml").write_text(config)
            batches = (f", fill batches of {args.batch_size:,} rows" if args.batch_size else "") + (f", {args.pause} between" if args.pause else "")
            print(f"{args.dialect}: {args.rows:,} rows in events, one insert every {args.interval:g} ms{batches}; load average before: {load_average()}")
            start = cli(url, write_models(folder, "none"), folder, "apply", "--yes")
            if start.returncode != 0:
                raise SystemExit(start.stderr)
            filled = time.monotonic()
            fill_engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            with fill_engine.connect() as connection:
                for statement in FILL[args.dialect]:
                    connection.exec_driver_sql(statement.format(rows=args.rows, parents=PARENTS))
            fill_engine.dispose()
            print(f"filled in {time.monotonic() - filled:.1f}s")
            runs = []
            for change in [c.strip() for c in args.changes.split(",")]:
                for mode in [m.strip() for m in args.modes.split(",")]:
                    runs.append(measure(url, folder, change, mode, args.interval / 1000, args.timeline))
                    undo = cli(url, write_models(folder, "none"), folder, "apply", "--yes", "--allow-destructive")
                    if undo.returncode != 0:
                        raise SystemExit(undo.stderr)
            if args.control:
                runs.append(idle(url, max(r.apply_seconds for r in runs), args.interval / 1000))
            print(f"load average after: {load_average()}\n")
            print("| change | mode | apply (s) | longest insert stall (s) | p99 insert (ms) | inserts during apply | insert errors |")
            print("|---|---|---:|---:|---:|---:|---:|")
            for r in runs:
                print(f"| {r.change} | {r.mode} | {r.apply_seconds:.2f} | {r.longest_stall:.3f} | {r.p99 * 1000:.1f} | {r.inserts} | {r.errors} |")
            for r in runs:
                for took, what in r.worst:
                    print(f"{r.change}, {r.mode}: a {took * 1000:.0f} ms stall began during: {what}")
                for took, kind, what in r.waits:
                    print(f"{r.change}, {r.mode}: the writer's longest wait for {kind}: {took * 1000:.0f} ms, began during: {what}")
            fills = [r for r in runs if r.change == "backfill"]
            if fills:  # the apply is mostly the fill: rows per second of the whole apply, a lower bound
                print("\n| fill | apply (s) | rows per second | longest insert stall (s) |\n|---|---:|---:|---:|")
                for r in fills:
                    how = "plain (one UPDATE)" if r.mode == "plain" else "online (batches)"
                    print(f"| {how} | {r.apply_seconds:.2f} | {args.rows / r.apply_seconds:,.0f} | {r.longest_stall:.3f} |")
    finally:
        with admin.connect() as connection:
            force = " WITH (FORCE)" if args.dialect == "postgresql" else ""
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


if __name__ == "__main__":
    main()
