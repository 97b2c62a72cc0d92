"""SQLite: the embedded default. ALTER TABLE is minimal, so most changes rebuild the table."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import types as sqltypes

from schemasync.dialects.base import Defer, Dialect
from schemasync.dialects.catalog import Catalog
from schemasync.dialects.spelling import numeric_literal
from schemasync.errors import ApplyError, ConfigError, LockError
from schemasync.hazards import LONG_LOCK, TABLE_REWRITE
from schemasync.online import TRANSACTION
from schemasync.operations import (
    AddColumn,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropIndex,
    DropTable,
    FillColumn,
    Operation,
    RebuildTable,
    RebuildTableAfterRestore,
    RenameColumn,
    RenameIndex,
    RenameTable,
    SetNotNullAfterRestore,
)
from schemasync.snapshot import Column, Snapshot, View, key_order

BEGIN_OPTION = "schemasync_begin"
# CREATE [TEMP] VIEW [IF NOT EXISTS] name [(columns)] AS: https://www.sqlite.org/lang_createview.html
_VIEW_HEAD = re.compile(
    r'^\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[^\s(]+)\s*(?:\([^)]*\)\s*)?AS\s+',
    re.IGNORECASE,
)
RENAMES = (RenameTable, RenameColumn)


class SQLiteDialect(Dialect):
    # --- facts -----------------------------------------------------------------------------------
    name: ClassVar[str] = "sqlite"
    transactional_ddl: ClassVar[bool] = True
    has_comments: ClassVar[bool] = False
    # SQLite resolves REFERENCES lazily, so a cycle of new tables needs no splitting.
    fk_needs_existing_target: ClassVar[bool] = False
    # Declared lengths and sizes are not enforced: a rebuild copies every value as it is.
    narrowing_fails_on: ClassVar[frozenset[str]] = frozenset()
    # Nor are they cut: a shorter length or a smaller integer type keeps every value as it is.
    narrowing_keeps_values_on: ClassVar[frozenset[str]] = frozenset({"length", "range"})
    # Enforcement is off during the apply; PRAGMA foreign_key_check runs before it commits.
    checks_foreign_keys_in_apply: ClassVar[bool] = False
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#module-sqlalchemy.dialects.sqlite.aiosqlite
    sync_drivers: ClassVar[dict[str, tuple[str, str]]] = {"aiosqlite": ("pysqlite", "sqlite3")}
    # SQLite has no limit on identifiers; backup names are kept as short as on PostgreSQL.
    max_name_length: ClassVar[int] = 63
    # The scratch place is an in-memory database: snapshots and offline plans need no file.
    offline_build_url: ClassVar[str | None] = "sqlite://"

    # --- normalise -------------------------------------------------------------------------------

    def canonical_type(self, type_object: Any) -> Any:
        """Synonyms (DECIMAL and NUMERIC, CHAR and VARCHAR, ...) in one spelling: SQLite keeps the
        declared name as written and gives both the same affinity. https://www.sqlite.org/datatype3.html"""
        return synonym(type_object)

    def normalize_column(self, column: Column) -> Column:
        # SQLite does not report autoincrement; an INTEGER PRIMARY KEY is the rowid either way.
        changes: dict[str, Any] = {}
        if column.autoincrement is not False or column.comment is not None:
            changes.update(autoincrement=False, comment=None)
        if column.default is not None and isinstance(column.type_object, sqltypes.Boolean):
            default = boolean_default(column.default)
            if default != column.default:
                changes["default"] = default
        return replace(column, **changes) if changes else column

    def normalize_check(self, sqltext: str) -> str:
        return canonical_spacing(sqltext)

    # --- lower -----------------------------------------------------------------------------------

    def lower(self, operations: Sequence[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
        """Replace what ALTER TABLE cannot do with one visible `rebuild_table` step per table.

        A NOT NULL that waits for restored values (backup.restore) is a second rebuild of its own,
        run late: the first rebuild (if any) builds the table with those columns still nullable.
        Declared fills and conversions (data_changes.py) of a rebuilt table are done by its copy; a
        fill on a table that is not rebuilt stays an UPDATE."""
        operations = [step for op in operations for step in _rename_index_by_drop_and_create(op)]
        late = [op for op in operations if isinstance(op, SetNotNullAfterRestore)]
        operations = [op for op in operations if not isinstance(op, SetNotNullAfterRestore)]
        shape = _before_late(target, late)
        rebuild = sorted({op.table for op in operations if _needs_rebuild(op)}, key=key_order)
        # Renames stay steps of their own (SQLite has RENAME); the rebuild copies from the new names.
        # Index drops too: index names are global, and a table created before the rebuild may take one.
        kept = [op for op in operations if op.table not in rebuild or isinstance(op, (*RENAMES, DropIndex))]
        for key in rebuild:
            own = [op for op in operations if op.table == key and not isinstance(op, (CreateIndex, DropIndex, *RENAMES))]
            kept.append(
                RebuildTable(
                    key,
                    current.tables_by_key[key],
                    shape.tables_by_key[key],
                    reasons=tuple(op.summary() for op in own),
                    loses_data=any(op.destructive for op in own),
                    fills=tuple((op.column.name, op.expression) for op in own if isinstance(op, FillColumn)),
                    conversions=tuple((op.after.name, op.using) for op in own if isinstance(op, AlterColumn) and op.using),
                )
            )
        for key in sorted({op.table for op in late}, key=key_order):
            reasons = tuple(op.summary() for op in late if op.table == key)
            kept.append(RebuildTableAfterRestore(key, shape.tables_by_key[key], target.tables_by_key[key], reasons=reasons, loses_data=False))
        return kept

    # --- hazards ---------------------------------------------------------------------------------

    def cost_hazards(self, op: Operation, mode: str = TRANSACTION) -> tuple[str, ...]:
        """A rebuild copies every row while the apply holds the database's write lock."""
        return (TABLE_REWRITE, LONG_LOCK) if isinstance(op, RebuildTable) else ()

    # --- connection set-up, lock, scratch place ---------------------------------------------------

    @staticmethod
    def absolute_url(url: sa.URL, folder: Path) -> sa.URL:
        # The database is a file path unless it is in memory or a `file:` URI (https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#connect-strings).
        database = url.database
        if not database or database == ":memory:" or database.startswith("file:") or Path(database).is_absolute():
            return url
        return url.set(database=str(folder / database))

    def engine_options(self, lock_timeout: float, url: sa.URL | None = None) -> dict[str, Any]:
        if url is not None and in_memory(url):
            # One connection for every thread (plan reads the live side on a worker thread): an
            # in-memory database lives in its connection, and SQLAlchemy's default pool for it
            # keeps one per thread, closed from the wrong thread at dispose (sqlite3's thread error).
            # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#using-a-memory-database-in-multiple-threads
            return {"connect_args": {"timeout": lock_timeout, "check_same_thread": False}, "poolclass": sa.pool.StaticPool}
        return {"connect_args": {"timeout": lock_timeout}}

    def absent_database(self, url: sa.URL) -> str | None:
        """A database file that does not exist: connecting would create it (an empty one)."""
        if in_memory(url) or (url.database or "").startswith("file:") or Path(url.database or "").exists():
            return None
        return f"the SQLite database {url.database} does not exist yet: planned as an empty database (apply creates it)"

    def prepare_engine(self, engine: sa.Engine) -> None:
        """Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so DDL is transactional.

        https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
        """

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None
            # A rebuild drops and recreates referenced tables; enforcement would cascade or refuse.
            dbapi_connection.execute("PRAGMA foreign_keys=OFF")

        @event.listens_for(engine, "begin")
        def _begin(connection: sa.Connection) -> None:
            connection.exec_driver_sql(connection.get_execution_options().get(BEGIN_OPTION, "BEGIN"))

    @contextmanager
    def migration_transaction(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """BEGIN IMMEDIATE takes SQLite's write lock up front; a second writer waits `timeout`, then fails."""
        connection.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})
        try:
            transaction = connection.begin()
        except sa.exc.OperationalError as error:
            raise LockError(f"the SQLite database is locked by another writer; waited {timeout:g}s ({error.orig})") from None
        with transaction:
            yield

    def migration_lock_free(self, connection: sa.Connection) -> bool:
        """Whether another connection holds the database's write lock (an apply's BEGIN IMMEDIATE):
        asked on a connection of its own with no busy wait, so the caller's transaction is untouched."""
        path = connection.engine.url.database
        if not path or path == ":memory:":
            return True
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()

    def after_apply_check(self, connection: sa.Connection) -> None:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            table, rowid, parent, _ = problems[0]
            raise ApplyError(f"{len(problems)} rows would break foreign keys (first: {table} rowid {rowid} -> {parent}); nothing was changed")

    @contextmanager
    def scratch(self, engine: sa.Engine, schemas: Sequence[str | None], tables: int = 0, defer: Defer | None = None,
                ) -> Iterator[tuple[sa.Connection, Mapping[str | None, str | None]]]:
        """An in-memory database: the models are built there and reflected back."""
        if any(schema is not None for schema in schemas):
            raise ConfigError("SQLite has no named schemas: remove include_schemas or schema= from the models")
        scratch_engine = sa.create_engine("sqlite://")
        try:
            with scratch_engine.connect() as connection:
                yield connection, {None: None}
        finally:
            scratch_engine.dispose()

    # --- catalog ---------------------------------------------------------------------------------

    def read_catalog(self, connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog | None:
        """Pragma functions joined to sqlite_master: four queries, not several per table."""
        from schemasync.dialects.sqlite import catalog as catalog_sqlite

        return catalog_sqlite.read(connection, schema, names) if catalog_sqlite.supported(connection) else None

    def complete_catalog(self, connection: sa.Connection, schema: str | None, names: list[str], catalog: Catalog) -> None:
        """Expression and partial indexes, table options and triggers, from the schema's SQL text."""
        from schemasync.dialects.sqlite import schema_text

        schema_text.complete(connection, schema, names, catalog)

    def complete_inspector_catalog(self, connection: sa.Connection, schema: str | None, catalog: Catalog) -> None:
        """Column collations, which SQLAlchemy's Inspector does not read, and generated columns'
        expressions, which it reads only when spelled GENERATED ALWAYS AS: from the CREATE TABLE text."""
        from schemasync.dialects.sqlite import catalog as catalog_sqlite

        main = self.sa_dialect.identifier_preparer.quote_identifier(schema) if schema else "main"
        for name, columns in catalog.columns.items():
            sql = connection.exec_driver_sql(f"SELECT sql FROM {main}.sqlite_master WHERE type = 'table' AND name = ?", (name,)).scalar()
            collations = catalog_sqlite.column_collations(sql or "")
            for column in columns:
                column["type"] = catalog_sqlite.with_collation(column["type"], collations.get(column["name"]))
                if column.get("computed"):
                    column["computed"] = {**column["computed"], "sqltext": catalog_sqlite.generated_expression(sql or "", column["name"])}

    # --- views and what schemasync leaves alone ---------------------------------------------------

    def read_views(self, connection: sa.Connection, schema: str | None) -> list[View]:
        """sqlite_master keeps each CREATE VIEW as it was written: the SELECT after its AS is the definition."""
        rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name").all()
        return [View(name, _VIEW_HEAD.sub("", sql or "", count=1)) for name, sql in rows]

    def other_objects(self, connection: sa.Connection, schema: str | None) -> list[str]:
        rows = connection.exec_driver_sql("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all()
        return [f"trigger {name} on {table}" for name, table in rows]


# Declared type names SQLite treats alike (same affinity), as the one SQLAlchemy's generic type compiles to.
_SYNONYMS: dict[type, type] = {
    sqltypes.DECIMAL: sqltypes.NUMERIC,
    sqltypes.CHAR: sqltypes.VARCHAR,
    sqltypes.NCHAR: sqltypes.VARCHAR,
    sqltypes.NVARCHAR: sqltypes.VARCHAR,
    sqltypes.TIMESTAMP: sqltypes.DATETIME,
    sqltypes.DOUBLE: sqltypes.FLOAT,
    sqltypes.DOUBLE_PRECISION: sqltypes.FLOAT,
    sqltypes.REAL: sqltypes.FLOAT,
}


def synonym(type_object: Any) -> Any:
    """The type spelled as its synonyms' one name, with its arguments (length and collation, precision and scale)."""
    target = _SYNONYMS.get(type(type_object))
    if target is None:
        return type_object
    if issubclass(target, sqltypes.String):
        return target(type_object.length, collation=type_object.collation)
    if target is sqltypes.NUMERIC:
        return target(type_object.precision, type_object.scale)
    return target()


def boolean_default(default: str) -> str:
    """A boolean column's default as a number: SQLite stores true/false and '1'/'0' as 1/0 alike."""
    word = default.strip().lower()
    if word in ("true", "false"):
        return "1" if word == "true" else "0"
    return numeric_literal(default) or default


# Quoted text (kept whole), whitespace runs, parentheses and commas, and runs of anything else.
_SPACING_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|\s+|[(),]|[^'"`\[\s(),]+|.""")


# Keywords that cannot be bare names, in capitals as SQLAlchemy writes them.
_KEYWORDS = {word.lower(): word for word in ("AND", "OR", "NOT", "IN", "IS", "NULL", "BETWEEN", "LIKE", "GLOB", "CASE", "WHEN", "THEN", "ELSE", "END")}


def canonical_spacing(sqltext: str) -> str:
    """An expression with SQLAlchemy's spacing (`e IN ('a', 'b')`): SQLite keeps a CHECK as it was
    written, so `e IN ('a','b')` from another tool is the same check spelled otherwise. Whitespace
    outside quotes becomes one space, none after "(" or before ")" and ",", one after ","; reserved
    keywords are capitalised (https://www.sqlite.org/lang_keywords.html)."""
    tokens = list(_SPACING_TOKENS.findall(sqltext.strip()))
    out: list[str] = []
    for number, token in enumerate(tokens):
        if token.isspace():
            following = tokens[number + 1] if number + 1 < len(tokens) else ")"
            if out and out[-1] not in ("(", ", ") and following not in (")", ","):
                out.append(" ")
        else:
            out.append(", " if token == "," else _KEYWORDS.get(token.lower(), token))
    return "".join(out)


def _rename_index_by_drop_and_create(op: Operation) -> list[Operation]:
    """SQLite has no ALTER INDEX: an index is dropped and created under its new name (the rows stay)."""
    if isinstance(op, RenameIndex):
        return [DropIndex(op.table, replace(op.index, name=op.old_name)), CreateIndex(op.table, op.index)]
    return [op]



def _before_late(target: Snapshot, late: Sequence[SetNotNullAfterRestore]) -> Snapshot:
    """The target as the plan leaves it before its late NOT NULL steps: those columns still nullable."""
    loose = {(op.table, op.before.name): op.before for op in late}
    if not loose:
        return target
    tables = tuple(replace(t, columns=tuple(loose.get((t.key, c.name), c) for c in t.columns)) for t in target.tables)
    return replace(target, tables=tables)


def _needs_rebuild(op: Operation) -> bool:
    if isinstance(op, (CreateTable, DropTable, CreateIndex, DropIndex, FillColumn, *RENAMES)):
        return False
    if isinstance(op, AddColumn):
        return not _can_add_in_place(op.column)
    return True


def _can_add_in_place(column: Column) -> bool:
    """ALTER TABLE ADD COLUMN's limits: https://www.sqlite.org/lang_altertable.html#altertabaddcol"""
    default = (column.default or "").strip().upper()
    constant_default = not default.startswith("(") and not default.startswith("CURRENT_")
    # A STORED generated column cannot be added (https://www.sqlite.org/gencol.html, limitations); a
    # VIRTUAL one can, but ADD COLUMN appends it to the CREATE TABLE text on the same line as the last
    # column, where SQLAlchemy's own pattern for generated expressions reads past it (both readers now
    # read each column's definition, catalog_sqlite.generated_expression): a rebuild writes one column per line.
    return (column.nullable or column.default is not None) and constant_default and column.computed is None


def in_memory(url: sa.URL) -> bool:
    """`sqlite://` and `sqlite:///:memory:`: a database that lives in its connection."""
    return url.database in (None, "", ":memory:")
