"""MySQL 8 and MariaDB 10.5+: DDL commits itself, unique constraints are indexes, and every
foreign key gets an index of its own when none is declared."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar

import sqlalchemy as sa

from schemasync import ddl
from schemasync.catalog import Catalog
from schemasync.dialects import LOCK_NAME, Dialect, register
from schemasync.errors import LockError
from schemasync.operations import AddForeignKey, DropForeignKey, DropIndex, Operation
from schemasync.snapshot import Column, ForeignKey, Index, Snapshot, Table

SCRATCH_PREFIX = "schemasync_scratch_"
_DATABASE_CHARSET = "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()"


@register
class MySQLDialect(Dialect):
    # --- facts -----------------------------------------------------------------------------------
    name: ClassVar[str] = "mysql"
    transactional_ddl: ClassVar[bool] = False
    has_comments: ClassVar[bool] = True
    fk_needs_existing_target: ClassVar[bool] = True
    # https://mariadb.com/kb/en/identifier-names/#maximum-length
    max_name_length: ClassVar[int] = 64
    generated_names: ClassVar[dict[str, str]] = {
        # Not pinned to the current table name: a renamed table may keep the old prefix.
        "foreign_key": r".+_ibfk_\d+",
        # MariaDB names unnamed checks CONSTRAINT_<n>; MySQL 8 <table>_chk_<n>.
        "check": r"(CONSTRAINT_\d+|.+_chk_\d+)",
    }

    # --- normalise -------------------------------------------------------------------------------

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
        lowered = _rebind_foreign_keys_around_index_drops(super().lower(operations, current, target), current, target)
        extra: list[Operation] = []
        for op in lowered:
            if not isinstance(op, DropForeignKey):
                continue
            before, after = current.table(op.table), target.table(op.table)
            for index in before.implicit_indexes if before else ():
                still_needed = after is not None and (
                    any(_is_implicit_index(index, fk) for fk in after.foreign_keys)
                    or any(i.name == index.name for i in after.indexes + after.implicit_indexes)
                )
                drop = DropIndex(op.table, index)
                # Two dropped keys on the same columns share one implicit index: drop it once.
                if _is_implicit_index(index, op.foreign_key) and not still_needed and drop not in extra:
                    extra.append(drop)
        return lowered + extra

    # --- SQL -------------------------------------------------------------------------------------

    def alter_column_elements(self, table: sa.Table, before: Column, after: Column) -> list[Any]:
        """MODIFY restates the whole column (type, NULL, default, AUTO_INCREMENT, comment)."""
        column = table.c[after.name]
        if after.autoincrement:
            table.append_constraint(sa.PrimaryKeyConstraint(column))
        return [ddl.ModifyColumn(column)]

    # --- connection set-up, lock, scratch place ---------------------------------------------------

    @contextmanager
    def migration_transaction(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """A named lock per database (GET_LOCK); each DDL statement still commits on its own."""
        database = connection.exec_driver_sql("SELECT DATABASE()").scalar()
        lock_name = f"{LOCK_NAME}:{database}"
        got = connection.execute(sa.text("SELECT GET_LOCK(:name, :timeout)"), {"name": lock_name, "timeout": timeout}).scalar()
        connection.commit()
        if got != 1:
            raise LockError(f"another schemasync run holds the migration lock on database {database}; waited {timeout:g}s (try again later)")
        try:
            with connection.begin():
                yield
        finally:
            connection.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": lock_name})
            connection.commit()

    def build_context(self, connection: sa.Connection) -> str:
        """Scratch databases take the target's character set, which column types then reflect."""
        return "/".join(map(str, connection.exec_driver_sql(_DATABASE_CHARSET).one()))

    @contextmanager
    def scratch(self, engine: sa.Engine, schemas: Sequence[str | None], tables: int = 0) -> Iterator[tuple[sa.Connection, dict[str | None, str | None]]]:
        """Scratch databases with the target's character set, dropped afterwards whatever happens."""
        token = secrets.token_hex(4)
        mapping = {schema: f"{SCRATCH_PREFIX}{token}_{n}" for n, schema in enumerate(sorted(schemas, key=lambda s: s or ""))}
        with engine.connect() as connection:
            charset, collation = connection.exec_driver_sql(_DATABASE_CHARSET).one()
            try:
                for scratch_database in mapping.values():
                    connection.exec_driver_sql(f"CREATE DATABASE `{scratch_database}` CHARACTER SET {charset} COLLATE {collation}")
                yield connection, mapping
            finally:
                connection.rollback()
                for scratch_database in mapping.values():
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{scratch_database}`")
                connection.commit()

    # --- catalog ---------------------------------------------------------------------------------

    def read_catalog(self, connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog | None:
        """information_schema read once per kind of object instead of SHOW CREATE TABLE per table (MariaDB)."""
        from schemasync import catalog_mysql

        return catalog_mysql.read(connection, schema, names) if catalog_mysql.supported(connection) else None


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
