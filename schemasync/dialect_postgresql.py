"""PostgreSQL: transactional DDL, so the models are built in a scratch schema and rolled back."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import ClassVar

import sqlalchemy as sa

from schemasync.dialects import LOCK_NAME, Dialect, register, wait_for_lock
from schemasync.snapshot import Column

SCRATCH_PREFIX = "schemasync_scratch_"


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

    # --- connection set-up, lock, scratch place ---------------------------------------------------

    @contextmanager
    def migration_transaction(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """One transaction for the whole apply, holding a transaction-scoped advisory lock."""
        with connection.begin():
            query = sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:name))").bindparams(name=LOCK_NAME)
            database = connection.engine.url.database
            wait_for_lock(lambda: bool(connection.execute(query).scalar()), timeout, f"database {database}")
            yield

    @contextmanager
    def scratch(self, engine: sa.Engine, schemas: Sequence[str | None]) -> Iterator[tuple[sa.Connection, dict[str | None, str | None]]]:
        """Fresh schemas inside a transaction that is always rolled back: nothing is left behind."""
        token = secrets.token_hex(4)
        mapping = {schema: f"{SCRATCH_PREFIX}{token}_{n}" for n, schema in enumerate(sorted(schemas, key=lambda s: s or ""))}
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                for scratch_schema in mapping.values():
                    connection.exec_driver_sql(f'CREATE SCHEMA "{scratch_schema}"')
                connection.exec_driver_sql(f'SET LOCAL search_path TO "{mapping.get(None, "public")}"')
                yield connection, mapping
            finally:
                transaction.rollback()
