"""PostgreSQL: transactional DDL, so the models are built in a scratch schema and rolled back."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar

import sqlalchemy as sa

from schemasync import online
from schemasync.catalog import Catalog
from schemasync.dialects import LOCK_NAME, Dialect, register, wait_for_lock
from schemasync.hazards import LONG_LOCK, TABLE_REWRITE
from schemasync.online import ONLINE, TRANSACTION
from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    AlterColumn,
    CreateIndex,
    DropCheck,
    DropIndex,
    Operation,
    parse_type,
)
from schemasync.snapshot import Column, Snapshot, Table, View

SCRATCH_PREFIX = "schemasync_scratch_"
# SQLSTATEs worth another try: lock_not_available (lock_timeout), deadlock_detected.
# https://www.postgresql.org/docs/current/errcodes-appendix.html
_RETRYABLE = {"55P03", "40P01"}
_LEFTOVERS = """
SELECT 'index', n.nspname, c.relname, '' FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT i.indisvalid
UNION ALL
SELECT 'constraint', n.nspname, t.relname, k.conname FROM pg_constraint k
  JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE NOT k.convalidated
"""

# Above this many tables the scratch build commits as it goes (see PostgreSQLDialect.scratch).
SCRATCH_TRANSACTION_TABLES = 1000
# Views, and what schemasync leaves alone, in one schema (the connection's own when :schema is NULL).
_NAMESPACE = "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = COALESCE(CAST(:schema AS text), current_schema()))"
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
_VIEWS = f"""
SELECT c.relname, pg_catalog.pg_get_viewdef(c.oid, true), c.relkind = 'm'
FROM pg_catalog.pg_class c
WHERE c.relnamespace = {_NAMESPACE} AND c.relkind IN ('v', 'm') AND {_NOT_EXTENSION.format(oid="c.oid")}
ORDER BY c.relname
"""
_TRIGGERS = f"""
SELECT 'trigger ' || t.tgname || ' on ' || c.relname FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND c.relnamespace = {_NAMESPACE} ORDER BY 1
"""
_ROUTINES = f"""
SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' WHEN 'w' THEN 'window function ' ELSE 'function ' END
       || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'
FROM pg_catalog.pg_proc p WHERE p.pronamespace = {_NAMESPACE} AND {_NOT_EXTENSION.format(oid="p.oid")} ORDER BY 1
"""
_POLICIES = f"""
SELECT 'policy ' || p.polname || ' on ' || c.relname FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = {_NAMESPACE} ORDER BY 1
"""
_GRANTS = """
SELECT 'grant ' || string_agg(privilege_type, ', ' ORDER BY privilege_type) || ' on ' || table_name || ' to ' || grantee
FROM information_schema.role_table_grants
WHERE table_schema = COALESCE(CAST(:schema AS text), current_schema()) AND grantee <> grantor
GROUP BY table_name, grantee ORDER BY 1
"""
DROP_BATCH = 200


@register
class PostgreSQLDialect(Dialect):
    # --- facts -----------------------------------------------------------------------------------
    name: ClassVar[str] = "postgresql"
    materialized_views: ClassVar[bool] = True
    transactional_ddl: ClassVar[bool] = True
    has_comments: ClassVar[bool] = True
    fk_needs_existing_target: ClassVar[bool] = True
    # ALTER ... TYPE varchar(n) USING col::varchar(n) cuts longer text; numbers out of range fail.
    narrowing_fails_on: ClassVar[frozenset[str]] = frozenset({"range"})
    online_ddl: ClassVar[bool] = True
    online_note: ClassVar[str] = (
        "online mode: steps marked [online] run one at a time outside the plan's transaction and let reads and writes go on"
        " (CONCURRENTLY, VALIDATE); the others run in short transactions that give up after lock_timeout and try again;"
        " a failure leaves the steps before it applied (schema_state says how many)"
    )
    # https://www.postgresql.org/docs/current/ddl-constraints.html: <table>_<columns>_<suffix>[N].
    # The table part is not pinned: a renamed table keeps the names made under its old name.
    generated_names: ClassVar[dict[str, str]] = {
        "primary_key": r".+_pkey\d*",
        "foreign_key": r".+_fkey\d*",
        "unique": r".+_key\d*",
        "check": r".+_check\d*",
    }

    # --- normalise -------------------------------------------------------------------------------

    def normalize_column(self, column: Column) -> Column:
        """A SERIAL column's nextval() default is how autoincrement is spelled, not a user default."""
        if column.autoincrement and (column.default or "").startswith("nextval("):
            return replace(column, default=None)
        return column

    # --- online mode -----------------------------------------------------------------------------

    def online_steps(self, operations: Sequence[Operation], current: Snapshot) -> list[tuple[Operation, str]]:
        """Changes to tables that exist (and may be busy) take their online forms; new tables are empty.

        Indexes are built and dropped CONCURRENTLY; foreign keys and checks are added NOT VALID, then
        validated; SET NOT NULL comes after a validated CHECK (col IS NOT NULL), so the scan happens
        under SHARE UPDATE EXCLUSIVE. https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
        """
        steps: list[tuple[Operation, str]] = []
        for op in operations:
            table = current.table(op.table)
            for step in self._online_forms(op, table) if table is not None else [op]:
                steps.append((step, ONLINE if online.is_online(step) else TRANSACTION))
        return steps

    def _online_forms(self, op: Operation, table: Table) -> list[Operation]:
        limit = self.max_name_length
        if isinstance(op, CreateIndex):
            return [online.CreateIndexConcurrently(op.table, op.index)]
        if isinstance(op, DropIndex):
            return [online.DropIndexConcurrently(op.table, op.index)]
        if isinstance(op, AddForeignKey):
            fk = op.foreign_key
            named = replace(fk, name=online.constraint_name(fk.name or fk.db_name, table.name, fk.columns, "fkey", limit))
            return [online.AddForeignKeyNotValid(op.table, named), online.ValidateConstraint(op.table, named.name, "foreign key")]
        if isinstance(op, AddCheck):
            check = op.check
            named = replace(check, name=online.constraint_name(check.name or check.db_name, table.name, (), "check", limit))
            return [online.AddCheckNotValid(op.table, named), online.ValidateConstraint(op.table, named.name, "check")]
        if isinstance(op, AddUnique):
            index = online.unique_index(op.unique, table.name, limit)
            return [online.CreateIndexConcurrently(op.table, index), online.AddUniqueUsingIndex(op.table, replace(op.unique, name=index.name))]
        if isinstance(op, AlterColumn) and op.before.nullable and not op.after.nullable and op.before.type == op.after.type:
            check = online.not_null_check(op, table.checks, limit)
            return [
                online.AddCheckNotValid(op.table, check),
                online.ValidateConstraint(op.table, check.name, "check"),
                online.SetNotNullChecked(op.table, op.before, op.after),
                DropCheck(op.table, check),
            ]
        return [op]

    # --- SQL -------------------------------------------------------------------------------------

    def add_column_elements(self, table: sa.Table, column: Column) -> list[Any]:
        """A new autoincrement column outside CREATE TABLE cannot be SERIAL (that needs the key in
        the same statement): make it an identity, which reflects alike, past any existing keys."""
        from schemasync import ddl

        if not column.autoincrement:
            return []
        return [ddl.SetAutoincrement(table.c[column.name], True), *self.after_restore_rows(table, [column.name])]

    def alter_column_elements(self, table: sa.Table, before: Column, after: Column) -> list[Any]:
        """Autoincrement is a sequence here: an identity column when it starts, past the existing keys.

        An identity column and a SERIAL one reflect alike (no default, autoincrement), so either
        converges to models that say SERIAL. https://www.postgresql.org/docs/current/ddl-identity-columns.html
        """
        from schemasync import ddl

        elements = super().alter_column_elements(table, before, after)
        if before.autoincrement != after.autoincrement:
            elements.append(ddl.SetAutoincrement(table.c[after.name], after.autoincrement))
            elements += self.after_restore_rows(table, [after.name]) if after.autoincrement else []
        return elements

    def after_restore_rows(self, table: sa.Table, autoincrement: Sequence[str]) -> list[Any]:
        """A SERIAL/IDENTITY sequence does not see explicit keys: move it past the restored rows.

        https://www.postgresql.org/docs/current/functions-sequence.html
        """
        def text_literal(value: str) -> Any:
            return sa.literal_column("'" + value.replace("'", "''") + "'")

        name = text_literal(self.sa_dialect.identifier_preparer.format_table(table))
        return [
            sa.select(
                sa.func.setval(
                    sa.func.pg_get_serial_sequence(name, text_literal(column)),
                    sa.func.coalesce(sa.func.max(table.c[column]), sa.literal_column("1")),
                    sa.func.max(table.c[column]).is_not(None),
                )
            ).select_from(table)
            for column in autoincrement
        ]

    # --- hazards ---------------------------------------------------------------------------------

    def cost_hazards(self, op: Operation, mode: str = TRANSACTION) -> tuple[str, ...]:
        """What PostgreSQL rewrites, and what blocks writes while it scans or builds.

        https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES (rewrites,
        SET NOT NULL's scan, lock levels); CREATE INDEX without CONCURRENTLY holds a SHARE lock.
        The online forms (online.py) are there to avoid exactly this: they carry none.
        """
        if mode == ONLINE or isinstance(op, (online.AddForeignKeyNotValid, online.AddCheckNotValid, online.AddUniqueUsingIndex, online.SetNotNullChecked)):
            return ()
        if isinstance(op, AlterColumn):
            found: tuple[str, ...] = ()
            if op.before.type != op.after.type and not _binary_coercible(op.before.type, op.after.type):
                found += (TABLE_REWRITE, LONG_LOCK)
            elif op.before.nullable and not op.after.nullable:
                found += (LONG_LOCK,)
            if op.after.autoincrement and not op.before.autoincrement:
                found += (LONG_LOCK,)
            return found
        if isinstance(op, AddColumn) and op.column.autoincrement:
            return (TABLE_REWRITE, LONG_LOCK)  # an identity column fills every existing row
        if isinstance(op, (AddForeignKey, AddCheck, AddPrimaryKey, AddUnique, CreateIndex)):
            return (LONG_LOCK,)
        return ()

    # --- connection set-up, lock, scratch place ---------------------------------------------------

    def default_schema_options(self, schema: str) -> dict[str, Any]:
        """search_path set at connection start-up (libpq `options`), before SQLAlchemy's first query,
        so the tenant's tables and its own schema_state live in its schema.
        https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-OPTIONS"""
        quoted = '"' + schema.replace('"', '""') + '"'
        return {"connect_args": {"options": "-c search_path=" + quoted.replace("\\", "\\\\").replace(" ", "\\ ")}}

    @contextmanager
    def migration_transaction(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """One transaction for the whole apply, holding a transaction-scoped advisory lock."""
        with connection.begin():
            # Per default schema: tenants of one database (schema-per-tenant targets) apply side by side.
            query = sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:name || ':' || current_schema()))").bindparams(name=LOCK_NAME)
            database = connection.engine.url.database
            wait_for_lock(lambda: bool(connection.execute(query).scalar()), timeout, f"database {database}")
            yield

    def migration_lock_free(self, connection: sa.Connection) -> bool:
        """Take the migration lock's key as a session lock and give it back at once: it is free when
        that works. https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS"""
        key = "hashtext(:name || ':' || current_schema())"  # as migration_transaction takes it
        got = connection.execute(sa.text(f"SELECT pg_try_advisory_lock({key})").bindparams(name=LOCK_NAME)).scalar()
        if got:
            connection.execute(sa.text(f"SELECT pg_advisory_unlock({key})").bindparams(name=LOCK_NAME))
        return bool(got)

    @contextmanager
    def session_lock(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """The same advisory lock as `migration_transaction`, held by the session (they exclude each other)."""
        key = "hashtext(:name || ':' || current_schema())"
        database = connection.engine.url.database
        take = sa.text(f"SELECT pg_try_advisory_lock({key})").bindparams(name=LOCK_NAME)
        wait_for_lock(lambda: bool(connection.execute(take).scalar()), timeout, f"database {database}")
        connection.commit()
        try:
            yield
        finally:
            try:
                if connection.in_transaction():
                    connection.rollback()
                connection.execute(sa.text(f"SELECT pg_advisory_unlock({key})").bindparams(name=LOCK_NAME))
                connection.commit()
            except sa.exc.DBAPIError:
                pass  # the connection is gone, and its session lock with it

    def lock_timeout_sql(self, seconds: float) -> str | None:
        """SET LOCAL: for this step's transaction only; online steps (weak locks) wait as long as they must."""
        return f"SET LOCAL lock_timeout = '{max(1, round(seconds * 1000))}ms'"

    def is_lock_timeout(self, error: sa.exc.DBAPIError) -> bool:
        return getattr(error.orig, "sqlstate", None) in _RETRYABLE

    def explain_failure(self, error: sa.exc.DBAPIError) -> str | None:
        """The server's message with its DETAIL (which rows: "Key (email)=(x) is duplicated.")."""
        diag = getattr(error.orig, "diag", None)
        primary, detail = getattr(diag, "message_primary", None), getattr(diag, "message_detail", None)
        return f"{primary} ({detail})" if primary and detail else None

    def online_leftovers(self, connection: sa.Connection) -> frozenset[tuple[str, ...]]:
        """INVALID indexes and NOT VALID constraints, as (kind, schema, table or index, constraint)."""
        return frozenset(tuple(row) for row in connection.exec_driver_sql(_LEFTOVERS))

    def drop_leftover(self, connection: sa.Connection, leftover: tuple[str, ...]) -> str:
        kind, schema, relation, constraint = leftover
        quote = self.sa_dialect.identifier_preparer.quote_identifier
        if kind == "index":
            connection.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(schema)}.{quote(relation)}")
            return f"the INVALID index {relation} it left was dropped"
        connection.exec_driver_sql(f"ALTER TABLE {quote(schema)}.{quote(relation)} DROP CONSTRAINT IF EXISTS {quote(constraint)}")
        return f"the NOT VALID constraint {constraint} on {relation} was dropped"

    @contextmanager
    def scratch(self, engine: sa.Engine, schemas: Sequence[str | None], tables: int = 0) -> Iterator[tuple[sa.Connection, dict[str | None, str | None]]]:
        """Fresh schemas inside a transaction that is always rolled back: nothing is left behind.

        A transaction holds a lock on every relation it creates (about 15 per table with its
        sequence, indexes and TOAST table), and the server's lock table (max_locks_per_transaction
        x max_connections: 6,400 by default) fills at a few thousand tables. Past
        SCRATCH_TRANSACTION_TABLES the schemas are built statement by statement instead, and
        dropped a batch of tables at a time afterwards, whatever happens.
        https://www.postgresql.org/docs/current/runtime-config-locks.html
        """
        token = secrets.token_hex(4)
        mapping = {schema: f"{SCRATCH_PREFIX}{token}_{n}" for n, schema in enumerate(sorted(schemas, key=lambda s: s or ""))}
        default = mapping.get(None, "public")
        with engine.connect() as connection:
            if tables > SCRATCH_TRANSACTION_TABLES:
                with _committed_scratch(connection.execution_options(isolation_level="AUTOCOMMIT"), mapping, default) as built:
                    yield built, mapping
                return
            transaction = connection.begin()
            try:
                for scratch_schema in mapping.values():
                    connection.exec_driver_sql(f'CREATE SCHEMA "{scratch_schema}"')
                connection.exec_driver_sql(f'SET LOCAL search_path TO "{default}"')
                yield connection, mapping
            finally:
                transaction.rollback()

    # --- catalog ---------------------------------------------------------------------------------

    def read_catalog(self, connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog | None:
        """Six plain pg_catalog queries, rows as tuples, each distinct type parsed once."""
        from schemasync import catalog_postgresql

        return catalog_postgresql.read(connection, schema, names) if catalog_postgresql.supported(connection) else None

    # --- views and what schemasync leaves alone ---------------------------------------------------

    def read_views(self, connection: sa.Connection, schema: str | None) -> list[View]:
        """Views and materialized views as pg_get_viewdef prints them (the server's own normal form),
        leaving out those an extension owns."""
        rows = connection.execute(sa.text(_VIEWS), {"schema": schema}).all()
        return [View(name, definition or "", materialized=bool(materialized)) for name, definition, materialized in rows]

    def other_objects(self, connection: sa.Connection, schema: str | None) -> list[str]:
        """Triggers, functions and procedures, row security policies, and table privileges granted to other roles."""
        found = []
        for query in (_TRIGGERS, _ROUTINES, _POLICIES, _GRANTS):
            found += [row[0] for row in connection.execute(sa.text(query), {"schema": schema})]
        return found


_VARYING = {"VARCHAR", "CHARACTER VARYING", "TEXT"}


def _binary_coercible(before: str, after: str) -> bool:
    """Type changes PostgreSQL makes without rewriting the table: a longer (or unbounded) varchar,
    varchar to text, a numeric with more precision and the same scale."""
    b, a = parse_type(before), parse_type(after)
    if b is None or a is None:
        return False
    (b_base, b_args), (a_base, a_args) = b, a
    if b_base in _VARYING and a_base in _VARYING:
        if a_base == "TEXT" or not a_args:
            return True
        return b_base != "TEXT" and bool(b_args) and a_args[0] >= b_args[0]
    if b_base == a_base == "NUMERIC" and len(b_args) == len(a_args) == 2:
        return a_args[1] == b_args[1] and a_args[0] >= b_args[0]
    return False


@contextmanager
def _committed_scratch(connection: sa.Connection, mapping: dict[str | None, str], default: str) -> Iterator[sa.Connection]:
    """Scratch schemas built in autocommit mode, emptied in batches and dropped afterwards."""
    try:
        for scratch_schema in mapping.values():
            connection.exec_driver_sql(f'CREATE SCHEMA "{scratch_schema}"')
        connection.exec_driver_sql(f'SET search_path TO "{default}"')
        yield connection
    finally:
        connection.exec_driver_sql("RESET search_path")  # the connection goes back to the pool
        for scratch_schema in mapping.values():
            names = connection.exec_driver_sql(
                "SELECT relname FROM pg_catalog.pg_class WHERE relnamespace = %(schema)s::regnamespace AND relkind IN ('r', 'p')",
                {"schema": f'"{scratch_schema}"'},
            ).scalars().all()
            quote = connection.dialect.identifier_preparer.quote_identifier
            for start in range(0, len(names), DROP_BATCH):
                quoted = ", ".join(f'"{scratch_schema}".{quote(name)}' for name in names[start : start + DROP_BATCH])
                connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quoted} CASCADE")
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{scratch_schema}" CASCADE')

