"""The `Dialect` contract: what schemasync asks of a database dialect, behind one narrow interface.

A dialect provides:
- the **required facts** (`REQUIRED_FACTS`), stated in its own class even where the base's value
  fits, so that each was decided for that server;
- the **required hooks** (`REQUIRED_HOOKS`): the migration lock and the scratch place;
- any **optional quirks** below: each says what it answers and which dialects override it today.

Each dialect package has the same sections in the same order: facts, normalise, lower, SQL
(elements for the steps whose spelling differs), hazards, lock, scratch place, catalog (the bulk
reader, in its `catalog.py`). Code outside `dialects/` asks these questions and never tests a
dialect's name. tests/test_dialect_contract.py checks every registered dialect against this.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa

from schemasync.dialects.catalog import Catalog
from schemasync.dialects.lowering import lower_generic
from schemasync.dialects.spelling import with_numeric_default
from schemasync.errors import ConfigError, LockError
from schemasync.online import TRANSACTION
from schemasync.operations import (
    Operation,
)
from schemasync.snapshot import Check, Column, Snapshot, Table, View

LOCK_NAME = "schemasync"
# Facts every dialect states in its own class body (tests/test_dialect_contract.py).
REQUIRED_FACTS = (
    "name",
    "transactional_ddl",
    "has_comments",
    "fk_needs_existing_target",
    "checks_foreign_keys_in_apply",
    "max_name_length",
    "narrowing_fails_on",
)
# Hooks with no default: a dialect that lacks one cannot lock or build its models.
REQUIRED_HOOKS = ("migration_transaction", "scratch")


def missing_requirements(cls: type[Dialect]) -> list[str]:
    """The required facts and hooks `cls` does not define itself (empty: it honours the contract)."""
    own = {name for klass in cls.__mro__ if klass is not Dialect for name in vars(klass)}
    return [name for name in (*REQUIRED_FACTS, *REQUIRED_HOOKS) if name not in own]


@dataclass(frozen=True)
class BuildStatement:
    """One statement of the models' CREATE script (devdb.build_script), and the table it is for:
    None for what belongs to the schema as a whole (an enum type, a sequence, a foreign key added
    after every table to break a cycle). `index` for a CREATE INDEX."""

    sql: str
    table: sa.Table | None = None
    index: sa.Index | None = None


# Runs a scratch place's drop while the run goes on; whoever passes it waits for the drop before
# the plan is returned (workflow.plan_on).
Defer = Callable[[Callable[[], None]], None]


@contextmanager
def dropped_after(drop: Callable[[], None], defer: Defer | None) -> Iterator[None]:
    """`drop` on leaving: at once after a failure (nothing goes on), else handed to `defer` when
    given, so the server drops the scratch place while the plan is made."""
    try:
        yield
    except BaseException:
        drop()
        raise
    if defer is None:
        drop()
    else:
        defer(drop)


class Dialect:
    """The base: behaviour shared by the server dialects; subclasses override what differs."""

    name: ClassVar[str] = ""
    # facts
    transactional_ddl: ClassVar[bool] = True
    has_comments: ClassVar[bool] = True
    # Whether a FOREIGN KEY must point at a table that already exists (so FK cycles need splitting).
    fk_needs_existing_target: ClassVar[bool] = True
    # Whether foreign keys are checked while the plan runs (so restored rows that reference each
    # other need their keys added after them).
    checks_foreign_keys_in_apply: ClassVar[bool] = True
    # Longest identifier the server accepts (backup table names are cut to fit).
    max_name_length: ClassVar[int] = 63
    # Patterns (formatted with the table name) of the names the server gives unnamed constraints.
    generated_names: ClassVar[dict[str, str]] = {}
    # Narrowings the server refuses when a value does not fit ("length" of text, "range" of numbers);
    # where it cuts or keeps the value instead, that is data loss (kept by backup.py), not a failure.
    narrowing_fails_on: ClassVar[frozenset[str]] = frozenset({"length", "range"})
    # Narrowings ("length", "range") the server neither refuses nor cuts: every value stays as it is,
    # so the step is not destructive (operations.keep_narrowed_values). SQLite enforces neither.
    narrowing_keeps_values_on: ClassVar[frozenset[str]] = frozenset()
    # Whether enum types and sequences are schema objects of their own here (PostgreSQL), managed beside the tables.
    schema_objects: ClassVar[bool] = False
    # Where the models can be built with no server at all (SQLite: in memory); None: a server is needed.
    offline_build_url: ClassVar[str | None] = None
    # Whether CREATE MATERIALIZED VIEW exists here.
    materialized_views: ClassVar[bool] = False
    # What the names of the scratch place (schemas, databases) the models are built in start with;
    # render refuses a statement naming one (None: the scratch place has no name, SQLite's memory).
    scratch_prefix: ClassVar[str | None] = None
    # Whether a new table's unique indexes go inside its CREATE TABLE (as UNIQUE constraints), so
    # that its foreign keys find them there instead of getting an index of their own (MariaDB).
    unique_indexes_in_create_table: ClassVar[bool] = False
    # Async drivers (as FastAPI apps name them in their URLs) -> (the sync driver schemasync runs
    # instead, the module it needs): schemasync's work is synchronous, and an async driver under a
    # sync engine fails with a greenlet error.
    sync_drivers: ClassVar[dict[str, tuple[str, str]]] = {}

    def __init__(self, sa_dialect: sa.engine.Dialect) -> None:
        self.sa_dialect = sa_dialect

    # --- required hooks (REQUIRED_HOOKS) ----------------------------------------------------------

    @contextmanager
    def migration_transaction(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """Required. The apply's transaction, holding the per-database lock that keeps two applies apart."""
        raise NotImplementedError

    @contextmanager
    def scratch(self, engine: sa.Engine, schemas: Sequence[str | None], tables: int = 0, defer: Defer | None = None,
                ) -> Iterator[tuple[sa.Connection, Mapping[str | None, str | None]]]:
        """Required. A place to build the models (`tables` of them): yields a connection and {model
        schema: scratch schema}. A place that takes long to drop is dropped by `defer` after a build
        that read back (see dropped_after)."""
        raise NotImplementedError

    # --- optional quirks: normalise ----------------------------------------------------------------

    def canonical_type(self, type_object: Any) -> Any:
        """A reflected type in the one spelling this server gives all its equivalent spellings (SQLite's
        synonyms, MariaDB's integer display widths, PostgreSQL's default time precision). Compared and
        rendered, so plans write what offline plans (from the text) write. Overridden by: mysql, postgresql, sqlite."""
        return type_object

    def type_text(self, type_object: Any) -> str:
        """The canonical text of a reflected type: how this dialect's compiler spells it. Overridden by: none."""
        try:
            # str(): identifiers come back as quoted_name, which YAML and JSON writers reject.
            return str(self.sa_dialect.type_compiler_instance.process(type_object))
        except sa.exc.CompileError:
            return type(type_object).__name__.upper()

    def is_generated_name(self, kind: str, table: str, name: str | None) -> bool:
        """Whether `name` is one the server made up for an unnamed constraint of `kind` (`generated_names`). Overridden by: none."""
        pattern = self.generated_names.get(kind)
        if not name or pattern is None:
            return False
        return re.fullmatch(pattern.format(table=re.escape(table)), name) is not None

    def normalize_column(self, column: Column) -> Column:
        """A column spelled the way both sides agree on (docs/normalisation.md). Overridden by: mysql, postgresql, sqlite."""
        return column

    def normalize_table(self, table: Table) -> Table:
        """Spelling rules that make two equal tables compare equal (see docs/normalisation.md). Overridden by: mysql."""

        def anonymise(constraint: Any, kind: str) -> Any:
            if self.is_generated_name(kind, table.name, constraint.name):
                return replace(constraint, name=None, db_name=constraint.name)
            return constraint if constraint.db_name == constraint.name else replace(constraint, db_name=constraint.name)

        pk = anonymise(table.primary_key, "primary_key") if table.primary_key else None
        return replace(
            table,
            columns=tuple(self.normalize_column(with_numeric_default(c)) for c in table.columns),
            primary_key=pk,
            foreign_keys=tuple(sorted((anonymise(fk, "foreign_key") for fk in table.foreign_keys), key=_sort_key)),
            uniques=tuple(sorted((anonymise(u, "unique") for u in table.uniques), key=_sort_key)),
            checks=tuple(sorted((anonymise(self._canonical_check(c), "check") for c in table.checks), key=_sort_key)),
            exclusions=tuple(sorted((anonymise(e, "exclusion") for e in table.exclusions), key=_sort_key)),
            indexes=tuple(sorted(table.indexes, key=_sort_key)),
            comment=table.comment if self.has_comments else None,
        )

    def normalize_check(self, sqltext: str) -> str:
        """A check's expression in one spelling of the equivalent ones this server may store or print
        for it; still valid SQL, as plans run it. Overridden by: postgresql, sqlite."""
        return sqltext

    def _canonical_check(self, check: Check) -> Check:
        text = self.normalize_check(check.sqltext)
        return check if text == check.sqltext else replace(check, sqltext=text)

    def normalize(self, snapshot: Snapshot) -> Snapshot:
        """Every table of the snapshot through `normalize_table`. Overridden by: none."""
        return snapshot.with_tables(tuple(self.normalize_table(t) for t in snapshot.tables))

    def normalize_view(self, view: View, schemas: Mapping[str | None, str | None]) -> View:
        """A view's definition without the trailing ';' and with the schemas it names in the caller's
        terms (`schema_names_in_text`). Overridden by: none."""
        text = self.schema_names_in_text(view.definition.strip().rstrip(";").rstrip(), schemas)
        return replace(view, definition=text) if text != view.definition else view

    def schema_names_in_text(self, text: str, schemas: Mapping[str | None, str | None]) -> str:
        """SQL text the server printed (a view, a default, a check, a generated column) with the schemas
        it names in the caller's terms ({schema in the database: schema to report}): a scratch schema's
        name, which the server writes where it is not the default, maps back to the model's. Overridden by: none."""
        preparer = self.sa_dialect.identifier_preparer
        for db_schema, logical in schemas.items():
            if db_schema is None or db_schema == logical or db_schema not in text:
                continue
            # Spelled as the server spells names: quoted where it quoted the scratch name (MariaDB
            # always), else quoted only where needed (PostgreSQL's quote_ident).
            quoted = f"{preparer.quote_identifier(logical)}." if logical else ""
            bare = f"{preparer.quote(logical)}." if logical else ""
            text = text.replace(f"{preparer.quote_identifier(db_schema)}.", quoted)
            text = re.sub(r"(?<![\w$])" + re.escape(db_schema) + r"\.", lambda _: bare, text)  # noqa: B023  (re.sub calls it at once)
        return text

    # --- lower -----------------------------------------------------------------------------------

    def lower(self, operations: Sequence[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
        """Turn the neutral diff into steps this dialect can run; the strategy shows in the plan. Overridden by: mysql, sqlite."""
        return lower_generic(operations, current, target, self.generated_change_in_place)

    def generated_change_in_place(self, before: Column, after: Column) -> bool:
        """Whether ALTER COLUMN can change what generates a column (PostgreSQL 13+: only DROP EXPRESSION).
        https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-DROP-EXPRESSION Overridden by: mysql."""
        return after.computed is None

    # --- online mode (online.py) -----------------------------------------------------------------

    # Whether online mode changes anything here (SQLite: no online DDL, the plan runs as usual).
    online_ddl: ClassVar[bool] = False
    # What online mode does on this server, said once in an online plan.
    online_note: ClassVar[str] = "online mode changes nothing here: this database has no online DDL; the plan runs as usual, in one transaction"
    # Whether an online plan adds a NOT NULL column with a declared fill and a server default as it is,
    # at once, and fills its rows by key (online.FillRowsByKey), rather than adding it nullable and
    # requiring values after the fill: where that NOT NULL rebuilds the table (MariaDB/MySQL).
    fills_added_columns_by_key: ClassVar[bool] = False

    def online_steps(self, operations: Sequence[Operation], current: Snapshot) -> list[tuple[Operation, str]]:
        """The ordered steps in their online forms, each with its mode (online.MODES); a step may become several. Overridden by: mysql, postgresql."""
        return [(op, TRANSACTION) for op in operations]

    def mode_element(self, element: Any, mode: str) -> Any:
        """The statement as it must be spelled to run in `mode` (MySQL names the ALTER's algorithm). Overridden by: mysql."""
        return element

    # --- SQL -------------------------------------------------------------------------------------

    def added_column(self, column: Column) -> Column:
        """The column as ADD COLUMN states it, where that differs from CREATE TABLE (PostgreSQL: an
        autoincrement column is an identity). Overridden by: postgresql."""
        return column

    def alter_column_elements(self, table: sa.Table, before: Column, after: Column) -> list[Any]:
        """DDL elements for an in-place column change (PostgreSQL-style ALTER COLUMN clauses). Overridden by: mysql, postgresql."""
        from schemasync import ddl

        elements: list[Any] = []
        if (before.type, before.nullable, before.default) != (after.type, after.nullable, after.default):
            elements.append(ddl.AlterColumn(table, table.c[after.name], before, after))
        if before.comment != after.comment and self.has_comments:
            elements.append(sa.schema.SetColumnComment(table.c[after.name]) if after.comment else sa.schema.DropColumnComment(table.c[after.name]))
        return elements

    def create_table_extra_elements(self, table: Any) -> list[Any]:
        """DDL after a new table's CREATE TABLE and indexes, for what they cannot say here (a snapshot Table). Overridden by: mysql, postgresql."""
        return []

    def builds_keys_apart(self, tables: int) -> bool:
        """Whether a scratch build of `tables` tables makes them without their foreign keys, which
        follow once every table is there (devdb.build_script), so that no table's statements name
        another and the tables can be made side by side. Overridden by: postgresql."""
        return False

    def run_build_script(self, connection: sa.Connection, engine: sa.Engine, script: Sequence[BuildStatement], keys_apart: bool = False) -> None:
        """Run the models' CREATE script in the scratch place, in order, a statement at a time
        (`engine`: for more connections to the same place; `keys_apart`: the script was made so,
        see builds_keys_apart). Overridden by: mysql, postgresql."""
        for statement in script:
            connection.exec_driver_sql(statement.sql)

    def after_build(self, connection: sa.Connection, tables: Sequence[sa.Table]) -> None:
        """Finish the models' scratch build where create_all leaves something out (MariaDB: AUTO_INCREMENT off the key). Overridden by: mysql."""

    def model_key_extras(self, table: sa.Table) -> list[Any]:
        """What a model table declares that its compiled DDL does not show (added to the target cache key
        and the lock digest only when not empty, so other tables' keys stay as they were). Overridden by: mysql."""
        return []

    def after_restore_rows(self, table: sa.Table, autoincrement: Sequence[str]) -> list[Any]:
        """Statements to run after rows were inserted with explicit keys (PostgreSQL moves its sequences). Overridden by: postgresql."""
        return []

    def complete_inspector_catalog(self, connection: sa.Connection, schema: str | None, catalog: Catalog) -> None:
        """Fill in what SQLAlchemy's Inspector does not report but the bulk reader does (SQLite: collations). Overridden by: sqlite."""

    # --- hazards ---------------------------------------------------------------------------------

    def cost_hazards(self, op: Operation, mode: str = "transaction") -> tuple[str, ...]:
        """`table-rewrite` / `long-lock` for a change on an existing table, run in `mode` (online.py) by this server (hazards.py). Overridden by: mysql, postgresql, sqlite."""
        return ()

    # --- connection set-up, lock, scratch place ---------------------------------------------------

    @staticmethod
    def absolute_url(url: sa.URL, folder: Path) -> sa.URL:
        """The URL with a database file it names by a relative path made absolute against `folder`
        (where the URL was written: the config file's folder, env.py's). Overridden by: sqlite."""
        return url

    def engine_options(self, lock_timeout: float, url: sa.URL | None = None) -> dict[str, Any]:
        """Keyword arguments for `create_engine` for `url` (SQLite: a busy timeout as the lock wait,
        one shared connection for an in-memory database). Overridden by: sqlite."""
        return {}

    def absent_database(self, url: sa.URL) -> str | None:
        """Why `url` names a database that does not exist yet (a SQLite file), else None: `plan`
        and `check` read it as empty rather than create it. Overridden by: sqlite."""
        return None

    def prepare_engine(self, engine: sa.Engine) -> None:
        """Hook for engine events (SQLite needs them for transactional DDL). Overridden by: sqlite."""

    def default_schema_options(self, schema: str) -> dict[str, Any]:
        """Engine options that make `schema` the connection's default one (a schema-per-tenant target). Overridden by: postgresql."""
        raise ConfigError(f"a target's own schema ({schema}) needs PostgreSQL; on {self.name} name the database in the URL instead (e.g. .../{{name}})")

    def commit_progress(self, connection: sa.Connection) -> None:
        """Make the state row's latest progress durable at once, where statements commit one by one
        (a killed session then leaves an exact count). Where the plan is one transaction: nothing. Overridden by: mysql."""

    def lock_holder(self, connection: sa.Connection) -> str | None:
        """The session holding the migration lock as the server names it (id, since when); None: unknown. Overridden by: mysql, postgresql."""
        return None

    def read_lock_timeout_sql(self, seconds: float) -> str | None:
        """Run before reading the catalog for `plan`/`check`: wait at most `seconds` on another session's table lock. Overridden by: mysql, postgresql."""
        return None

    def migration_lock_free(self, connection: sa.Connection) -> bool:
        """Whether no session holds the migration lock (so a `running` state row is one whose session
        ended mid-way). Default: a running row is never visible before its transaction commits. Overridden by: mysql, postgresql, sqlite."""
        return True

    def build_context(self, connection: sa.Connection) -> str:
        """What else, besides the models and the server version, shapes what a scratch build yields. Overridden by: mysql."""
        return ""

    def after_apply_check(self, connection: sa.Connection) -> None:
        """Checks to run inside the apply transaction before it commits. Overridden by: sqlite."""

    def read_objects(self, connection: sa.Connection, schemas: Mapping[str | None, str | None], keep: Callable[[str | None, str], bool]) -> tuple[tuple, tuple]:
        """(enum types, standalone sequences) of the given schemas ({schema in the database: schema to report}); none here. Overridden by: postgresql."""
        return (), ()

    # --- views and what schemasync leaves alone ---------------------------------------------------

    def read_views(self, connection: sa.Connection, schema: str | None) -> list[View]:
        """The views of one schema (unnormalised; `schema` left None). One small catalog query on
        both reading paths: the Inspector reports definitions in other shapes per dialect (MariaDB's
        whole SHOW CREATE VIEW), so tests/test_catalog.py has nothing to compare them with. Overridden by: mysql, postgresql, sqlite."""
        inspector = sa.inspect(connection)
        return [View(name, inspector.get_view_definition(name, schema=schema) or "") for name in inspector.get_view_names(schema=schema)]

    def other_objects(self, connection: sa.Connection, schema: str | None) -> list[str]:
        """What one schema holds besides tables and views that schemasync leaves alone (triggers, functions, ...). Overridden by: mysql, postgresql, sqlite."""
        return []

    # --- running online (apply.py) ---------------------------------------------------------------

    @contextmanager
    def session_lock(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """The migration lock held across many transactions (an online apply commits step by step). Overridden by: mysql, postgresql."""
        raise NotImplementedError

    def lock_timeout_sql(self, seconds: float) -> str | None:
        """Run at the start of each step that takes a strong lock: give up waiting for it after `seconds`. Overridden by: mysql, postgresql."""
        return None

    def is_lock_timeout(self, error: sa.exc.DBAPIError) -> bool:
        """Whether the statement gave up waiting for a lock (or lost a deadlock): worth trying again. Overridden by: mysql, postgresql."""
        return False

    def is_permission_denied(self, error: sa.exc.SQLAlchemyError) -> bool:
        """Whether the server refused the statement for a privilege the role lacks. Overridden by: mysql, postgresql."""
        return False

    # What the scratch build needs the role to be allowed (said when it is not: devdb.build_error).
    scratch_privilege = "no privilege"

    def explain_failure(self, error: sa.exc.DBAPIError) -> str | None:
        """A clearer sentence for a failure of an online step, when there is one to say. Overridden by: mysql, postgresql."""
        return None

    def online_leftovers(self, connection: sa.Connection) -> frozenset[tuple[str, ...]]:
        """What a failed online step can leave behind (PostgreSQL: INVALID indexes, NOT VALID constraints). Overridden by: postgresql."""
        return frozenset()

    def drop_leftover(self, connection: sa.Connection, leftover: tuple[str, ...]) -> str:
        """Remove one leftover (outside any transaction); returns what was removed, for the record. Overridden by: postgresql."""
        raise NotImplementedError

    # --- catalog ---------------------------------------------------------------------------------

    def read_catalog(self, connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog | None:
        """The tables `names` read in bulk from this dialect's catalog; None: use SQLAlchemy's Inspector. Overridden by: mysql, postgresql, sqlite."""
        return None

    def ignored_constructs(self, tables: Sequence[sa.Table], sequences: Sequence[sa.Sequence]) -> list[str]:
        """What the models' `tables` and `sequences` declare that this server cannot hold and schemasync
        leaves out without refusing the models (one line each, with the reason): comments where the server
        keeps none, sequences where schemasync manages none. Overridden by: none."""
        lines = []
        if not self.has_comments:
            for table in tables:
                name = f"{table.schema}.{table.name}" if table.schema else str(table.name)
                lines += [f"comment on table {name}: {self.name} keeps no comments"] if table.comment else []
                lines += [f"comment on column {name}.{c.name}: {self.name} keeps no comments" for c in table.columns if c.comment]
        if not self.schema_objects:
            names = sorted(f"{s.schema}.{s.name}" if s.schema else str(s.name) for s in sequences)
            lines += [f"sequence {n}: schemasync manages sequences on PostgreSQL only, not on {self.name}" for n in names]
        return lines

    def refuse_unsupported(self, tables: Sequence[sa.Table]) -> None:
        """Raise a one-line PlanError for a construct in the models this server cannot hold. Overridden by: mysql."""

    def complete_catalog(self, connection: sa.Connection, schema: str | None, names: list[str], catalog: Catalog) -> None:
        """Add what both readers lack alike (table options, SQLite's expression indexes) with one small query. Overridden by: mysql, postgresql, sqlite."""


def _sort_key(item: Any) -> str:
    return repr(item.key)


def wait_for_lock(try_lock: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `try_lock` until it succeeds or `timeout` seconds pass; then fail clearly."""
    deadline = time.monotonic() + timeout
    while not try_lock():
        if time.monotonic() >= deadline:
            raise LockError(f"another schemasync run holds the migration lock on {what}; waited {timeout:g}s (try again later)")
        time.sleep(0.2)



# --- the scratch build in waves (Dialect.run_build_script) ---------------------------------------------


def run_in_waves(connection: sa.Connection, engine: sa.Engine, script: Sequence[BuildStatement], lanes: int, batch: int = 1,
                 session: tuple[Sequence[str], Sequence[str]] = ((), ()), ordered: bool = True) -> None:
    """The script with its tables' statements run `lanes` connections at a time: each table's in
    order on one connection (`batch` statements per round trip, between the `session` settings
    and what undoes them before the connection goes back to the pool), a
    table after the tables its foreign keys name (unless not `ordered`: the tables were made
    without their keys, which name no table yet). What belongs to no table runs on `connection`
    in its place, `batch` statements per round trip (enum types and sequences before, keys added
    after the tables)."""
    pending: list[BuildStatement] = []
    alone: list[str] = []
    for statement in script:
        if statement.table is None:
            _create_tables(connection, engine, pending, lanes, batch, session, ordered)
            pending = []
            alone.append(statement.sql.strip())
        else:
            _run_lane(connection, alone, batch)
            alone = []
            pending.append(statement)
    _create_tables(connection, engine, pending, lanes, batch, session, ordered)
    _run_lane(connection, alone, batch)


def _create_tables(connection: sa.Connection, engine: sa.Engine, statements: list[BuildStatement], lanes: int, batch: int,
                   session: tuple[Sequence[str], Sequence[str]], ordered: bool) -> None:
    """The tables' statements on up to `lanes` connections of their own, as many as the server gives
    (a role's or the server's connection limit may refuse some: the lanes it gave do the work, and
    with none, `connection` alone does)."""
    if not statements:
        return
    by_table: dict[sa.Table, list[str]] = {}
    for statement in statements:
        assert statement.table is not None, "only statements of a table are grouped"
        by_table.setdefault(statement.table, []).append(statement.sql.strip())
    waves = _waves(list(by_table)) if ordered else [list(by_table)]
    setup, undo = session
    opened: list[sa.Connection] = []
    try:
        for _ in range(min(lanes, max(len(wave) for wave in waves))):
            try:
                # Each round trip its own transaction, as the scratch build that runs this commits as it goes.
                lane = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except sa.exc.OperationalError:
                break  # no more connections for this role or server
            opened.append(lane)
            for setting in setup:
                lane.exec_driver_sql(setting)
        workers = opened or [connection]  # `connection` has the build's settings already
        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            for wave in waves:
                parts = [wave[n :: len(workers)] for n in range(len(workers))]
                futures = [pool.submit(_run_lane, worker, [sql for t in part for sql in by_table[t]], batch) for worker, part in zip(workers, parts) if part]
                for future in futures:
                    future.result()
    finally:
        for lane in opened:
            try:
                for setting in undo:
                    lane.exec_driver_sql(setting)
            except sa.exc.DBAPIError:
                lane.invalidate()  # never back to the pool with the build's settings
            lane.close()


def _run_lane(connection: sa.Connection, statements: list[str], batch: int) -> None:
    for start in range(0, len(statements), batch):
        connection.exec_driver_sql(";\n".join(statements[start : start + batch]))


def _waves(tables: list[sa.Table]) -> list[list[sa.Table]]:
    """`tables` in rounds: each after the ones its foreign keys (made with it) name among them."""
    building = set(tables)
    needs = {t: {fk.column.table for fk in t.foreign_keys if not (fk.constraint is not None and fk.constraint.use_alter) and fk.column.table in building} - {t} for t in tables}
    waves: list[list[sa.Table]] = []
    done: set[sa.Table] = set()
    while len(done) < len(tables):
        wave = [t for t in tables if t not in done and needs[t] <= done]
        if not wave:  # a cycle create_all made no ALTER for: in the order given, one at a time
            wave = [next(t for t in tables if t not in done)]
        waves.append(wave)
        done |= set(wave)
    return waves
