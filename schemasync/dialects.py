"""What schemasync knows about a database dialect, behind one narrow interface, and the registry.

Each dialect module has the same sections in the same order: facts, normalise, lower, SQL
(elements for the steps whose spelling differs), lock, scratch place, catalog (the bulk reader,
in catalog_<dialect>.py). Code outside the
`dialect_*.py` modules asks these questions and never tests a dialect's name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar

import sqlalchemy as sa

from schemasync.catalog import Catalog
from schemasync.errors import ConfigError, LockError
from schemasync.online import TRANSACTION
from schemasync.operations import (
    AddForeignKey,
    AddUnique,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropUnique,
    Operation,
    ReplaceGeneratedColumn,
)
from schemasync.snapshot import Column, ForeignKey, Snapshot, Table, TableKey, View

LOCK_NAME = "schemasync"


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
    # Whether enum types and sequences are schema objects of their own here (PostgreSQL), managed beside the tables.
    schema_objects: ClassVar[bool] = False
    # Where the models can be built with no server at all (SQLite: in memory); None: a server is needed.
    offline_build_url: ClassVar[str | None] = None
    # Whether CREATE MATERIALIZED VIEW exists here.
    materialized_views: ClassVar[bool] = False
    # Whether a new table's unique indexes go inside its CREATE TABLE (as UNIQUE constraints), so
    # that its foreign keys find them there instead of getting an index of their own (MariaDB).
    unique_indexes_in_create_table: ClassVar[bool] = False

    def __init__(self, sa_dialect: sa.engine.Dialect) -> None:
        self.sa_dialect = sa_dialect

    # --- normalise -------------------------------------------------------------------------------

    def type_text(self, type_object: Any) -> str:
        """The canonical text of a reflected type: how this dialect's compiler spells it."""
        try:
            # str(): identifiers come back as quoted_name, which YAML and JSON writers reject.
            return str(self.sa_dialect.type_compiler_instance.process(type_object))
        except sa.exc.CompileError:
            return type(type_object).__name__.upper()

    def is_generated_name(self, kind: str, table: str, name: str | None) -> bool:
        pattern = self.generated_names.get(kind)
        return bool(name) and pattern is not None and re.fullmatch(pattern.format(table=re.escape(table)), name) is not None

    def normalize_column(self, column: Column) -> Column:
        return column

    def normalize_table(self, table: Table) -> Table:
        """Spelling rules that make two equal tables compare equal (see docs/normalisation.md)."""

        def anonymise(constraint: Any, kind: str) -> Any:
            if self.is_generated_name(kind, table.name, constraint.name):
                return replace(constraint, name=None, db_name=constraint.name)
            return constraint if constraint.db_name == constraint.name else replace(constraint, db_name=constraint.name)

        pk = anonymise(table.primary_key, "primary_key") if table.primary_key else None
        return replace(
            table,
            columns=tuple(self.normalize_column(c) for c in table.columns),
            primary_key=pk,
            foreign_keys=tuple(sorted((anonymise(fk, "foreign_key") for fk in table.foreign_keys), key=_sort_key)),
            uniques=tuple(sorted((anonymise(u, "unique") for u in table.uniques), key=_sort_key)),
            checks=tuple(sorted((anonymise(c, "check") for c in table.checks), key=_sort_key)),
            indexes=tuple(sorted(table.indexes, key=_sort_key)),
            comment=table.comment if self.has_comments else None,
        )

    def normalize(self, snapshot: Snapshot) -> Snapshot:
        return snapshot.with_tables(tuple(self.normalize_table(t) for t in snapshot.tables))

    def normalize_view(self, view: View, schemas: Mapping[str | None, str | None]) -> View:
        """A view's definition without the trailing ';' and with the schemas it names in the caller's
        terms (a scratch schema's name, which the server writes where it is not the default, maps back)."""
        text = view.definition.strip().rstrip(";").rstrip()
        preparer = self.sa_dialect.identifier_preparer
        for db_schema, logical in schemas.items():
            if db_schema is None or db_schema == logical:
                continue
            # Spelled as the server spells names: quoted where it quoted the scratch name (MariaDB
            # always), else quoted only where needed (PostgreSQL's quote_ident).
            quoted = f"{preparer.quote_identifier(logical)}." if logical else ""
            bare = f"{preparer.quote(logical)}." if logical else ""
            text = text.replace(f"{preparer.quote_identifier(db_schema)}.", quoted)
            text = re.sub(r"(?<![\w$])" + re.escape(db_schema) + r"\.", lambda _: bare, text)
        return replace(view, definition=text) if text != view.definition else view

    # --- lower -----------------------------------------------------------------------------------

    def lower(self, operations: Sequence[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
        """Turn the neutral diff into steps this dialect can run; the strategy shows in the plan."""
        operations = _replace_generated_columns(operations, current, self.generated_change_in_place)
        lowered = _rebind_foreign_keys(_defer_foreign_keys_of_new_tables(list(operations)), current, target)
        return lowered + _drop_invalid_indexes(current, target)

    def generated_change_in_place(self, before: Column, after: Column) -> bool:
        """Whether ALTER COLUMN can change what generates a column (PostgreSQL 13+: only DROP EXPRESSION).
        https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-DROP-EXPRESSION"""
        return after.computed is None

    # --- online mode (online.py) -----------------------------------------------------------------

    # Whether online mode changes anything here (SQLite: no online DDL, the plan runs as usual).
    online_ddl: ClassVar[bool] = False
    # What online mode does on this server, said once in an online plan.
    online_note: ClassVar[str] = "online mode changes nothing here: this database has no online DDL; the plan runs as usual, in one transaction"

    def online_steps(self, operations: Sequence[Operation], current: Snapshot) -> list[tuple[Operation, str]]:
        """The ordered steps in their online forms, each with its mode (online.MODES); a step may become several."""
        return [(op, TRANSACTION) for op in operations]

    def mode_element(self, element: Any, mode: str) -> Any:
        """The statement as it must be spelled to run in `mode` (MySQL names the ALTER's algorithm)."""
        return element

    # --- SQL -------------------------------------------------------------------------------------

    def add_column_elements(self, table: sa.Table, column: Column) -> list[Any]:
        """Extra DDL after ADD COLUMN for what the column definition alone cannot say here."""
        return []

    def alter_column_elements(self, table: sa.Table, before: Column, after: Column) -> list[Any]:
        """DDL elements for an in-place column change (PostgreSQL-style ALTER COLUMN clauses)."""
        from schemasync import ddl

        elements: list[Any] = []
        if (before.type, before.nullable, before.default) != (after.type, after.nullable, after.default):
            elements.append(ddl.AlterColumn(table, table.c[after.name], before, after))
        if before.comment != after.comment and self.has_comments:
            elements.append(sa.schema.SetColumnComment(table.c[after.name]) if after.comment else sa.schema.DropColumnComment(table.c[after.name]))
        return elements

    def create_table_extra_elements(self, table: Any) -> list[Any]:
        """DDL after a new table's CREATE TABLE and indexes, for what they cannot say here (a snapshot Table)."""
        return []

    def after_build(self, connection: sa.Connection, tables: Sequence[sa.Table]) -> None:
        """Finish the models' scratch build where create_all leaves something out (MariaDB: AUTO_INCREMENT off the key)."""

    def model_key_extras(self, table: sa.Table) -> list[Any]:
        """What a model table declares that its compiled DDL does not show (added to the target cache key
        and the lock digest only when not empty, so other tables' keys stay as they were)."""
        return []

    def after_restore_rows(self, table: sa.Table, autoincrement: Sequence[str]) -> list[Any]:
        """Statements to run after rows were inserted with explicit keys (PostgreSQL moves its sequences)."""
        return []

    def complete_inspector_catalog(self, connection: sa.Connection, schema: str | None, catalog: Catalog) -> None:
        """Fill in what SQLAlchemy's Inspector does not report but the bulk reader does (SQLite: collations)."""

    # --- hazards ---------------------------------------------------------------------------------

    def cost_hazards(self, op: Operation, mode: str = "transaction") -> tuple[str, ...]:
        """`table-rewrite` / `long-lock` for a change on an existing table, run in `mode` (online.py) by this server (hazards.py)."""
        return ()

    # --- connection set-up, lock, scratch place ---------------------------------------------------

    def engine_options(self, lock_timeout: float) -> dict[str, Any]:
        return {}

    def prepare_engine(self, engine: sa.Engine) -> None:
        """Hook for engine events (SQLite needs them for transactional DDL)."""

    def default_schema_options(self, schema: str) -> dict[str, Any]:
        """Engine options that make `schema` the connection's default one (a schema-per-tenant target)."""
        raise ConfigError(f"a target's own schema ({schema}) needs PostgreSQL; on {self.name} name the database in the URL instead (e.g. .../{{name}})")

    @contextmanager
    def migration_transaction(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """The apply's transaction, holding the per-database lock that keeps two applies apart."""
        raise NotImplementedError

    def commit_progress(self, connection: sa.Connection) -> None:
        """Make the state row's latest progress durable at once, where statements commit one by one
        (a killed session then leaves an exact count). Where the plan is one transaction: nothing."""

    def migration_lock_free(self, connection: sa.Connection) -> bool:
        """Whether no session holds the migration lock (so a `running` state row is one whose session
        ended mid-way). Default: a running row is never visible before its transaction commits."""
        return True

    @contextmanager
    def scratch(self, engine: sa.Engine, schemas: Sequence[str | None], tables: int = 0) -> Iterator[tuple[sa.Connection, dict[str | None, str | None]]]:
        """A place to build the models (`tables` of them): yields a connection and {model schema: scratch schema}."""
        raise NotImplementedError

    def build_context(self, connection: sa.Connection) -> str:
        """What else, besides the models and the server version, shapes what a scratch build yields."""
        return ""

    def after_apply_check(self, connection: sa.Connection) -> None:
        """Checks to run inside the apply transaction before it commits."""

    def read_objects(self, connection: sa.Connection, schemas: Mapping[str | None, str | None], keep: Callable[[str | None, str], bool]) -> tuple[tuple, tuple]:
        """(enum types, standalone sequences) of the given schemas ({schema in the database: schema to report}); none here."""
        return (), ()

    # --- views and what schemasync leaves alone ---------------------------------------------------

    def read_views(self, connection: sa.Connection, schema: str | None) -> list[View]:
        """The views of one schema (unnormalised; `schema` left None). One small catalog query on
        both reading paths: the Inspector reports definitions in other shapes per dialect (MariaDB's
        whole SHOW CREATE VIEW), so tests/test_catalog.py has nothing to compare them with."""
        inspector = sa.inspect(connection)
        return [View(name, inspector.get_view_definition(name, schema=schema) or "") for name in inspector.get_view_names(schema=schema)]

    def other_objects(self, connection: sa.Connection, schema: str | None) -> list[str]:
        """What one schema holds besides tables and views that schemasync leaves alone (triggers, functions, ...)."""
        return []

    # --- running online (apply.py) ---------------------------------------------------------------

    @contextmanager
    def session_lock(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """The migration lock held across many transactions (an online apply commits step by step)."""
        raise NotImplementedError

    def lock_timeout_sql(self, seconds: float) -> str | None:
        """Run at the start of each step that takes a strong lock: give up waiting for it after `seconds`."""
        return None

    def is_lock_timeout(self, error: sa.exc.DBAPIError) -> bool:
        """Whether the statement gave up waiting for a lock (or lost a deadlock): worth trying again."""
        return False

    def explain_failure(self, error: sa.exc.DBAPIError) -> str | None:
        """A clearer sentence for a failure of an online step, when there is one to say."""
        return None

    def online_leftovers(self, connection: sa.Connection) -> frozenset[tuple[str, ...]]:
        """What a failed online step can leave behind (PostgreSQL: INVALID indexes, NOT VALID constraints)."""
        return frozenset()

    def drop_leftover(self, connection: sa.Connection, leftover: tuple[str, ...]) -> str:
        """Remove one leftover (outside any transaction); returns what was removed, for the record."""
        raise NotImplementedError

    # --- catalog ---------------------------------------------------------------------------------

    def read_catalog(self, connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog | None:
        """The tables `names` read in bulk from this dialect's catalog; None: use SQLAlchemy's Inspector."""
        return None

    def refuse_unsupported(self, tables: Sequence[sa.Table]) -> None:
        """Raise a one-line PlanError for a construct in the models this server cannot hold."""

    def complete_catalog(self, connection: sa.Connection, schema: str | None, names: list[str], catalog: Catalog) -> None:
        """Add what both readers lack alike (table options, SQLite's expression indexes) with one small query."""


def _replace_generated_columns(operations: Sequence[Operation], current: Snapshot, in_place: Callable[[Column, Column], bool]) -> list[Operation]:
    """A generated column the server cannot alter is dropped and added again (ReplaceGeneratedColumn);
    indexes and unique constraints on it go with it, so they are dropped first and made again after."""
    result: list[Operation] = []
    for op in operations:
        generated = isinstance(op, AlterColumn) and (op.before.computed, op.before.persisted) != (op.after.computed, op.after.persisted)
        if not generated or in_place(op.before, op.after):
            result.append(op)
            continue
        result.append(ReplaceGeneratedColumn(op.table, op.before, op.after))
        table = current.table(op.table)
        for index in table.indexes if table else ():
            if op.before.name in index.columns and DropIndex(op.table, index) not in operations:
                result += [DropIndex(op.table, index), CreateIndex(op.table, index)]
        for unique in table.uniques if table else ():
            if op.before.name in unique.columns and DropUnique(op.table, unique) not in operations:
                result += [DropUnique(op.table, unique), AddUnique(op.table, unique)]
    return result


def _drop_invalid_indexes(current: Snapshot, target: Snapshot) -> list[Operation]:
    """An INVALID index (a failed CREATE INDEX CONCURRENTLY) is dropped; the diff builds it again if wanted."""
    return [DropIndex(table.key, index) for table in current.tables if target.table(table.key) for index in table.invalid_indexes]


def _sort_key(item: Any) -> str:
    return repr(item.key)


def _rebind_foreign_keys(operations: list[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
    """Drop and re-add kept foreign keys that stand in the way of another step.

    PostgreSQL and MySQL refuse to change the type of a column a foreign key uses, and to drop the
    primary key or unique key a foreign key references (e.g. to rename it), while the key exists.
    """
    changed = _retyped_columns(operations)
    unbound = {(op.table, key) for op in operations for key in _referable_keys_dropped(op)}
    if not changed and not unbound:
        return operations
    dropped = {(op.table, op.foreign_key.key) for op in operations if isinstance(op, DropForeignKey)}
    extra: list[Operation] = []
    for table in current.tables:
        if target.table(table.key) is None:
            continue  # the table goes, and its foreign keys with it
        for fk in table.foreign_keys:
            touched = _meets_a_change(fk, changed, unbound) or any((table.key, column) in changed for column in fk.columns)
            if touched and (table.key, fk.key) not in dropped:
                extra += [DropForeignKey(table.key, fk), AddForeignKey(table.key, fk)]
    return operations + extra


def _retyped_columns(operations: list[Operation]) -> set[tuple[TableKey, str]]:
    return {(op.table, op.after.name) for op in operations if isinstance(op, AlterColumn) and op.before.type != op.after.type}


def _defer_foreign_keys_of_new_tables(operations: list[Operation]) -> list[Operation]:
    """A new table's foreign key to a column or key the plan changes is added after that change.

    Tables are created before columns are altered and keys re-added, so the key would meet the
    old type (MySQL refuses a key between different integer types: errno 150) or no key at all
    (PostgreSQL: "no unique constraint matching given keys" while a primary key is renamed).
    """
    changed = _retyped_columns(operations)
    unbound = {(op.table, key) for op in operations for key in _referable_keys_dropped(op)}
    result: list[Operation] = []
    for op in operations:
        if not isinstance(op, CreateTable) or not (changed or unbound):
            result.append(op)
            continue
        later = [fk for fk in op.definition.foreign_keys if _meets_a_change(fk, changed, unbound)]
        kept = tuple(fk for fk in op.definition.foreign_keys if fk not in later)
        result.append(CreateTable(op.table, replace(op.definition, foreign_keys=kept)) if later else op)
        result += [AddForeignKey(op.table, fk) for fk in later]
    return result


def _meets_a_change(fk: ForeignKey, changed: set[tuple[TableKey, str]], unbound: set[tuple[TableKey, frozenset[str]]]) -> bool:
    referred = (fk.referred_schema, fk.referred_table)
    return any((referred, column) in changed for column in fk.referred_columns) or (referred, frozenset(fk.referred_columns)) in unbound


def _referable_keys_dropped(op: Operation) -> list[frozenset[str]]:
    """The column set of a key a foreign key could reference, when `op` drops it."""
    if isinstance(op, DropPrimaryKey):
        return [frozenset(op.primary_key.columns)]
    if isinstance(op, DropUnique):
        return [frozenset(op.unique.columns)]
    if isinstance(op, DropIndex) and op.index.unique:
        return [frozenset(op.index.columns)]
    return []


_REGISTRY: dict[str, Callable[[sa.engine.Dialect], Dialect]] = {}


def register(cls: type[Dialect]) -> type[Dialect]:
    _REGISTRY[cls.name] = cls
    return cls


def dialect_for(sa_dialect: sa.engine.Dialect) -> Dialect:
    """The schemasync dialect for a SQLAlchemy dialect; an unknown one is a clear error."""
    import schemasync.dialect_mysql  # noqa: F401  (registration)
    import schemasync.dialect_postgresql  # noqa: F401
    import schemasync.dialect_sqlite  # noqa: F401

    factory = _REGISTRY.get(sa_dialect.name)
    if factory is None:
        supported = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"dialect '{sa_dialect.name}' is not supported (supported: {supported})")
    return factory(sa_dialect)


def offline_dialect(name: str) -> Dialect:
    """The dialect `name` with no server behind it (SQLAlchemy's default driver): for offline plans."""
    try:
        sa_dialect = sa.engine.make_url(f"{name}://").get_dialect()()
    except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError):
        raise ConfigError(f"dialect '{name}' is not supported (supported: mysql, postgresql, sqlite)") from None
    return dialect_for(sa_dialect)


def wait_for_lock(try_lock: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `try_lock` until it succeeds or `timeout` seconds pass; then fail clearly."""
    deadline = time.monotonic() + timeout
    while not try_lock():
        if time.monotonic() >= deadline:
            raise LockError(f"another schemasync run holds the migration lock on {what}; waited {timeout:g}s (try again later)")
        time.sleep(0.2)

