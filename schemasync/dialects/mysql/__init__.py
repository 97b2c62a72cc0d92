"""MySQL 8 and MariaDB 10.5+: DDL commits itself, unique constraints are indexes, and every
foreign key gets an index of its own when none is declared."""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import TINYINT

from schemasync import ddl, online
from schemasync.dialects.base import (
    LOCK_NAME,
    BuildStatement,
    Defer,
    Dialect,
    dropped_after,
    run_in_waves,
)
from schemasync.dialects.catalog import Catalog
from schemasync.errors import LockError, PlanError
from schemasync.hazards import LONG_LOCK, TABLE_REWRITE
from schemasync.online import COPY, INPLACE, INSTANT, ONLINE, TRANSACTION
from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddPrimaryKey,
    AlterColumn,
    CreateIndex,
    DropAutoIncrement,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    Operation,
    RenameColumn,
    RenameConstraint,
    RenameTable,
    ReplaceGeneratedColumn,
    SetAutoIncrement,
    SetTableComment,
    parse_type,
)
from schemasync.snapshot import Check, Column, ForeignKey, Index, Snapshot, Table, View

SCRATCH_PREFIX = "schemasync_scratch_"
BUILD_CONNECTIONS = 4  # scratch build: tables made at the same time
# ER_LOCK_WAIT_TIMEOUT (also a metadata lock wait), ER_LOCK_DEADLOCK: worth another try.
_RETRYABLE = {1205, 1213}
# ER_ALTER_OPERATION_NOT_SUPPORTED(_REASON): the server will not run the ALTER with the algorithm asked for.
_REFUSED = {1845, 1846}
# ER_SIGNAL_EXCEPTION: our own SIGNAL (a foreign key's rows did not pass the check).
_SIGNALLED = 1644
# Views, and what schemasync leaves alone, in one database (the connection's own when :schema is NULL).
_VIEWS = "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = :schema ORDER BY TABLE_NAME"
_TRIGGERS = """SELECT CONCAT('trigger ', TRIGGER_NAME, ' on ', EVENT_OBJECT_TABLE) FROM information_schema.TRIGGERS
WHERE TRIGGER_SCHEMA = COALESCE(:schema, DATABASE()) ORDER BY 1"""
_ROUTINES = """SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME) FROM information_schema.ROUTINES
WHERE ROUTINE_SCHEMA = COALESCE(:schema, DATABASE()) ORDER BY 1"""
_EVENTS = """SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = COALESCE(:schema, DATABASE()) ORDER BY 1"""
_GRANTS = """SELECT CONCAT('grant ', GROUP_CONCAT(PRIVILEGE_TYPE ORDER BY PRIVILEGE_TYPE SEPARATOR ', '), ' on ', TABLE_NAME, ' to ', GRANTEE)
FROM information_schema.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) GROUP BY TABLE_NAME, GRANTEE ORDER BY 1"""
_DATABASE_CHARSET = "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()"


_TABLE_OPTIONS = """
SELECT t.TABLE_NAME, t.ENGINE, t.TABLE_COLLATION, c.CHARACTER_SET_NAME, s.DEFAULT_COLLATION_NAME, t.CREATE_OPTIONS
FROM information_schema.TABLES AS t
JOIN information_schema.SCHEMATA AS s ON s.SCHEMA_NAME = t.TABLE_SCHEMA
LEFT JOIN information_schema.COLLATIONS AS c ON c.COLLATION_NAME = t.TABLE_COLLATION
WHERE t.TABLE_SCHEMA = COALESCE(%(schema)s, DATABASE()) AND t.TABLE_TYPE = 'BASE TABLE'
"""
# Descending key parts (MariaDB 10.8+, MySQL 8): SHOW INDEX's COLLATION 'D'. The Inspector does not read them.
_DESCENDING_PARTS = """
SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = COALESCE(%(schema)s, DATABASE()) AND COLLATION = 'D'
"""
# Partitioned tables (their partitioning is read from SHOW CREATE TABLE, as the server spells it).
_PARTITIONED = """
SELECT DISTINCT TABLE_NAME FROM information_schema.PARTITIONS
WHERE TABLE_SCHEMA = COALESCE(%(schema)s, DATABASE()) AND PARTITION_NAME IS NOT NULL
"""
# The partitioning clause at the end of SHOW CREATE TABLE (MySQL 8 wraps it in a version comment).
_PARTITION_CLAUSE = re.compile(r"\n\s*(?:/\*!\d+\s*)?PARTITION BY (.+?)(?:\s*\*/)?\s*$", re.DOTALL)
# CREATE_OPTIONS the models can state (mysql_row_format=..., ...) and the server reports back.
_CREATE_OPTIONS = frozenset({"row_format", "key_block_size", "stats_persistent", "stats_auto_recalc", "pack_keys", "checksum", "page_compressed"})


class MySQLDialect(Dialect):
    # --- facts -----------------------------------------------------------------------------------
    name: ClassVar[str] = "mysql"
    scratch_prefix: ClassVar[str | None] = SCRATCH_PREFIX
    transactional_ddl: ClassVar[bool] = False
    has_comments: ClassVar[bool] = True
    fk_needs_existing_target: ClassVar[bool] = True
    # InnoDB checks a foreign key per row as it is written.
    checks_foreign_keys_in_apply: ClassVar[bool] = True
    # https://docs.sqlalchemy.org/en/20/dialects/mysql.html#module-sqlalchemy.dialects.mysql.aiomysql
    sync_drivers: ClassVar[dict[str, tuple[str, str]]] = {"aiomysql": ("pymysql", "pymysql"), "asyncmy": ("pymysql", "pymysql")}
    # Strict mode (the default since MariaDB 10.2.4 / MySQL 5.7) refuses a value that does not fit.
    narrowing_fails_on: ClassVar[frozenset[str]] = frozenset({"length", "range"})
    # https://mariadb.com/kb/en/identifier-names/#maximum-length
    max_name_length: ClassVar[int] = 64
    # A foreign key of CREATE TABLE without an index of its own gets one named after its first
    # column, which is the name the server gave an unnamed unique index on that column: created
    # after the table, that index then failed ("Duplicate key name 'c11'").
    unique_indexes_in_create_table: ClassVar[bool] = True
    generated_names: ClassVar[dict[str, str]] = {
        # Not pinned to the current table name: a renamed table may keep the old prefix.
        "foreign_key": r".+_ibfk_\d+",
        # MariaDB names unnamed checks CONSTRAINT_<n>; MySQL 8 <table>_chk_<n>.
        "check": r"(CONSTRAINT_\d+|.+_chk_\d+)",
    }
    online_ddl: ClassVar[bool] = True
    # InnoDB has no instant or no-copy NULL -> NOT NULL (ALGORITHM=NOCOPY is refused, error 1845): the
    # MODIFY rebuilds the table, and its commit holds an exclusive metadata lock while the old
    # tablespace is deleted (docs/data-changes.md, Measured). ADD COLUMN ... NOT NULL DEFAULT is INSTANT.
    fills_added_columns_by_key: ClassVar[bool] = True
    online_note: ClassVar[str] = (
        "online mode: each ALTER names its algorithm ([instant]: ALGORITHM=INSTANT; [inplace]: ALGORITHM=INPLACE, LOCK=NONE),"
        " so the server refuses rather than block writes; a foreign key goes in place unchecked and its rows are checked by the [online] step after it;"
        " [copy] steps have no online form here and block writes while they run;"
        " every step waits at most lock_timeout for its metadata lock and tries again"
    )

    # --- normalise -------------------------------------------------------------------------------

    def canonical_type(self, type_object: Any) -> Any:
        """Integer types without their display width (`INT(5)` is `INT(11)`): it changes no value, MySQL 8
        no longer reports it, and a table made elsewhere has others. Kept with ZEROFILL (it pads to it) and
        on TINYINT(1), the boolean by convention. https://mariadb.com/kb/en/int/"""
        width = getattr(type_object, "display_width", None)
        if width is None or getattr(type_object, "zerofill", False) or not isinstance(type_object, sa.Integer):
            return type_object
        if width == 1 and isinstance(type_object, TINYINT):
            return type_object
        plain = type_object.copy()
        plain.display_width = None  # type: ignore[attr-defined]  # MySQL's integer types (what reflection makes) have it; sa.Integer does not declare it
        return plain

    def normalize_column(self, column: Column) -> Column:
        if isinstance(column.autoincrement, bool):
            return column
        return replace(column, autoincrement=bool(column.autoincrement))

    def normalize_table(self, table: Table) -> Table:
        """Unique constraints are unique indexes here: keep them once, as indexes.

        The index the server adds behind a foreign key is set aside (it follows the key).
        https://dev.mysql.com/doc/refman/8.0/en/create-table-foreign-keys.html
        """
        implicit = tuple(i for i in table.indexes if any(_is_implicit_index(i, fk) for fk in table.foreign_keys))
        table = replace(
            table,
            uniques=(),
            indexes=tuple(i for i in table.indexes if i not in implicit),
            implicit_indexes=implicit,
        )
        return super().normalize_table(table)

    # --- lower -----------------------------------------------------------------------------------

    def lower(self, operations: Sequence[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
        """Keys come off around the index they use; dropping a key leaves its implicit index: drop that too."""
        _refuse_keys_into_the_default_database(target)
        operations = [step for op in operations for step in _rename_by_drop_and_add(op)]
        operations = _auto_increment_around_keys(operations, current, target)
        lowered = _rebind_foreign_keys_around_index_drops(super().lower(operations, current, target), current, target)
        extra: list[Operation] = []
        dropped_keys = {(op.table, op.foreign_key) for op in lowered if isinstance(op, DropForeignKey)}
        for op in lowered:
            if not isinstance(op, DropForeignKey):
                continue
            before, after = current.table(op.table), target.table(op.table)
            if before is None:
                continue
            for index in before.implicit_indexes:
                # Kept when a key that stays uses it, or when the models' build has the same index.
                # Not when it merely has that name: an index of that name on other columns (a key or
                # a unique index wanting the name the server gave the old key's index) would clash
                # with it ("Duplicate key name", error 1061).
                still_needed = after is not None and (
                    any(_is_implicit_index(index, fk) for fk in before.foreign_keys if (op.table, fk) not in dropped_keys)
                    or any((i.name, i.columns, i.unique) == (index.name, index.columns, index.unique) for i in after.indexes + after.implicit_indexes)
                )
                drop = DropIndex(op.table, index)
                # Two dropped keys on the same columns share one implicit index: drop it once.
                if _is_implicit_index(index, op.foreign_key) and not still_needed and drop not in extra:
                    extra.append(drop)
        return lowered + extra

    # --- online mode -----------------------------------------------------------------------------

    def online_steps(self, operations: Sequence[Operation], current: Snapshot) -> list[tuple[Operation, str]]:
        """Each change to an existing table with the algorithm MariaDB 10.11 runs it with (measured in
        tests/test_online.py); a new table is empty and needs none. MariaDB adds a foreign key in
        place when told not to check it, then a step checks the rows (MySQL 8 copies the table).
        https://mariadb.com/kb/en/innodb-online-ddl-overview/"""
        steps: list[tuple[Operation, str]] = []
        taken: dict[tuple[str | None, str], set[str]] = {}
        for op in operations:
            table = current.table(op.table)
            if isinstance(op, AddForeignKey) and table is not None and getattr(self.sa_dialect, "is_mariadb", False):
                names = taken.setdefault(op.table, {fk.db_name or fk.name or "" for fk in table.foreign_keys})
                fk = replace(op.foreign_key, name=op.foreign_key.name or _free_fk_name(table.name, names))
                names.add(fk.name or "")
                served = _index_serves(fk, table, operations)
                steps += [(online.AddForeignKeyUnchecked(op.table, fk), INPLACE), (online.ValidateForeignKey(op.table, fk, drop_index=not served), ONLINE)]
            elif isinstance(op, (RenameTable, RenameColumn)) or table is not None:
                steps.append((op, _algorithm(op)))
            else:
                steps.append((op, TRANSACTION))
        return steps

    def mode_element(self, element: Any, mode: str) -> Any:
        if isinstance(element, (ddl.SetSession, ddl.ValidateForeignKeyRows)):
            return element
        if mode == INSTANT:
            return ddl.WithAlgorithm(element, "INSTANT")
        if mode == INPLACE:
            return ddl.WithAlgorithm(element, "INPLACE", "NONE")
        return element

    # --- SQL -------------------------------------------------------------------------------------

    def generated_change_in_place(self, before: Column, after: Column) -> bool:
        """MODIFY changes a generated column's expression, makes a column STORED generated or a STORED
        one plain; it refuses VIRTUAL <-> STORED and VIRTUAL -> plain (MariaDB 10.11: error 1907)."""
        if before.computed is not None and after.computed is not None:
            return before.persisted == after.persisted
        return after.persisted if before.computed is None else before.persisted

    def create_table_extra_elements(self, table: Table) -> list[Any]:
        """AUTO_INCREMENT on a column off the primary key: SQLAlchemy writes it on the key only, so a
        MODIFY adds it once the table's indexes (one of which it needs) exist."""
        return [self.alter_column_elements(_one_column_table(table, c), replace(c, autoincrement=False), c)[0] for c in _keyless_auto_increment(table)]

    def after_build(self, connection: sa.Connection, tables: Sequence[sa.Table]) -> None:
        """The same MODIFY in the scratch build, for each `sa.Identity()` column off the primary key."""
        for table in tables:
            for column in table.columns:
                if _is_keyless_identity(column):
                    copy = sa.Table(table.name, sa.MetaData(), sa.Column(column.name, column.type, nullable=False, primary_key=True, autoincrement=True, comment=column.comment), schema=table.schema)
                    connection.execute(ddl.ModifyColumn(copy.c[column.name]))

    def model_key_extras(self, table: sa.Table) -> list[Any]:
        """MySQL's DDL compiler leaves `sa.Identity()` off a column that is not the key: name such columns."""
        return [f"auto_increment {c.name}" for c in table.columns if _is_keyless_identity(c)]

    def alter_column_elements(self, table: sa.Table, before: Column, after: Column) -> list[Any]:
        """MODIFY restates the whole column (type, NULL, default, AUTO_INCREMENT, comment). A type change
        with a declared conversion (data_changes.py) fills a new column and swaps it in instead: MODIFY
        converts only as the server casts."""
        column = table.c[after.name]
        if after.using and before.type != after.type:
            return _converted(table, column, after.using)
        if after.autoincrement:
            table.append_constraint(sa.PrimaryKeyConstraint(column))
        return [ddl.ModifyColumn(column)]

    # --- hazards ---------------------------------------------------------------------------------

    def cost_hazards(self, op: Operation, mode: str = TRANSACTION) -> tuple[str, ...]:
        """Which ALTERs copy the table (ALGORITHM=COPY) or rebuild it, as MariaDB 10.6+ runs them.

        Adding or dropping a column, a default or a comment, and a longer VARCHAR are INSTANT; an
        index is built INPLACE with LOCK=NONE; a NULL/NOT NULL change and a new primary key rebuild the table
        INPLACE (writes go on); other type changes copy it (writes wait), and so do a new foreign key
        (while foreign_key_checks is on) and a new check. tests/test_hazards.py asks the server
        (ALGORITHM=NOCOPY / LOCK=NONE) about each of these.
        https://mariadb.com/kb/en/innodb-online-ddl-operations-with-the-instant-alter-algorithm/
        In online mode the step names its algorithm (online.py): INSTANT costs nothing, INPLACE
        never blocks writes, a key added unchecked is metadata only, COPY is both.
        """
        if mode in (INSTANT, ONLINE) or isinstance(op, online.AddForeignKeyUnchecked):
            return ()
        if mode == COPY:
            return (TABLE_REWRITE, LONG_LOCK)
        if mode == INPLACE:
            return tuple(h for h in self.cost_hazards(op) if h != LONG_LOCK)
        if isinstance(op, AlterColumn):
            retyped = op.before.type != op.after.type and not _longer_varchar(op.before.type, op.after.type)
            if retyped or (op.after.autoincrement and not op.before.autoincrement):
                return (TABLE_REWRITE, LONG_LOCK)
            if op.before.nullable != op.after.nullable:
                return (TABLE_REWRITE,)
            return ()
        if isinstance(op, AddColumn) and (op.column.autoincrement or op.column.persisted):
            return (TABLE_REWRITE, LONG_LOCK)
        if isinstance(op, ReplaceGeneratedColumn):
            return (TABLE_REWRITE, LONG_LOCK) if op.after.persisted or op.after.computed is None else ()  # STORED, or filled by UPDATE
        if isinstance(op, (AddForeignKey, AddCheck)):
            return (TABLE_REWRITE, LONG_LOCK)
        if isinstance(op, (AddPrimaryKey, DropPrimaryKey)):
            return (TABLE_REWRITE,)
        return ()

    # --- connection set-up, lock, scratch place ---------------------------------------------------

    @contextmanager
    def migration_transaction(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """A named lock per database (GET_LOCK); each DDL statement still commits on its own."""
        with self.session_lock(connection, timeout), connection.begin():
            yield

    @contextmanager
    def session_lock(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """GET_LOCK is held by the session until RELEASE_LOCK."""
        database = connection.exec_driver_sql("SELECT DATABASE()").scalar()
        lock_name = f"{LOCK_NAME}:{database}"
        got = connection.execute(sa.text("SELECT GET_LOCK(:name, :timeout)"), {"name": lock_name, "timeout": timeout}).scalar()
        connection.commit()
        if got != 1:
            raise LockError(f"another schemasync run holds the migration lock on database {database}; waited {timeout:g}s (try again later)")
        try:
            yield
        finally:
            connection.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": lock_name})
            connection.commit()

    def commit_progress(self, connection: sa.Connection) -> None:
        """Each DDL statement commits itself, and the progress written after it would only be committed
        by the next one: commit it now. (A COMMIT statement: the SQLAlchemy transaction stays open, as
        it does across the implicit commits of DDL.)"""
        connection.exec_driver_sql("COMMIT")

    def migration_lock_free(self, connection: sa.Connection) -> bool:
        """IS_FREE_LOCK: a named lock is released when the session holding it ends, killed or not.
        https://mariadb.com/kb/en/is_free_lock/"""
        database = connection.exec_driver_sql("SELECT DATABASE()").scalar()
        return connection.execute(sa.text("SELECT IS_FREE_LOCK(:name)"), {"name": f"{LOCK_NAME}:{database}"}).scalar() == 1

    def lock_holder(self, connection: sa.Connection) -> str | None:
        """IS_USED_LOCK names the connection holding GET_LOCK; the process list says for how long and what it runs."""
        database = connection.exec_driver_sql("SELECT DATABASE()").scalar()
        holder = connection.execute(sa.text("SELECT IS_USED_LOCK(:name)"), {"name": f"{LOCK_NAME}:{database}"}).scalar()
        if holder is None:
            return None
        found = connection.execute(sa.text("SELECT TIME, STATE FROM information_schema.PROCESSLIST WHERE ID = :id"), {"id": holder}).first()
        detail = f", busy {found.TIME} s{': ' + found.STATE if found.STATE else ''}" if found else ""
        return f"server session {holder}{detail}"

    def read_lock_timeout_sql(self, seconds: float) -> str | None:
        """Metadata lock waits of the catalog read, bounded as for the apply's own statements."""
        return self.lock_timeout_sql(seconds)

    def lock_timeout_sql(self, seconds: float) -> str | None:
        """lock_wait_timeout bounds metadata lock waits, in whole seconds.
        https://mariadb.com/kb/en/server-system-variables/#lock_wait_timeout"""
        return f"SET SESSION lock_wait_timeout = {max(1, math.ceil(seconds))}"

    def is_lock_timeout(self, error: sa.exc.DBAPIError) -> bool:
        return _errno(error) in _RETRYABLE

    def is_permission_denied(self, error: sa.exc.SQLAlchemyError) -> bool:
        # ER_DBACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR
        return isinstance(error, sa.exc.DBAPIError) and _errno(error) in (1044, 1142, 1227)

    scratch_privilege = f"CREATE and DROP on databases named {SCRATCH_PREFIX}* (the build makes one and drops it afterwards)"

    def explain_failure(self, error: sa.exc.DBAPIError) -> str | None:
        if _errno(error) == _SIGNALLED:
            return str(getattr(error.orig, "args", ("",))[-1])
        if _errno(error) not in _REFUSED:
            return None
        reason = str(getattr(error.orig, "args", ("", ""))[-1])
        return (f"the server cannot run this step online ({reason}); nothing of the step ran;"
                " without online mode the server chooses the algorithm itself, and may copy the table and block writes")

    def build_context(self, connection: sa.Connection) -> str:
        """Scratch databases take the target's character set, which column types then reflect."""
        return "/".join(map(str, connection.exec_driver_sql(_DATABASE_CHARSET).one()))

    @contextmanager
    def scratch(self, engine: sa.Engine, schemas: Sequence[str | None], tables: int = 0, defer: Defer | None = None,
                ) -> Iterator[tuple[sa.Connection, Mapping[str | None, str | None]]]:
        """Scratch databases with the target's character set, dropped afterwards whatever happens
        (by `defer`, while the plan is made, after a build that read back)."""
        token = secrets.token_hex(4)
        mapping = {schema: f"{SCRATCH_PREFIX}{token}_{n}" for n, schema in enumerate(sorted(schemas, key=lambda s: s or ""))}
        connection = engine.connect()
        with dropped_after(partial(_drop_scratch, engine, connection, list(mapping.values())), defer):
            charset, collation = connection.exec_driver_sql(_DATABASE_CHARSET).one()
            for scratch_database in mapping.values():
                connection.exec_driver_sql(f"CREATE DATABASE `{scratch_database}` CHARACTER SET {charset} COLLATE {collation}")
            yield connection, mapping

    def run_build_script(self, connection: sa.Connection, engine: sa.Engine, script: Sequence[BuildStatement], keys_apart: bool = False) -> None:
        """Each table made by one statement, its indexes inside its CREATE TABLE (a CREATE INDEX is
        an ALTER TABLE here, as slow as making the table), and the tables made BUILD_CONNECTIONS at
        a time, each after the tables its foreign keys name: InnoDB spends a DDL statement waiting
        on the disk, and the waits overlap."""
        run_in_waves(connection, engine, _inline_indexes(script), BUILD_CONNECTIONS)

    # --- catalog ---------------------------------------------------------------------------------

    def complete_catalog(self, connection: sa.Connection, schema: str | None, names: list[str], catalog: Catalog) -> None:
        """Table options that differ from the server's defaults: an engine other than InnoDB, a
        collation (and its charset) other than the database's, ROW_FORMAT and other CREATE options,
        partitioning; descending key parts."""
        wanted = set(names)
        _descending_parts(connection, schema, wanted, catalog)
        for table, engine, collation, charset, default_collation, created in connection.exec_driver_sql(_TABLE_OPTIONS, {"schema": schema}):
            if table not in wanted:
                continue
            options: dict[str, Any] = {}
            if engine and engine != "InnoDB":
                options["mysql_engine"] = engine
            if collation and collation != default_collation:
                options.update(mysql_charset=charset, mysql_collate=collation)
            for option in (created or "").split():
                key, _, value = option.partition("=")
                if key.lower() in _CREATE_OPTIONS and value:
                    options["mysql_" + key.lower()] = value.upper() if key.lower() == "row_format" else value
            catalog.options[table] = options
        for table, partitioning in _partitioning(connection, schema, wanted).items():
            catalog.options.setdefault(table, {})["mysql_partition_by"] = partitioning

    def refuse_unsupported(self, tables: Sequence[sa.Table]) -> None:
        """MariaDB has no functional key parts (MySQL 8.0.13 has): say so, rather than a syntax error.
        SQLAlchemy cannot write a prefix length (`mysql_length`) beside a descending part: say that too.
        https://mariadb.com/kb/en/create-index/"""
        for table in tables:
            _refuse_bad_keyless_identity(table)
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                ordered = any(isinstance(e, sa.sql.elements.UnaryExpression) for e in index.expressions)
                if ordered and index.dialect_options["mysql"]["length"] and ddl.created_on(index, self.sa_dialect):
                    raise PlanError(f"index {index.name} on {table.name}: SQLAlchemy cannot write mysql_length on an index with a descending part; use one or the other")
        if not getattr(self.sa_dialect, "is_mariadb", False):
            return
        for table in tables:
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                if ddl.created_on(index, self.sa_dialect) and not all(_is_column_part(e) for e in index.expressions):
                    raise PlanError(
                        f"index {index.name} on {table.name}: MariaDB has no expression (functional) indexes; "
                        "index a generated column instead"
                    )

    def read_catalog(self, connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog | None:
        """information_schema read once per kind of object instead of SHOW CREATE TABLE per table (MariaDB)."""
        from schemasync.dialects.mysql import catalog as catalog_mysql

        return catalog_mysql.read(connection, schema, names) if catalog_mysql.supported(connection) else None

    # --- views and what schemasync leaves alone ---------------------------------------------------

    def read_views(self, connection: sa.Connection, schema: str | None) -> list[View]:
        """information_schema.VIEWS: the server rewrites a view's SELECT, naming every table and column
        with its database (`db`.`t`.`c`); the database the view lives in is left out, so a view
        built in a scratch database reads the same as the live one."""
        database = connection.execute(sa.text("SELECT COALESCE(:schema, DATABASE())"), {"schema": schema}).scalar_one()
        rows = connection.execute(sa.text(_VIEWS), {"schema": database}).all()
        own = f"{self.sa_dialect.identifier_preparer.quote_identifier(database)}."
        return [View(name, (definition or "").replace(own, "")) for name, definition in rows]

    def other_objects(self, connection: sa.Connection, schema: str | None) -> list[str]:
        """Triggers, stored functions and procedures, events, and table privileges."""
        found = []
        for query in (_TRIGGERS, _ROUTINES, _EVENTS, _GRANTS):
            found += [row[0] for row in connection.execute(sa.text(query), {"schema": schema})]
        return found


def _partitioning(connection: sa.Connection, schema: str | None, wanted: set[str]) -> dict[str, str]:
    """Each partitioned table's PARTITION BY clause as SHOW CREATE TABLE prints it, on one line
    (`HASH (`id`) PARTITIONS 4`, `RANGE (`id`) (PARTITION `p0` VALUES LESS THAN (10) ENGINE = InnoDB, ...)`):
    all of it as `mysql_partition_by`, which SQLAlchemy writes back after PARTITION BY. The server
    prints the models' partitioning (built in the scratch database) and the live one alike.
    https://mariadb.com/kb/en/partitioning-types-overview/"""
    found = {}
    quote = connection.dialect.identifier_preparer.quote_identifier
    for (table,) in connection.exec_driver_sql(_PARTITIONED, {"schema": schema}):
        if table in wanted:
            qualified = f"{quote(schema)}.{quote(table)}" if schema else quote(table)
            created = connection.exec_driver_sql(f"SHOW CREATE TABLE {qualified}").one()[1]
            clause = _PARTITION_CLAUSE.search(created)
            if clause:
                found[table] = re.sub(r"\s*\n\s*", " ", clause.group(1).strip())
    return found


def _descending_parts(connection: sa.Connection, schema: str | None, wanted: set[str], catalog: Catalog) -> None:
    """Mark descending key parts as the Inspector does on PostgreSQL (`column_sorting`), for both readers.
    https://mariadb.com/kb/en/descending-indexes/"""
    descending: dict[tuple[str, str], list[str]] = {}
    for table, index, column in connection.exec_driver_sql(_DESCENDING_PARTS, {"schema": schema}):
        if table in wanted:
            descending.setdefault((table, index), []).append(column)
    for (table, name), columns in descending.items():
        for index in catalog.indexes.get(table) or []:
            if index["name"] == name:
                index["column_sorting"] = dict.fromkeys(columns, ("desc",))


# A key part written as text that only names a column, ascending or descending (`sa.text("at DESC")`).
_TEXT_COLUMN_PART = re.compile(r"\s*(\w+|`[^`]+`)(\s+(ASC|DESC))?\s*", re.IGNORECASE)


def _is_column_part(element: Any) -> bool:
    """A column, ascending or descending (`col.desc()`, `sa.desc("col")`, `sa.text("col DESC")`):
    not an expression, whatever SQLAlchemy class spells it."""
    if isinstance(element, sa.sql.elements.UnaryExpression) and element.modifier in (sa.sql.operators.desc_op, sa.sql.operators.asc_op):
        element = element.element
    if isinstance(element, sa.sql.elements._textual_label_reference):  # sa.desc("col"): a name
        return bool(re.fullmatch(r"\w+", element.element))
    if isinstance(element, sa.sql.elements.TextClause):
        return bool(_TEXT_COLUMN_PART.fullmatch(element.text))
    return isinstance(element, sa.sql.elements.ColumnClause) and not getattr(element, "is_literal", False)


def _refuse_keys_into_the_default_database(target: Snapshot) -> None:
    """A schema here is a database, and a foreign key from a table in a named one to a table in the
    URL's database would need that database's name in REFERENCES: the plan is made without it."""
    for table in target.tables:
        for fk in table.foreign_keys if table.schema is not None else ():
            if fk.referred_schema is None:
                raise PlanError(
                    f"foreign key {table.qualified_name}({', '.join(fk.columns)}) -> {fk.referred_table}: on MariaDB/MySQL a key from a named"
                    " schema (database) to the URL's own database is not supported; put both tables in named schemas or in the same database"
                )


def _rename_by_drop_and_add(op: Operation) -> list[Operation]:
    """MariaDB cannot rename a check or a foreign key: drop it and add it under the new name."""
    if isinstance(op, RenameConstraint) and isinstance(op.constraint, Check) and isinstance(op.old, Check):
        return [DropCheck(op.table, op.old), AddCheck(op.table, op.constraint)]
    if isinstance(op, RenameConstraint) and isinstance(op.constraint, ForeignKey) and isinstance(op.old, ForeignKey):
        return [DropForeignKey(op.table, op.old), AddForeignKey(op.table, op.constraint)]
    return [op]


def _longer_varchar(before: str, after: str) -> bool:
    b, a = parse_type(before), parse_type(after)
    return b is not None and a is not None and b[0] == a[0] == "VARCHAR" and bool(b[1]) and bool(a[1]) and a[1][0] >= b[1][0]


def _algorithm(op: Operation) -> str:
    """INSTANT: metadata only. INPLACE with LOCK=NONE: indexes, and SET or DROP NOT NULL (a rebuild
    that lets writes go on). COPY: type changes, primary keys and checks, which the server checks by
    copying the table, and foreign keys on MySQL 8 (MariaDB's go in place, see online_steps)."""
    if isinstance(op, (AddColumn,)):
        return COPY if op.column.autoincrement else INSTANT
    if isinstance(op, AlterColumn):
        if op.before.type != op.after.type or op.after.autoincrement != op.before.autoincrement:
            return COPY
        return INPLACE if op.before.nullable != op.after.nullable else INSTANT
    if isinstance(op, (CreateIndex, DropIndex)):
        return INPLACE
    if isinstance(op, (AddForeignKey, AddCheck, AddPrimaryKey, DropPrimaryKey)):
        return COPY
    if isinstance(op, (DropColumn, RenameColumn, RenameTable, SetTableComment, DropForeignKey, DropCheck)):
        return INSTANT
    return TRANSACTION


def _free_fk_name(table: str, taken: set[str]) -> str:
    """The name MariaDB would give the next unnamed key (<table>_ibfk_<n>), so it reads back as server-chosen."""
    n = 1
    while f"{table}_ibfk_{n}" in taken:
        n += 1
    return f"{table}_ibfk_{n}"


def _index_serves(fk: ForeignKey, table: Table, operations: Sequence[Operation]) -> bool:
    """Whether an index will serve the key when it is added (else adding it creates one, named after it)."""
    dropped = {op.index.name for op in operations if isinstance(op, DropIndex) and op.table == table.key}
    created = [op.index.columns for op in operations if isinstance(op, CreateIndex) and op.table == table.key]
    kept = [i.columns for i in table.indexes + table.implicit_indexes if i.name not in dropped]
    primary = [table.primary_key.columns] if table.primary_key else []
    return any(_serves(columns, fk) for columns in kept + created + primary)


def _errno(error: sa.exc.DBAPIError) -> int | None:
    args = getattr(error.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _rebind_foreign_keys_around_index_drops(operations: list[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
    """Drop and re-add a kept foreign key whose only index is being dropped.

    The server refuses to drop the last index a foreign key can use (error 1553, "needed in a
    foreign key constraint"); re-adding the key afterwards gives it an implicit index, as the
    models built from scratch have.
    https://dev.mysql.com/doc/refman/8.0/en/create-table-foreign-keys.html
    """
    dropping = {(op.table, op.index.name) for op in operations if isinstance(op, DropIndex)}
    rebound = {(op.table, op.foreign_key.key) for op in operations if isinstance(op, DropForeignKey)}
    extra: list[Operation] = []
    for op in operations:
        table = current.table(op.table)
        if not isinstance(op, DropIndex) or table is None or target.table(op.table) is None:
            continue
        remaining = [i.columns for i in table.indexes + table.implicit_indexes if (op.table, i.name) not in dropping]
        remaining += [table.primary_key.columns] if table.primary_key else []
        for fk in table.foreign_keys:
            needs_it = _serves(op.index.columns, fk) and not any(_serves(columns, fk) for columns in remaining)
            if needs_it and (op.table, fk.key) not in rebound:
                rebound.add((op.table, fk.key))
                extra += [DropForeignKey(op.table, fk), AddForeignKey(op.table, fk)]
    return operations + extra


def _serves(columns: tuple[str, ...], fk: ForeignKey) -> bool:
    """An index can enforce a foreign key when the key's columns lead it, in order."""
    return columns[: len(fk.columns)] == fk.columns


def _is_implicit_index(index: Index, fk: ForeignKey) -> bool:
    """The index MySQL adds for a foreign key: named after the constraint, or after its first column."""
    if index.unique or index.columns != fk.columns:
        return False
    names = {fk.db_name, fk.name, fk.columns[0]}
    return index.name in names or re.fullmatch(rf"{re.escape(fk.columns[0])}_\d+", index.name) is not None


# --- AUTO_INCREMENT on a column that is not the primary key -----------------------------------------
# Declared as `sa.Identity()` on a non-key column (SQLAlchemy's MySQL DDL ignores it); the server
# wants it NOT NULL, first in some index, and the table's only AUTO_INCREMENT column.
# https://mariadb.com/kb/en/auto_increment/


def _is_keyless_identity(column: sa.Column) -> bool:
    return column.identity is not None and not column.primary_key


def _refuse_bad_keyless_identity(table: sa.Table) -> None:
    columns = [c for c in table.columns if _is_keyless_identity(c)]
    if not columns:
        return
    column = columns[0]
    where = f"column {table.name}.{column.name}"
    if len(columns) > 1 or table.autoincrement_column is not None:
        other = columns[1].name if len(columns) > 1 or table.autoincrement_column is None else table.autoincrement_column.name
        raise PlanError(f"{where}: sa.Identity() makes it AUTO_INCREMENT, and {table.name}.{other} is one too; MariaDB/MySQL allow one per table (set autoincrement=False on the key)")
    if column.nullable:
        raise PlanError(f"{where}: an AUTO_INCREMENT (sa.Identity()) column must be NOT NULL (nullable=False)")
    first = [next(iter(i.columns)) for i in table.indexes if i.columns] + [next(iter(u.columns)) for u in table.constraints if isinstance(u, sa.UniqueConstraint) and u.columns]
    if column not in first:
        raise PlanError(f"{where}: an AUTO_INCREMENT (sa.Identity()) column must be indexed (unique=True, index=True, or first in an index)")


def _keyless_auto_increment(table: Table) -> list[Column]:
    key = table.primary_key.columns if table.primary_key else ()
    return [c for c in table.columns if c.autoincrement and c.name not in key]


def _one_column_table(table: Table, column: Column) -> sa.Table:
    from schemasync.render import sa_table

    return sa_table(Table(table.name, (column,), schema=table.schema))


def _auto_increment_around_keys(operations: Sequence[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
    """The server's rule holds after every statement: one AUTO_INCREMENT column per table, first in
    some index (else error 1075, with the statements before it committed).

    AUTO_INCREMENT comes off in a step of its own before keys and indexes are dropped
    (DropAutoIncrement) and goes on after they are made (SetAutoIncrement); a column that keeps it
    while every index it leads is dropped has it taken off and put back around them. A new column
    is added NULL without it and numbered by the MODIFY that puts it on, which also adds the primary
    key when that key is new (a key cannot be added over NULLs, nor the column numbered without one).
    """
    stranded = _stranded_auto_increment(operations, current)
    new_keys = {op.table: op for op in operations if isinstance(op, AddPrimaryKey)}
    merged: set[tuple[str | None, str]] = set()
    handled: set[tuple[tuple[str | None, str], str]] = set()
    result: list[Operation] = []
    for op in operations:
        if isinstance(op, AddColumn) and op.column.autoincrement:
            added = replace(op.column, autoincrement=False, nullable=True)
            key = new_keys.get(op.table)
            with_key = key.primary_key if key is not None and op.column.name in key.primary_key.columns else None
            if with_key is not None:
                merged.add(op.table)
            result += [AddColumn(op.table, added), SetAutoIncrement(op.table, added, op.column, with_primary_key=with_key)]
        elif isinstance(op, AlterColumn) and (op.before.autoincrement != op.after.autoincrement or (op.table, op.before.name) in stranded):
            handled.add((op.table, op.before.name))
            result += _auto_increment_off_and_on(op.table, op.before, op.after)
        elif isinstance(op, DropColumn) and (op.table, op.column.name) in stranded:
            handled.add((op.table, op.column.name))
            result += [DropAutoIncrement(op.table, op.column, replace(op.column, autoincrement=False)), op]
        else:
            result.append(op)
    result = [op for op in result if not (isinstance(op, AddPrimaryKey) and op.table in merged)]
    for table_key, name in sorted(stranded - handled, key=lambda item: (item[0][0] or "", item[0][1], item[1])):
        wanted = target.table(table_key)
        kept = wanted.columns_by_name.get(name) if wanted else None
        if kept is not None:
            result += _auto_increment_off_and_on(table_key, current.tables_by_key[table_key].columns_by_name[name], kept)
    return result


def _auto_increment_off_and_on(table: tuple[str | None, str], before: Column, after: Column) -> list[Operation]:
    """A column change as AUTO_INCREMENT off first, the rest of the change, AUTO_INCREMENT on last (each only when needed)."""
    steps: list[Operation] = []
    middle_before, middle_after = replace(before, autoincrement=False), replace(after, autoincrement=False)
    if before.autoincrement:
        steps.append(DropAutoIncrement(table, before, middle_before))
    if middle_before != middle_after:
        steps.append(AlterColumn(table, middle_before, middle_after))
    if after.autoincrement:
        steps.append(SetAutoIncrement(table, middle_after, after))
    return steps


def _stranded_auto_increment(operations: Sequence[Operation], current: Snapshot) -> set[tuple[tuple[str | None, str], str]]:
    """AUTO_INCREMENT columns every one of whose leading indexes (the primary key included) the plan drops."""
    # "PRIMARY": the name the server gives the primary key's index, which no other index may take.
    dropped = {(op.table, "PRIMARY") for op in operations if isinstance(op, DropPrimaryKey)}
    dropped |= {(op.table, op.index.name) for op in operations if isinstance(op, DropIndex)}
    found: set[tuple[tuple[str | None, str], str]] = set()
    for key in {table_key for table_key, _ in dropped}:
        table = current.table(key)
        if table is None:
            continue
        for column in [c for c in table.columns if c.autoincrement]:
            leads = {"PRIMARY"} if table.primary_key and table.primary_key.columns[:1] == (column.name,) else set()
            leads |= {i.name for i in table.indexes + table.implicit_indexes if i.columns[:1] == (column.name,)}
            if leads and all((key, name) in dropped for name in leads):
                found.add((key, column.name))
    return found


def _converted(table: sa.Table, column: sa.Column[Any], using: str) -> list[Any]:
    """Add the new type's column beside the old one, fill it with the expression, drop the old one and
    give the new one its name and definition."""
    name = ("_schemasync_new_" + column.name)[:64]
    holder = sa.Table(table.name, sa.MetaData(), sa.Column(name, column.type, nullable=True), schema=table.schema)
    return [
        ddl.AddConvertedColumn(holder.c[name], column.name),
        sa.update(holder).values({holder.c[name]: sa.literal_column(f"({using})")}),
        ddl.SwapConvertedColumn(column, name),
    ]


# --- the scratch build (run_build_script) -------------------------------------------------------------

_CREATE_INDEX = re.compile(
    r"\s*CREATE (?P<kind>(?:UNIQUE |FULLTEXT |SPATIAL )?)INDEX (?P<name>`(?:[^`]|``)*`|\w+) ON (?:`(?:[^`]|``)*`|\w+)(?:\.(?:`(?:[^`]|``)*`|\w+))? (?P<rest>\(.*?)\s*$",
    re.DOTALL,
)


def _inline_indexes(script: Sequence[BuildStatement]) -> list[BuildStatement]:
    """The script with each table's CREATE INDEX statements moved into its CREATE TABLE (as
    `INDEX name (parts)` lines, which MariaDB reads back the same); a statement that does not fit
    that shape stays a statement of its own."""
    steps: list[BuildStatement] = []
    creates: dict[sa.Table, int] = {}
    for statement in script:
        if statement.index is not None and statement.table in creates:
            at = creates[statement.table]
            merged = _with_index(steps[at].sql, statement.sql)
            if merged is not None:
                steps[at] = replace(steps[at], sql=merged)
                continue
        if statement.table is not None and statement.index is None and statement.table not in creates and statement.sql.lstrip().startswith("CREATE TABLE"):
            creates[statement.table] = len(steps)
        steps.append(statement)
    return steps


def _with_index(create_table: str, create_index: str) -> str | None:
    match = _CREATE_INDEX.fullmatch(create_index)
    if match is None or create_table.count("\n)") != 1:
        return None
    end = create_table.rindex("\n)")
    return f"{create_table[:end]}, \n\t{match['kind']}INDEX {match['name']} {match['rest']}{create_table[end:]}"


def _drop_scratch(engine: sa.Engine, connection: sa.Connection, databases: list[str]) -> None:
    """Drop the scratch databases, emptied first (_drop_tables), and close the connection."""
    try:
        connection.rollback()
        _drop_tables(engine, connection, databases)
        # Foreign keys between the scratch databases (models in two schemas) would refuse the first DROP.
        connection.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        for scratch_database in databases:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{scratch_database}`")
        connection.exec_driver_sql("SET SESSION foreign_key_checks = 1")
        connection.commit()
    finally:
        connection.close()


def _drop_tables(engine: sa.Engine, connection: sa.Connection, databases: list[str]) -> None:
    """Empty the scratch databases BUILD_CONNECTIONS tables at a time (a DROP DATABASE drops them one
    by one, each waiting on the disk: a third of a 1,000-table build). Best effort: DROP DATABASE
    after it removes whatever is left."""
    try:
        names = [f"`{database}`.`{name.replace('`', '``').replace('%', '%%')}`" for database, name in connection.exec_driver_sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA IN %(databases)s", {"databases": tuple(databases)})]
        connection.rollback()
        if len(names) < 2 * BUILD_CONNECTIONS:
            return
        lanes = [names[n :: BUILD_CONNECTIONS] for n in range(BUILD_CONNECTIONS)]
        with ThreadPoolExecutor(max_workers=BUILD_CONNECTIONS) as pool:
            for future in [pool.submit(_drop_lane, engine, lane) for lane in lanes]:
                future.result()
    except sa.exc.SQLAlchemyError:
        pass


def _drop_lane(engine: sa.Engine, names: list[str]) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        for name in names:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
