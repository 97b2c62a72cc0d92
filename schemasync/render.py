"""Operations to SQL statements, compiled by SQLAlchemy against a dialect (no connection needed).

Snapshots become throw-away SQLAlchemy `Table` objects so that CreateTable, CreateIndex,
AddConstraint and friends spell the DDL exactly as `create_all` would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import singledispatch
from typing import Any

import sqlalchemy as sa
from sqlalchemy import schema as sa_schema

from schemasync import ddl
from schemasync.dialects import Dialect
from schemasync.errors import InternalError, PlanError
from schemasync.online import (
    TRANSACTION,
    AddCheckNotValid,
    AddForeignKeyNotValid,
    AddForeignKeyUnchecked,
    AddUniqueUsingIndex,
    CreateIndexConcurrently,
    DropIndexConcurrently,
    FillColumnInBatches,
    FillRowsByKey,
    ValidateConstraint,
    ValidateForeignKey,
    still_default,
)
from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddExclusion,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    AlterColumn,
    BackupColumns,
    BackupTable,
    CreateIndex,
    CreateTable,
    CreateView,
    DropCheck,
    DropColumn,
    DropExclusion,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    DropUnique,
    DropView,
    FillColumn,
    Operation,
    RebuildTable,
    RenameColumn,
    RenameConstraint,
    RenameIndex,
    RenameTable,
    ReplaceGeneratedColumn,
    RestoreColumns,
    RestoreRows,
    SetAutoIncrement,
    SetTableComment,
    SetTableOptions,
    qualified,
)
from schemasync.scope import FILL_PROGRESS_TABLE
from schemasync.snapshot import (
    Column,
    ForeignKey,
    Index,
    Table,
    TableKey,
    Unique,
    server_name,
)

REBUILD_PREFIX = "_schemasync_new_"


def render(operation: Operation, dialect: Dialect, mode: str = TRANSACTION) -> list[str]:
    """The statements that carry out one operation on this dialect, spelled for its mode (online.py)."""
    statements = [compile_element(dialect.mode_element(element, mode), dialect) for element in elements(operation, dialect)]
    return refuse_scratch_names(statements, operation, dialect)


def refuse_scratch_names(statements: list[str], operation: Operation, dialect: Dialect) -> list[str]:
    """No statement may name the scratch place the models were built in (`Dialect.scratch_prefix`): it
    is gone by the time the plan runs, so such a name is a normalisation bug, never a plan to run."""
    prefix = dialect.scratch_prefix
    leaked = next((sql for sql in statements if prefix and prefix in sql.lower()), None)
    if leaked is not None:
        raise InternalError(f"internal error: a step ({operation.summary()}) names the scratch place {prefix}* where the models were built: "
                            f"{' '.join(leaked.split())[:200]} (please report this; nothing was changed)")
    return statements


def compile_element(element: Any, dialect: Dialect) -> str:
    """The statement as the server receives it (SQLAlchemy doubles '%' for format-style drivers)."""
    text = str(element.compile(dialect=dialect.sa_dialect)).strip()
    return text.replace("%%", "%") if _formats_percent(dialect) else text


def driver_text(statement: str, dialect: Dialect) -> str:
    """The inverse of compile_element's un-escaping, for handing a statement to the driver."""
    return statement.replace("%", "%%") if _formats_percent(dialect) else statement


def _formats_percent(dialect: Dialect) -> bool:
    return dialect.sa_dialect.paramstyle in ("format", "pyformat")


def literal_sql(sql: str) -> Any:
    """SQL text the server gave us (a default, a check), emitted as it is: `text()` would read
    `':draft'` as a bind parameter and render it as NULL."""
    return sa.literal_column(sql)


def sa_column(column: Column) -> sa.Column:
    type_ = column.type_object if column.type_object is not None else ddl.raw_type(column.type)
    default = literal_sql(column.default) if column.default is not None else None
    return sa.Column(
        column.name,
        type_,
        *generated_arguments(column),
        nullable=column.nullable,
        server_default=default,
        autoincrement=column.autoincrement,
        comment=column.comment,
    )


def generated_arguments(column: Column) -> list[Any]:
    """sa.Computed / sa.Identity for a generated or identity column."""
    found: list[Any] = []
    if column.computed is not None:
        found.append(sa.Computed(literal_sql(column.computed), persisted=column.persisted))
    if column.identity is not None:
        found.append(sa.Identity(**identity_arguments(column.identity)))
    return found


def identity_arguments(text: str | None) -> dict[str, Any]:
    """sa.Identity's keyword arguments for an identity text ("always=true start=5")."""
    arguments: dict[str, Any] = {}
    for item in (text or "").split():
        key, value = item.split("=", 1)
        arguments[key] = value == "true" if value in ("true", "false") else int(value)
    return arguments


def _foreign_key(fk: ForeignKey, metadata: sa.MetaData, name: str | None = None) -> sa.ForeignKeyConstraint:
    prefix = f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else fk.referred_table
    _ensure_stub(metadata, (fk.referred_schema, fk.referred_table), fk.referred_columns)
    return sa.ForeignKeyConstraint(
        list(fk.columns),
        [f"{prefix}.{c}" for c in fk.referred_columns],
        name=name or fk.name,
        ondelete=fk.ondelete,
        onupdate=fk.onupdate,
        deferrable=fk.deferrable,
        initially=fk.initially,
        match=fk.match,
    )


def _ensure_stub(metadata: sa.MetaData, key: TableKey, columns: Iterable[str]) -> None:
    """A stand-in for a referenced table, so SQLAlchemy can resolve the REFERENCES clause."""
    schema, name = key
    full = f"{schema}.{name}" if schema else name
    existing = metadata.tables.get(full)
    missing = [c for c in columns if existing is None or c not in existing.c]
    if existing is None or missing:
        sa.Table(name, metadata, *[sa.Column(c, ddl.RawType("INTEGER")) for c in missing], schema=schema, extend_existing=True)


def sa_table(table: Table, name: str | None = None, with_constraints: bool = True) -> sa.Table:
    """A SQLAlchemy Table for a snapshot table (optionally under another name, for rebuilds)."""
    metadata = sa.MetaData()
    columns = [sa_column(c) for c in table.columns]
    args: list[Any] = []
    if table.primary_key:
        args.append(sa.PrimaryKeyConstraint(*table.primary_key.columns, name=table.primary_key.name))
    if with_constraints:
        args += [sa_unique(u) for u in table.uniques]
        args += [sa.CheckConstraint(literal_sql(c.sqltext), name=c.name) for c in table.checks]
    result = sa.Table(name or table.name, metadata, *columns, *args, schema=table.schema, comment=table.comment, **dict(table.options))
    if with_constraints:
        for fk in table.foreign_keys:
            result.append_constraint(_foreign_key(fk, metadata))
    for index in table.indexes:
        sa_index(index, result)
    return result


def sa_index(index: Index, table: sa.Table, **extra: Any) -> sa.Index:
    """A SQLAlchemy Index for a snapshot index on `table`: expression parts, ordering, predicate
    and dialect options as `create_all` would have them (each dialect's compiler reads its own)."""
    options = dict(index.options)
    sorting = dict(options.pop("column_sorting", ()))
    elements = [_index_part(part, index, table, sorting.get(part, ())) for part in index.parts]
    for key in ("postgresql_ops", "postgresql_with", "mysql_length"):
        if key in options:
            options[key] = dict(options[key])
    if index.where is not None:
        options["postgresql_where"] = options["sqlite_where"] = sa.text(index.where)
    return sa.Index(index.name, *elements, unique=index.unique, _table=table, **options, **extra)


def _index_part(part: str, index: Index, table: sa.Table, sorting: tuple[str, ...]) -> Any:
    """A column (by name) or an expression (its text, in parentheses where the dialect needs them)."""
    element: Any = table.c[part] if part in index.columns and part in table.c else sa.text(part)
    if "desc" in sorting:
        element = element.desc() if isinstance(element, sa.Column) else sa.desc(element)
    if "nulls_first" in sorting:
        element = sa.nulls_first(element)
    elif "nulls_last" in sorting:
        element = sa.nulls_last(element)
    return element


def bare_table(key: TableKey, columns: Iterable[str]) -> sa.Table:
    """A table known only by name and some column names: enough to spell constraint DDL."""
    schema, name = key
    return sa.Table(name, sa.MetaData(), *[sa.Column(c, ddl.RawType("INTEGER")) for c in dict.fromkeys(columns)], schema=schema)


def _comment_elements(table: sa.Table, dialect: Dialect) -> list[Any]:
    """Separate COMMENT statements where the dialect does not put comments inline (PostgreSQL)."""
    sa_dialect = dialect.sa_dialect
    if not sa_dialect.supports_comments or sa_dialect.inline_comments:
        return []
    found: list[Any] = [sa_schema.SetTableComment(table)] if table.comment else []
    return found + [sa_schema.SetColumnComment(c) for c in table.columns if c.comment]


def _create_table_elements(table: Table, dialect: Dialect, name: str | None = None) -> list[Any]:
    if dialect.unique_indexes_in_create_table:
        table = _unique_indexes_inline(table)
    created = sa_table(table, name=name)
    found: list[Any] = [sa_schema.CreateTable(created)]
    found += _comment_elements(created, dialect)
    found += [sa_schema.CreateIndex(index) for index in sorted(created.indexes, key=lambda i: i.name or "")]
    found += [ddl.AddConstraintText(created, e.name, e.definition) for e in table.exclusions]
    return found + dialect.create_table_extra_elements(replace(table, name=name or table.name))


def _unique_indexes_inline(table: Table) -> Table:
    """Plain unique indexes as UNIQUE constraints of the same name (see Dialect.unique_indexes_in_create_table)."""
    plain = [i for i in table.indexes if i.unique and not i.expressions and i.where is None and not i.options]
    if not plain:
        return table
    return replace(table, indexes=tuple(i for i in table.indexes if i not in plain), uniques=(*table.uniques, *(Unique(i.columns, i.name) for i in plain)))


@singledispatch
def elements(operation: Operation, dialect: Dialect) -> list[Any]:
    raise TypeError(f"no rendering for {type(operation).__name__}")


@elements.register
def _(op: CreateTable, dialect: Dialect) -> list[Any]:
    return _create_table_elements(op.definition, dialect)


@elements.register
def _(op: DropTable, dialect: Dialect) -> list[Any]:
    return [sa_schema.DropTable(sa_table(op.definition, with_constraints=False))]


@elements.register
def _(op: RenameTable, dialect: Dialect) -> list[Any]:
    return [ddl.RenameTable(bare_table(op.table, []), op.new_name)]


@elements.register
def _(op: RenameColumn, dialect: Dialect) -> list[Any]:
    return [ddl.RenameColumn(bare_table(op.table, []), op.old_name, op.new_name)]


@elements.register
def _(op: RenameIndex, dialect: Dialect) -> list[Any]:
    return [ddl.RenameIndex(bare_table(op.table, []), op.old_name, op.index.name)]


@elements.register
def _(op: RenameConstraint, dialect: Dialect) -> list[Any]:
    assert op.constraint.name is not None, "a declared rename names the constraint"
    return [ddl.RenameConstraint(bare_table(op.table, []), op.old_name, op.constraint.name)]


@elements.register
def _(op: AddColumn, dialect: Dialect) -> list[Any]:
    table = sa_table(Table(op.table[1], (dialect.added_column(op.column),), schema=op.table[0]))
    column = table.c[op.column.name]
    comment = [sa_schema.SetColumnComment(column)] if op.column.comment and not dialect.sa_dialect.inline_comments and dialect.sa_dialect.supports_comments else []
    return [ddl.AddColumn(column), *comment]


@elements.register
def _(op: DropColumn, dialect: Dialect) -> list[Any]:
    table = bare_table(op.table, [op.column.name])
    return [ddl.DropColumn(table.c[op.column.name])]


@elements.register
def _(op: AlterColumn, dialect: Dialect) -> list[Any]:
    table = sa_table(Table(op.table[1], (op.after,), schema=op.table[0]))
    return dialect.alter_column_elements(table, op.before, op.after)


@elements.register
def _(op: SetAutoIncrement, dialect: Dialect) -> list[Any]:
    """The column change, with the new primary key it needs as a clause of the same statement."""
    table = sa_table(Table(op.table[1], (op.after,), schema=op.table[0]))
    found = dialect.alter_column_elements(table, op.before, op.after)
    if op.with_primary_key is None:
        return found
    return [ddl.WithPrimaryKey(found[0], table, op.with_primary_key.columns), *found[1:]]


@elements.register
def _(op: SetTableOptions, dialect: Dialect) -> list[Any]:
    return [ddl.SetTableOptions(bare_table(op.table, []), op.changed(), dict(op.after))]


@elements.register
def _(op: ReplaceGeneratedColumn, dialect: Dialect) -> list[Any]:
    """Drop and add the column; one that stops being generated is filled from the old expression."""
    table = sa_table(Table(op.table[1], (dialect.added_column(op.after),), schema=op.table[0]))
    column = table.c[op.after.name]
    found: list[Any] = [ddl.DropColumn(column), ddl.AddColumn(column)]
    if op.after.computed is None and op.before.computed is not None:
        found.append(sa.update(table).values({column: literal_sql(op.before.computed)}))
    return found


@elements.register
def _(op: FillColumn, dialect: Dialect) -> list[Any]:
    """UPDATE ... SET column = (expression) WHERE column IS NULL: only rows still to fill (data_changes.py)."""
    table = bare_table(op.table, [op.column.name])
    column = table.c[op.column.name]
    return [sa.update(table).values({column: literal_sql(f"({op.expression})")}).where(column.is_(None))]


@elements.register
def _(op: FillColumnInBatches, dialect: Dialect) -> list[Any]:
    """The four statements apply runs a batched fill with (apply.py, `batched` mode), by ranges of the key:
    the first key; a range's last key (`:low` and the batch size); the range's UPDATE (`:low`..`:high`,
    only rows still NULL); the key after a range (`:high`). Each range is its own transaction. A key of
    several columns is paged on the tuple (`:low_0, :low_1, ...`), compared column by column (MariaDB
    reads a range of the key's index for that form; a row value comparison it would scan)."""
    preparer = dialect.sa_dialect.identifier_preparer
    table = bare_table(op.table, [op.column.name, *op.key])
    name, column, keys = preparer.format_table(table), preparer.quote(op.column.name), [preparer.quote(k) for k in op.key]
    if len(keys) == 1:
        key = keys[0]
        texts = [
            f"SELECT MIN({key}) FROM {name}",
            f"SELECT MAX({key}) FROM (SELECT {key} FROM {name} WHERE {key} >= :low ORDER BY {key} LIMIT {op.batch_size}) AS batch",
            f"UPDATE {name} SET {column} = ({op.expression}) WHERE {column} IS NULL AND {key} >= :low AND {key} <= :high",
            f"SELECT MIN({key}) FROM {name} WHERE {key} > :high",
        ]
    else:
        listed, ascending = ", ".join(keys), ", ".join(keys)
        descending = ", ".join(f"{k} DESC" for k in keys)
        low, high = _tuple_compare(keys, "low", ">="), _tuple_compare(keys, "high", "<=")
        texts = [
            f"SELECT {listed} FROM {name} ORDER BY {ascending} LIMIT 1",
            f"SELECT {listed} FROM (SELECT {listed} FROM {name} WHERE {low} ORDER BY {ascending} LIMIT {op.batch_size}) AS batch ORDER BY {descending} LIMIT 1",
            f"UPDATE {name} SET {column} = ({op.expression}) WHERE {column} IS NULL AND {low} AND {high}",
            f"SELECT {listed} FROM {name} WHERE {_tuple_compare(keys, 'high', '>')} ORDER BY {ascending} LIMIT 1",
        ]
    return [ddl.RawStatement(table, text) for text in texts]


@elements.register
def _(op: FillRowsByKey, dialect: Dialect) -> list[Any]:
    """The statements apply runs a fill by key with (apply.py; their roles in order: online.BY_KEY_ROLES):
    the progress kept for it under the running apply's id (`:state_id`) or one it continues; when there
    is none, the last key now and that progress begun (`:last_key`, the key as text), in one
    transaction; then, range by range, each its own transaction: a range's first and last key (never
    past `:last`), the UPDATE of the range (its rows still holding the column's default where that
    compares exactly, online.still_default, else every row in it), the last key filled recorded
    (`:done`, `:rows`), and the next range's start."""
    preparer = dialect.sa_dialect.identifier_preparer
    table = bare_table(op.table, [op.column.name, *op.key])
    name, column, keys = preparer.format_table(table), preparer.quote(op.column.name), [preparer.quote(k) for k in op.key]
    listed, descending = ", ".join(keys), ", ".join(f"{k} DESC" for k in keys)
    upto, low, high = _compare(keys, "last", "<="), _compare(keys, "low", ">="), _compare(keys, "high", "<=")
    progress = preparer.quote(FILL_PROGRESS_TABLE)
    this = f"table_name = {_literal(qualified(op.table), dialect)} AND column_name = {_literal(op.column.name, dialect)}"
    ids = ", ".join([":state_id", *map(str, op.resumes)])
    default = still_default(op.column)
    untouched = f" AND {column} = {default}" if default is not None else ""
    texts = [
        f"SELECT last_key, done_key, rows_filled FROM {progress} WHERE {this} AND state_id IN ({ids})",
        f"SELECT {listed} FROM {name} ORDER BY {descending} LIMIT 1",
        f"DELETE FROM {progress} WHERE {this}",
        f"INSERT INTO {progress} (table_name, column_name, state_id, last_key, done_key, rows_filled) "
        f"VALUES ({_literal(qualified(op.table), dialect)}, {_literal(op.column.name, dialect)}, :state_id, :last_key, NULL, 0)",
        f"SELECT {listed} FROM {name} WHERE {upto} ORDER BY {listed} LIMIT 1",
        f"SELECT {listed} FROM (SELECT {listed} FROM {name} WHERE {low} AND {upto} ORDER BY {listed} LIMIT {op.batch_size}) AS batch "
        f"ORDER BY {descending} LIMIT 1",
        f"UPDATE {name} SET {column} = ({op.expression}) WHERE {low} AND {high}{untouched}",
        f"UPDATE {progress} SET done_key = :done, rows_filled = :rows WHERE {this}",
        f"SELECT {listed} FROM {name} WHERE {_compare(keys, 'high', '>')} AND {upto} ORDER BY {listed} LIMIT 1",
    ]
    return [ddl.RawStatement(table, text) for text in texts]


def _compare(keys: list[str], bound: str, operator: str) -> str:
    """key <operator> :bound, or for a key of several columns the tuple comparison (`:bound_0, ...`)."""
    return f"{keys[0]} {operator} :{bound}" if len(keys) == 1 else _tuple_compare(keys, bound, operator)


def _literal(value: str, dialect: Dialect) -> str:
    return str(sa.literal(value).compile(dialect=dialect.sa_dialect, compile_kwargs={"literal_binds": True}))


def _tuple_compare(keys: list[str], bound: str, operator: str) -> str:
    """(k0, k1, ...) <operator> (:bound_0, :bound_1, ...) spelled column by column, with the first
    column's own bound in front (a range on the index): k0 >= :b0 AND (k0 > :b0 OR (k0 = :b0 AND k1 >= :b1))."""
    strict = operator.rstrip("=")
    text = f"{keys[-1]} {operator} :{bound}_{len(keys) - 1}"
    for index in range(len(keys) - 2, -1, -1):
        text = f"({keys[index]} {strict} :{bound}_{index} OR ({keys[index]} = :{bound}_{index} AND {text}))"
    return f"{keys[0]} {strict}= :{bound}_0 AND {text}"


@elements.register
def _(op: SetTableComment, dialect: Dialect) -> list[Any]:
    table = sa.Table(op.table[1], sa.MetaData(), schema=op.table[0], comment=op.after)
    return [sa_schema.SetTableComment(table) if op.after else sa_schema.DropTableComment(table)]


def _attached(table: TableKey, columns: Iterable[str], make: Callable[[sa.MetaData], Any]) -> Any:
    """A constraint made by `make`, attached to a bare stand-in for its table (its DDL names the table)."""
    stand_in = bare_table(table, columns)
    constraint = make(stand_in.metadata)
    stand_in.append_constraint(constraint)
    return constraint


def _dropped_name(constraint: Any, needed: bool = True) -> str | None:
    """Dropping needs the name the server actually has, even when it chose it. A snapshot read from
    text may not know it (the server names an unnamed constraint when it is created): say so."""
    name = server_name(constraint)
    if name is None and needed:
        shown = ", ".join(getattr(constraint, "columns", ())) or getattr(constraint, "sqltext", "")
        raise PlanError(f"the name the server gave an unnamed {type(constraint).__name__} ({shown}) is not known here")
    return name


def _primary_key(op: AddPrimaryKey | DropPrimaryKey, name: str | None) -> sa.PrimaryKeyConstraint:
    return _attached(op.table, op.primary_key.columns, lambda _: sa.PrimaryKeyConstraint(*op.primary_key.columns, name=name))


def _fk_constraint(op: AddForeignKey | DropForeignKey, name: str | None) -> sa.ForeignKeyConstraint:
    return _attached(op.table, op.foreign_key.columns, lambda metadata: _foreign_key(op.foreign_key, metadata, name=name))


def sa_unique(unique: Unique, name: str | None = None) -> sa.UniqueConstraint:
    """A SQLAlchemy UniqueConstraint with its deferral and dialect options (NULLS NOT DISTINCT, INCLUDE)."""
    options: dict[str, Any] = {key: list(value) if isinstance(value, tuple) else value for key, value in unique.options}
    return sa.UniqueConstraint(*unique.columns, name=name or unique.name, deferrable=unique.deferrable, initially=unique.initially, **options)


def _unique_constraint(op: AddUnique | DropUnique, name: str | None) -> sa.UniqueConstraint:
    unique = op.unique
    return _attached(op.table, [*unique.columns, *dict(unique.options).get("postgresql_include", ())], lambda _: sa_unique(unique, name))


def _check_constraint(op: AddCheck | DropCheck, name: str | None) -> sa.CheckConstraint:
    return _attached(op.table, [], lambda _: sa.CheckConstraint(literal_sql(op.check.sqltext), name=name))


@elements.register
def _(op: AddPrimaryKey, dialect: Dialect) -> list[Any]:
    return [sa_schema.AddConstraint(_primary_key(op, op.primary_key.name))]


@elements.register
def _(op: DropPrimaryKey, dialect: Dialect) -> list[Any]:
    return [sa_schema.DropConstraint(_primary_key(op, _dropped_name(op.primary_key, needed=False)))]


@elements.register
def _(op: AddForeignKey, dialect: Dialect) -> list[Any]:
    return [sa_schema.AddConstraint(_fk_constraint(op, op.foreign_key.name))]


@elements.register
def _(op: DropForeignKey, dialect: Dialect) -> list[Any]:
    return [sa_schema.DropConstraint(_fk_constraint(op, _dropped_name(op.foreign_key)))]


@elements.register
def _(op: AddUnique, dialect: Dialect) -> list[Any]:
    return [sa_schema.AddConstraint(_unique_constraint(op, op.unique.name))]


@elements.register
def _(op: DropUnique, dialect: Dialect) -> list[Any]:
    return [sa_schema.DropConstraint(_unique_constraint(op, _dropped_name(op.unique)))]


def _index(op: CreateIndex | DropIndex, **options: Any) -> sa.Index:
    index = op.index
    return sa_index(index, bare_table(op.table, [*index.columns, *index.option("postgresql_include", ())]), **options)


@elements.register
def _(op: CreateIndex, dialect: Dialect) -> list[Any]:
    return [sa_schema.CreateIndex(_index(op))]


@elements.register
def _(op: DropIndex, dialect: Dialect) -> list[Any]:
    return [sa_schema.DropIndex(_index(op))]


@elements.register
def _(op: AddExclusion, dialect: Dialect) -> list[Any]:
    return [ddl.AddConstraintText(bare_table(op.table, []), op.exclusion.name, op.exclusion.definition)]


@elements.register
def _(op: DropExclusion, dialect: Dialect) -> list[Any]:
    return [ddl.DropConstraintNamed(bare_table(op.table, []), _dropped_name(op.exclusion) or "")]


@elements.register
def _(op: AddCheck, dialect: Dialect) -> list[Any]:
    return [sa_schema.AddConstraint(_check_constraint(op, op.check.name))]


@elements.register
def _(op: DropCheck, dialect: Dialect) -> list[Any]:
    return [sa_schema.DropConstraint(_check_constraint(op, _dropped_name(op.check)))]


# --- online forms (online.py; PostgreSQL) ------------------------------------------------------------


def _not_valid(constraint: Any) -> Any:
    constraint.dialect_kwargs["postgresql_not_valid"] = True
    return constraint


@elements.register
def _(op: CreateIndexConcurrently, dialect: Dialect) -> list[Any]:
    return [sa_schema.CreateIndex(_index(op, postgresql_concurrently=True))]


@elements.register
def _(op: DropIndexConcurrently, dialect: Dialect) -> list[Any]:
    return [sa_schema.DropIndex(_index(op, postgresql_concurrently=True))]


@elements.register
def _(op: AddForeignKeyNotValid, dialect: Dialect) -> list[Any]:
    return [sa_schema.AddConstraint(_not_valid(_fk_constraint(op, op.foreign_key.name)))]


@elements.register
def _(op: AddCheckNotValid, dialect: Dialect) -> list[Any]:
    return [sa_schema.AddConstraint(_not_valid(_check_constraint(op, op.check.name)))]


@elements.register
def _(op: AddUniqueUsingIndex, dialect: Dialect) -> list[Any]:
    assert op.unique.name is not None, "named after the index it is added with"
    return [ddl.AddUniqueUsingIndex(bare_table(op.table, []), op.unique.name)]


@elements.register
def _(op: ValidateConstraint, dialect: Dialect) -> list[Any]:
    return [ddl.ValidateConstraint(bare_table(op.table, []), op.name)]


# --- online forms (MariaDB) --------------------------------------------------------------------------


@elements.register
def _(op: AddForeignKeyUnchecked, dialect: Dialect) -> list[Any]:
    add = sa_schema.AddConstraint(_fk_constraint(op, op.foreign_key.name))
    return [ddl.SetSession("foreign_key_checks", 0), add, ddl.SetSession("foreign_key_checks", 1)]


@elements.register
def _(op: ValidateForeignKey, dialect: Dialect) -> list[Any]:
    fk = op.foreign_key
    table = bare_table(op.table, fk.columns)
    referred = bare_table((fk.referred_schema, fk.referred_table), fk.referred_columns)
    return [ddl.ValidateForeignKeyRows(table, referred, list(fk.columns), list(fk.referred_columns), fk.name or "", op.drop_index)]


@elements.register
def _(op: RebuildTable, dialect: Dialect) -> list[Any]:
    """Create the new shape under a temporary name, copy the rows, swap names, rebuild indexes.

    The SQLite recipe (https://www.sqlite.org/lang_altertable.html#otheralter), run inside the
    apply transaction with foreign key enforcement off and `foreign_key_check` before commit.
    """
    temporary = REBUILD_PREFIX + op.after.name
    new = sa_table(op.after, name=temporary)
    old = sa_table(op.before, with_constraints=False)
    # A generated column takes no values: the new table computes its own.
    filled = {c for c, _ in op.fills}
    kept = [c.name for c in op.after.columns if (c.name in op.before.columns_by_name or c.name in filled) and c.computed is None]
    created = sa_table(op.after)
    return [
        sa_schema.CreateTable(new),
        # No column in common (every column replaced): there is nothing to copy, and no valid INSERT.
        *([ddl.CopyRows(old, new, kept, dict(op.fills), dict(op.conversions))] if kept else []),
        sa_schema.DropTable(old),
        ddl.RenameTable(new, op.after.name),
        *[sa_schema.CreateIndex(index) for index in sorted(created.indexes, key=lambda i: i.name or "")],
        # Triggers go with the dropped table: re-created as the server had them (not managed, kept).
        *[ddl.RawStatement(created, trigger) for trigger in op.before.triggers],
    ]


# --- keeping and restoring data (backup.py decides when) -------------------------------------------


@elements.register
def _(op: BackupTable, dialect: Dialect) -> list[Any]:
    return [ddl.CreateTableAs(bare_table(op.table, op.columns), bare_table((op.table[0], op.backup), []), list(op.columns), op.as_text)]


@elements.register
def _(op: BackupColumns, dialect: Dialect) -> list[Any]:
    """The kept values, and an index on their key: a restore looks each row up by it (without one,
    MariaDB and PostgreSQL scan the whole backup once per row: hours at 200,000 rows)."""
    columns = list(dict.fromkeys(op.key + op.columns))
    backup = bare_table((op.table[0], op.backup), op.key)
    index = sa.Index(backup_key_index_name(op.backup, dialect.max_name_length), *[backup.c[k] for k in op.key])
    return [ddl.CreateTableAs(bare_table(op.table, columns), bare_table((op.table[0], op.backup), []), columns, op.as_text),
            sa_schema.CreateIndex(index)]


def backup_key_index_name(backup: str, max_length: int) -> str:
    """`<backup>_key`, or the backup's name cut with a digest of it where that is too long (index
    names are per schema on PostgreSQL and SQLite, and backup names differ only at their end)."""
    name = f"{backup}_key"
    if len(name) <= max_length:
        return name
    return f"{backup[: max_length - 13]}_{hashlib.sha256(backup.encode()).hexdigest()[:8]}_key"


@elements.register
def _(op: RestoreRows, dialect: Dialect) -> list[Any]:
    table = bare_table(op.table, [c for c, _ in op.columns])
    backup = bare_table((op.table[0], op.backup), [b for _, b in op.columns])
    casts = dict(op.casts)
    select = sa.select(*[_restored_value(backup.c[b], casts.get(c)) for c, b in op.columns])
    return [sa.insert(table).from_select([c for c, _ in op.columns], select), *dialect.after_restore_rows(table, op.autoincrement)]


def _restored_value(value: Any, type_text: str | None) -> Any:
    """A kept value, cast back to its column's type through text where the restore says so."""
    return value if type_text is None else sa.cast(sa.cast(value, sa.Text), ddl.raw_type(type_text))


@elements.register
def _(op: RestoreColumns, dialect: Dialect) -> list[Any]:
    """UPDATE ... SET c = (SELECT kept value matched by key) WHERE a kept value exists: rows added since keep theirs."""
    table = bare_table(op.table, [c for c, _ in op.key + op.columns]).alias("t")
    backup = bare_table((op.table[0], op.backup), [b for _, b in op.key + op.columns]).alias("b")
    match = sa.and_(*[backup.c[b] == table.c[c] for c, b in op.key])
    casts = dict(op.casts)
    values = {c: sa.select(_restored_value(backup.c[b], casts.get(c))).where(match).scalar_subquery() for c, b in op.columns}
    # Table.alias() returns an Alias, which update() takes; SQLAlchemy types it as the wider NamedFromClause.
    return [sa.update(table).values(values).where(sa.exists().where(match))]  # type: ignore[arg-type]


# --- views -----------------------------------------------------------------------------------------


@elements.register
def _(op: CreateView, dialect: Dialect) -> list[Any]:
    return [ddl.CreateView(bare_table(op.table, []), op.view.definition, op.view.materialized)]


@elements.register
def _(op: DropView, dialect: Dialect) -> list[Any]:
    return [ddl.DropView(bare_table(op.table, []), op.view.materialized)]


# The schema-level operations (named schemas, enum types, sequences) register their renderings there.
from schemasync import render_objects  # noqa: E402,F401
