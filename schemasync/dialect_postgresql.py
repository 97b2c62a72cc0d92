"""PostgreSQL: transactional DDL, so the models are built in a scratch schema and rolled back."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar

import sqlalchemy as sa

from schemasync.catalog import Catalog
from schemasync.dialects import LOCK_NAME, Dialect, register, wait_for_lock
from schemasync.snapshot import Column

SCRATCH_PREFIX = "schemasync_scratch_"
# Above this many tables the scratch build commits as it goes (see PostgreSQLDialect.scratch).
SCRATCH_TRANSACTION_TABLES = 1000
DROP_BATCH = 200


@register
class PostgreSQLDialect(Dialect):
    # --- facts -----------------------------------------------------------------------------------
    name: ClassVar[str] = "postgresql"
    transactional_ddl: ClassVar[bool] = True
    has_comments: ClassVar[bool] = True
    fk_needs_existing_target: ClassVar[bool] = True
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

