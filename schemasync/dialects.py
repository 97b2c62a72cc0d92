"""What schemasync knows about a database dialect, behind one narrow interface, and the registry.

Each dialect module has the same sections in the same order: facts, normalise, lower, SQL
(elements for the steps whose spelling differs), lock, scratch place. Code outside the
`dialect_*.py` modules asks these questions and never tests a dialect's name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar

import sqlalchemy as sa

from schemasync.errors import ConfigError, LockError
from schemasync.operations import (
    AddForeignKey,
    AlterColumn,
    DropForeignKey,
    Operation,
)
from schemasync.snapshot import Column, Snapshot, Table

LOCK_NAME = "schemasync"


class Dialect:
    """The base: behaviour shared by the server dialects; subclasses override what differs."""

    name: ClassVar[str] = ""
    # facts
    transactional_ddl: ClassVar[bool] = True
    has_comments: ClassVar[bool] = True
    # Whether a FOREIGN KEY must point at a table that already exists (so FK cycles need splitting).
    fk_needs_existing_target: ClassVar[bool] = True
    # Patterns (formatted with the table name) of the names the server gives unnamed constraints.
    generated_names: ClassVar[dict[str, str]] = {}

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
            return replace(constraint, db_name=constraint.name)

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
        return Snapshot(snapshot.dialect, tuple(self.normalize_table(t) for t in snapshot.tables))

    # --- lower -----------------------------------------------------------------------------------

    def lower(self, operations: Sequence[Operation], current: Snapshot, target: Snapshot) -> list[Operation]:
        """Turn the neutral diff into steps this dialect can run; the strategy shows in the plan."""
        return _rebind_foreign_keys_around_type_changes(list(operations), current)

    # --- SQL -------------------------------------------------------------------------------------

    def alter_column_elements(self, table: sa.Table, before: Column, after: Column) -> list[Any]:
        """DDL elements for an in-place column change (PostgreSQL-style ALTER COLUMN clauses)."""
        from schemasync import ddl

        elements: list[Any] = []
        if (before.type, before.nullable, before.default) != (after.type, after.nullable, after.default):
            elements.append(ddl.AlterColumn(table, table.c[after.name], before, after))
        if before.comment != after.comment and self.has_comments:
            elements.append(sa.schema.SetColumnComment(table.c[after.name]) if after.comment else sa.schema.DropColumnComment(table.c[after.name]))
        return elements

    # --- connection set-up, lock, scratch place ---------------------------------------------------

    def engine_options(self, lock_timeout: float) -> dict[str, Any]:
        return {}

    def prepare_engine(self, engine: sa.Engine) -> None:
        """Hook for engine events (SQLite needs them for transactional DDL)."""

    @contextmanager
    def migration_transaction(self, connection: sa.Connection, timeout: float) -> Iterator[None]:
        """The apply's transaction, holding the per-database lock that keeps two applies apart."""
        raise NotImplementedError

    @contextmanager
    def scratch(self, engine: sa.Engine, schemas: Sequence[str | None]) -> Iterator[tuple[sa.Connection, dict[str | None, str | None]]]:
        """A place to build the models: yields a connection and {model schema: scratch schema}."""
        raise NotImplementedError

    def after_apply_check(self, connection: sa.Connection) -> None:
        """Checks to run inside the apply transaction before it commits."""


def _sort_key(item: Any) -> str:
    return repr(item.key)


def _rebind_foreign_keys_around_type_changes(operations: list[Operation], current: Snapshot) -> list[Operation]:
    """Drop and re-add kept foreign keys that point at a column whose type changes.

    PostgreSQL and MySQL refuse to change the type of a referenced column while the key exists.
    """
    changed = {(op.table, op.after.name) for op in operations if isinstance(op, AlterColumn) and op.before.type != op.after.type}
    if not changed:
        return operations
    dropped = {(op.table, op.foreign_key.key) for op in operations if isinstance(op, DropForeignKey)}
    extra: list[Operation] = []
    for table in current.tables:
        for fk in table.foreign_keys:
            target = (fk.referred_schema, fk.referred_table)
            touched = any((target, column) in changed for column in fk.referred_columns)
            touched = touched or any((table.key, column) in changed for column in fk.columns)
            if touched and (table.key, fk.key) not in dropped:
                extra += [DropForeignKey(table.key, fk), AddForeignKey(table.key, fk)]
    return operations + extra


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


def wait_for_lock(try_lock: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `try_lock` until it succeeds or `timeout` seconds pass; then fail clearly."""
    deadline = time.monotonic() + timeout
    while not try_lock():
        if time.monotonic() >= deadline:
            raise LockError(f"another schemasync run holds the migration lock on {what}; waited {timeout:g}s (try again later)")
        time.sleep(0.2)

