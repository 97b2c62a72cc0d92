"""DDL elements SQLAlchemy does not ship, compiled per dialect with `@compiles`.

Everything SQLAlchemy has (CreateTable, CreateIndex, AddConstraint, SetTableComment, ...) is used
as it is; these cover ALTER TABLE ... ADD/DROP/ALTER COLUMN and RENAME, the pieces Alembic also
writes by hand. Assumption: column and table names arrive as SQLAlchemy objects, so quoting is
always the dialect preparer's.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement
from sqlalchemy.types import UserDefinedType

from schemasync.errors import ModelsError
from schemasync.snapshot import Column


def created_on(item: Any, sa_dialect: sa.engine.Dialect) -> bool:
    """Whether `create_all` makes this table, index or constraint on this dialect: its `ddl_if()`
    (a dialect name or names, and a callable) evaluated as SQLAlchemy does, without a connection
    (the callable gets the dialect and a DDL compiler, `bind` is None)."""
    condition = getattr(item, "_ddl_if", None)
    if condition is None:
        return True
    if isinstance(item, sa.Index):
        element: Any = sa.schema.CreateIndex(item)
    elif isinstance(item, sa.Table):
        element = sa.schema.CreateTable(item)
    else:
        element = sa.schema.AddConstraint(item)
    # A compiler with nothing to compile: the condition reads only its dialect.
    compiler = sa_dialect.ddl_compiler(sa_dialect, None)  # type: ignore[arg-type]
    try:
        return bool(condition._should_execute(element, item, None, compiler=compiler))
    except Exception as error:  # noqa: BLE001 (the user's callable: whatever it raises is said in one line)
        raise ModelsError(f"the ddl_if() condition of {type(item).__name__.lower()} {item.name} failed without a connection: {error}") from None


class RawType(UserDefinedType):
    """A type known only by its DDL text (a snapshot read back from JSON has no type objects)."""

    cache_ok = True

    def __init__(self, text: str) -> None:
        self.text = text

    def get_col_spec(self, **kw: Any) -> str:
        return self.text


class _RawIntegerMixin(RawType):
    """Integer affinity, so SQLAlchemy spells an autoincrement key as create_all does (SERIAL,
    BIGSERIAL, AUTO_INCREMENT) while the text stays the server's own (e.g. MariaDB's INTEGER(11))."""

    @property
    def _type_affinity(self) -> type[sa.Integer]:
        return sa.Integer


class RawInteger(_RawIntegerMixin, sa.Integer):
    __visit_name__ = "user_defined"


class RawBigInteger(_RawIntegerMixin, sa.BigInteger):
    __visit_name__ = "user_defined"


class RawSmallInteger(_RawIntegerMixin, sa.SmallInteger):
    __visit_name__ = "user_defined"


class RawTimestamp(RawType, sa.TIMESTAMP):
    """TIMESTAMP affinity, so MySQL's compiler writes a nullable TIMESTAMP column `NULL` as it does
    from a type object: without it the server (explicit_defaults_for_timestamp off) makes the first
    TIMESTAMP column NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP.
    https://dev.mysql.com/doc/refman/8.0/en/server-system-variables.html#sysvar_explicit_defaults_for_timestamp"""

    __visit_name__ = "user_defined"


_INTEGER_TEXT = re.compile(r"(?P<size>BIG|SMALL|TINY|MEDIUM)?INT(EGER)?\b", re.IGNORECASE)
_TIMESTAMP_TEXT = re.compile(r"TIMESTAMP\b", re.IGNORECASE)


def raw_type(text: str) -> RawType:
    """The type for a snapshot column read back from text (no type object): integers and TIMESTAMP
    keep their affinity."""
    if _TIMESTAMP_TEXT.match(text.strip()):
        return RawTimestamp(text)
    match = _INTEGER_TEXT.match(text.strip())
    if match is None:
        return RawType(text)
    size = (match["size"] or "").upper()
    return {"BIG": RawBigInteger, "SMALL": RawSmallInteger, "TINY": RawSmallInteger}.get(size, RawInteger)(text)


class AddColumn(ExecutableDDLElement):
    def __init__(self, column: sa.Column) -> None:
        self.column = column


class DropColumn(ExecutableDDLElement):
    def __init__(self, column: sa.Column) -> None:
        self.column = column


class AlterColumn(ExecutableDDLElement):
    """Change a column's type, nullability and/or default in place."""

    def __init__(self, table: sa.Table, column: sa.Column, before: Column, after: Column) -> None:
        self.table, self.column, self.before, self.after = table, column, before, after


class SetAutoincrement(ExecutableDDLElement):
    """Give an existing column its values from a sequence, or take that away (PostgreSQL).
    `identity`: the identity's options (sa.Identity) when it is switched on."""

    def __init__(self, column: sa.Column, on: bool, identity: sa.Identity | None = None) -> None:
        self.column, self.on, self.identity = column, on, identity


class SetIdentity(ExecutableDDLElement):
    """Change an identity column's kind and sequence options in place (PostgreSQL); every option is
    stated, so ones the models no longer give go back to their defaults.
    https://www.postgresql.org/docs/current/sql-altertable.html (SET GENERATED, SET sequence_option)"""

    def __init__(self, column: sa.Column, identity: sa.Identity) -> None:
        self.column, self.identity = column, identity


class DropOwnedSequence(ExecutableDDLElement):
    """Drop the sequence a column still owns once its SERIAL default is gone (PostgreSQL), so that an
    identity made next is the column's only sequence (pg_get_serial_sequence would find the old one)."""

    def __init__(self, column: sa.Column) -> None:
        self.column = column


class DropExpression(ExecutableDDLElement):
    """Make a generated column a plain one, keeping its values (PostgreSQL 13+)."""

    def __init__(self, column: sa.Column) -> None:
        self.column = column


class ModifyColumn(ExecutableDDLElement):
    """MySQL's whole-definition column change."""

    def __init__(self, column: sa.Column) -> None:
        self.column = column


class RenameTable(ExecutableDDLElement):
    def __init__(self, table: sa.Table, new_name: str) -> None:
        self.table, self.new_name = table, new_name


class RenameColumn(ExecutableDDLElement):
    def __init__(self, table: sa.Table, old: str, new: str) -> None:
        self.table, self.old, self.new = table, old, new


class RenameIndex(ExecutableDDLElement):
    def __init__(self, table: sa.Table, old: str, new: str) -> None:
        self.table, self.old, self.new = table, old, new


class RenameConstraint(ExecutableDDLElement):
    def __init__(self, table: sa.Table, old: str, new: str) -> None:
        self.table, self.old, self.new = table, old, new


class AddConstraintText(ExecutableDDLElement):
    """ALTER TABLE ... ADD [CONSTRAINT name] <definition as the server printed it> (PostgreSQL exclusion constraints)."""

    def __init__(self, table: sa.Table, name: str | None, definition: str) -> None:
        self.table, self.name, self.definition = table, name, definition


class DropConstraintNamed(ExecutableDDLElement):
    """ALTER TABLE ... DROP CONSTRAINT name, for a constraint known only by its name and text."""

    def __init__(self, table: sa.Table, name: str) -> None:
        self.table, self.name = table, name


class CopyRows(ExecutableDDLElement):
    """INSERT INTO target (cols) SELECT cols FROM source: the heart of a table rebuild."""

    target: sa.Table  # narrower than DDLElement.target, which it reuses

    def __init__(self, source: sa.Table, target: sa.Table, columns: list[str], fills: dict[str, str] | None = None,
                 conversions: dict[str, str] | None = None) -> None:
        self.source, self.target, self.columns = source, target, columns
        # Declared data changes (data_changes.py): a filled column takes its expression where it has no
        # value (a new column has none), a converted one takes its expression always.
        self.fills, self.conversions = fills or {}, conversions or {}


def _table(compiler: Any, table: sa.Table) -> str:
    return compiler.preparer.format_table(table)


def _column(compiler: Any, column: sa.Column) -> str:
    return compiler.preparer.format_column(column)


@compiles(AddColumn)
def _add_column(element: AddColumn, compiler: Any, **kw: Any) -> str:
    spec = compiler.get_column_specification(element.column)
    return f"ALTER TABLE {_table(compiler, element.column.table)} ADD COLUMN {spec}"


@compiles(DropColumn)
def _drop_column(element: DropColumn, compiler: Any, **kw: Any) -> str:
    return f"ALTER TABLE {_table(compiler, element.column.table)} DROP COLUMN {_column(compiler, element.column)}"


@compiles(AlterColumn)
def _alter_column(element: AlterColumn, compiler: Any, **kw: Any) -> str:
    """PostgreSQL spelling (the SQL standard's): several ALTER COLUMN clauses in one statement.

    A type change takes the old default off first and puts the new one back after: PostgreSQL
    casts the old default to the new type and fails when it cannot ('' to bigint), even when the
    same statement sets another default.
    https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DATA-TYPE
    """
    name = _column(compiler, element.column)
    before, after = element.before, element.after
    retyped = before.type != after.type
    clauses = []
    if retyped and before.default is not None:
        clauses.append(f"ALTER COLUMN {name} DROP DEFAULT")
    if retyped:
        type_text = compiler.dialect.type_compiler_instance.process(element.column.type)
        # An enum type has no cast to another enum type (nor to most types): its text has one.
        through = "::text" if isinstance(before.type_object, sa.Enum) else ""
        # A declared conversion (data_changes.py) says how each value becomes the new type.
        using = f"({after.using})" if after.using else f"{name}{through}::{type_text}"
        clauses.append(f"ALTER COLUMN {name} TYPE {type_text} USING {using}")
    if before.nullable != after.nullable:
        clauses.append(f"ALTER COLUMN {name} {'DROP' if after.nullable else 'SET'} NOT NULL")
    if after.default is not None and (before.default != after.default or retyped):
        clauses.append(f"ALTER COLUMN {name} SET DEFAULT {after.default}")
    elif after.default is None and before.default is not None and not retyped:
        clauses.append(f"ALTER COLUMN {name} DROP DEFAULT")
    return f"ALTER TABLE {_table(compiler, element.table)} " + ", ".join(clauses)


@compiles(SetAutoincrement)
def _set_autoincrement(element: SetAutoincrement, compiler: Any, **kw: Any) -> str:
    """Off covers both spellings: an identity column, and a SERIAL's nextval() default."""
    name = _column(compiler, element.column)
    table = _table(compiler, element.column.table)
    if element.on:
        identity = element.identity or sa.Identity()
        options = compiler.get_identity_options(identity)
        kind = "ALWAYS" if identity.always else "BY DEFAULT"
        return f"ALTER TABLE {table} ALTER COLUMN {name} ADD GENERATED {kind} AS IDENTITY" + (f" ({options})" if options else "")
    return f"ALTER TABLE {table} ALTER COLUMN {name} DROP IDENTITY IF EXISTS, ALTER COLUMN {name} DROP DEFAULT"


@compiles(SetIdentity)
def _set_identity(element: SetIdentity, compiler: Any, **kw: Any) -> str:
    identity = element.identity
    ascending = (identity.increment or 1) > 0
    start = identity.start if identity.start is not None else (identity.minvalue or 1) if ascending else (identity.maxvalue or -1)
    clauses = [
        f"SET GENERATED {'ALWAYS' if identity.always else 'BY DEFAULT'}",
        f"SET INCREMENT BY {identity.increment or 1}",
        f"SET MINVALUE {identity.minvalue}" if identity.minvalue is not None else "SET NO MINVALUE",
        f"SET MAXVALUE {identity.maxvalue}" if identity.maxvalue is not None else "SET NO MAXVALUE",
        f"SET START WITH {start}",
        f"SET CACHE {identity.cache or 1}",
        "SET CYCLE" if identity.cycle else "SET NO CYCLE",
    ]
    return f"ALTER TABLE {_table(compiler, element.column.table)} ALTER COLUMN {_column(compiler, element.column)} " + " ".join(clauses)


@compiles(DropOwnedSequence)
def _drop_owned_sequence(element: DropOwnedSequence, compiler: Any, **kw: Any) -> str:
    table = compiler.preparer.format_table(element.column.table).replace("'", "''")
    column = element.column.name.replace("'", "''")
    return (
        f"DO $$DECLARE owned text := pg_get_serial_sequence('{table}', '{column}'); "
        "BEGIN IF owned IS NOT NULL THEN EXECUTE 'DROP SEQUENCE ' || owned; END IF; END$$"
    )


@compiles(DropExpression)
def _drop_expression(element: DropExpression, compiler: Any, **kw: Any) -> str:
    return f"ALTER TABLE {_table(compiler, element.column.table)} ALTER COLUMN {_column(compiler, element.column)} DROP EXPRESSION"


@compiles(ModifyColumn)
def _modify_column(element: ModifyColumn, compiler: Any, **kw: Any) -> str:
    spec = compiler.get_column_specification(element.column)
    return f"ALTER TABLE {_table(compiler, element.column.table)} MODIFY {spec}"


class AddConvertedColumn(ExecutableDDLElement):
    """MariaDB/MySQL: the column a declared conversion fills (data_changes.py), nullable, right after
    the column it replaces: ALTER TABLE t ADD COLUMN new <type> NULL AFTER old."""

    def __init__(self, column: sa.Column, after: str) -> None:
        self.column, self.after = column, after


@compiles(AddConvertedColumn)
def _add_converted_column(element: AddConvertedColumn, compiler: Any, **kw: Any) -> str:
    spec = compiler.get_column_specification(element.column)
    return f"ALTER TABLE {_table(compiler, element.column.table)} ADD COLUMN {spec} AFTER {compiler.preparer.quote(element.after)}"


class SwapConvertedColumn(ExecutableDDLElement):
    """MariaDB/MySQL: drop the old column and give the converted one its name and whole definition,
    in one statement (the position stays: the new column sits right after the old one)."""

    def __init__(self, column: sa.Column, converted: str) -> None:
        self.column, self.converted = column, converted


@compiles(SwapConvertedColumn)
def _swap_converted_column(element: SwapConvertedColumn, compiler: Any, **kw: Any) -> str:
    spec = compiler.get_column_specification(element.column)
    name = _column(compiler, element.column)
    return f"ALTER TABLE {_table(compiler, element.column.table)} DROP COLUMN {name}, CHANGE COLUMN {compiler.preparer.quote(element.converted)} {spec}"


class WithPrimaryKey(ExecutableDDLElement):
    """An ALTER TABLE statement that also adds a primary key, as one more clause (MariaDB: the key
    AUTO_INCREMENT needs, added with it)."""

    def __init__(self, element: Any, table: sa.Table, columns: tuple[str, ...]) -> None:
        self.element, self.table, self.columns = element, table, columns


@compiles(WithPrimaryKey)
def _with_primary_key(element: WithPrimaryKey, compiler: Any, **kw: Any) -> str:
    columns = ", ".join(compiler.preparer.quote(c) for c in element.columns)
    return f"{compiler.process(element.element, **kw)}, ADD PRIMARY KEY ({columns})"


@compiles(RenameTable)
def _rename_table(element: RenameTable, compiler: Any, **kw: Any) -> str:
    return f"ALTER TABLE {_table(compiler, element.table)} RENAME TO {compiler.preparer.quote(element.new_name)}"


@compiles(RenameColumn)
def _rename_column(element: RenameColumn, compiler: Any, **kw: Any) -> str:
    """Standard spelling: PostgreSQL, SQLite 3.25+, MySQL 8, MariaDB 10.5+."""
    quote = compiler.preparer.quote
    return f"ALTER TABLE {_table(compiler, element.table)} RENAME COLUMN {quote(element.old)} TO {quote(element.new)}"


@compiles(RenameIndex)
def _rename_index(element: RenameIndex, compiler: Any, **kw: Any) -> str:
    """PostgreSQL: an index is a schema object of its own."""
    quote = compiler.preparer.quote
    schema = f"{quote(element.table.schema)}." if element.table.schema else ""
    return f"ALTER INDEX {schema}{quote(element.old)} RENAME TO {quote(element.new)}"


@compiles(RenameIndex, "mysql")
def _rename_index_mysql(element: RenameIndex, compiler: Any, **kw: Any) -> str:
    """MySQL 5.7+, MariaDB 10.5.2+."""
    quote = compiler.preparer.quote
    return f"ALTER TABLE {_table(compiler, element.table)} RENAME INDEX {quote(element.old)} TO {quote(element.new)}"


@compiles(AddConstraintText)
def _add_constraint_text(element: AddConstraintText, compiler: Any, **kw: Any) -> str:
    named = f"CONSTRAINT {compiler.preparer.quote(element.name)} " if element.name else ""
    return f"ALTER TABLE {_table(compiler, element.table)} ADD {named}{element.definition}"


@compiles(DropConstraintNamed)
def _drop_constraint_named(element: DropConstraintNamed, compiler: Any, **kw: Any) -> str:
    return f"ALTER TABLE {_table(compiler, element.table)} DROP CONSTRAINT {compiler.preparer.quote(element.name)}"


@compiles(RenameConstraint)
def _rename_constraint(element: RenameConstraint, compiler: Any, **kw: Any) -> str:
    """PostgreSQL; MySQL and SQLite have no such statement (their dialects lower it away)."""
    quote = compiler.preparer.quote
    return f"ALTER TABLE {_table(compiler, element.table)} RENAME CONSTRAINT {quote(element.old)} TO {quote(element.new)}"


@compiles(CopyRows)
def _copy_rows(element: CopyRows, compiler: Any, **kw: Any) -> str:
    columns = ", ".join(compiler.preparer.quote(c) for c in element.columns)
    old = set(element.source.c.keys())

    def value(name: str) -> str:
        quoted = compiler.preparer.quote(name)
        if name in element.conversions:
            return f"({element.conversions[name]})"
        if name in element.fills:
            return f"COALESCE({quoted}, ({element.fills[name]}))" if name in old else f"({element.fills[name]})"
        return quoted

    values = ", ".join(value(c) for c in element.columns)
    return f"INSERT INTO {_table(compiler, element.target)} ({columns}) SELECT {values} FROM {_table(compiler, element.source)}"


class CreateTableAs(ExecutableDDLElement):
    """CREATE TABLE backup AS SELECT columns FROM source: a plain copy (no keys, no indexes, no names to clash)."""

    def __init__(self, source: sa.Table, backup: sa.Table, columns: list[str], as_text: tuple[str, ...] = ()) -> None:
        self.source, self.backup, self.columns, self.as_text = source, backup, columns, as_text


@compiles(CreateTableAs)
def _create_table_as(element: CreateTableAs, compiler: Any, **kw: Any) -> str:
    """The same spelling on PostgreSQL, SQLite, MySQL and MariaDB (`as_text` columns: PostgreSQL enums only)."""

    def column(name: str) -> str:
        quoted = compiler.preparer.quote(name)
        return f"CAST({quoted} AS TEXT) AS {quoted}" if name in element.as_text else quoted

    columns = ", ".join(column(c) for c in element.columns)
    return f"CREATE TABLE {_table(compiler, element.backup)} AS SELECT {columns} FROM {_table(compiler, element.source)}"


# --- online mode (online.py) ------------------------------------------------------------------------


class ValidateConstraint(ExecutableDDLElement):
    """PostgreSQL: check the existing rows against a NOT VALID constraint (SHARE UPDATE EXCLUSIVE only).
    https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT"""

    def __init__(self, table: sa.Table, name: str) -> None:
        self.table, self.name = table, name


class AddUniqueUsingIndex(ExecutableDDLElement):
    """PostgreSQL: turn a unique index (built CONCURRENTLY) into a unique constraint, without a scan.
    https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX"""

    def __init__(self, table: sa.Table, name: str) -> None:
        self.table, self.name = table, name


class WithAlgorithm(ExecutableDDLElement):
    """MySQL/MariaDB: an ALTER that names its algorithm and lock, so the server refuses rather than copy.
    https://mariadb.com/kb/en/alter-table/#algorithm"""

    def __init__(self, element: Any, algorithm: str, lock: str | None = None) -> None:
        self.element, self.algorithm, self.lock = element, algorithm, lock


class SetSession(ExecutableDDLElement):
    """MySQL/MariaDB: SET SESSION name = value (foreign_key_checks around an unchecked key)."""

    def __init__(self, name: str, value: int) -> None:
        self.name, self.value = name, value


class ValidateForeignKeyRows(ExecutableDDLElement):
    """MariaDB: count the rows a foreign key added unchecked would refuse; if any, drop the key
    (and the index it brought) and fail with SIGNAL. One anonymous compound statement, so the
    plan shows it and the executor just runs it. https://mariadb.com/kb/en/begin-end/"""

    def __init__(self, table: sa.Table, referred: sa.Table, columns: list[str], referred_columns: list[str], name: str, drop_index: bool) -> None:
        self.table, self.referred, self.columns, self.referred_columns = table, referred, columns, referred_columns
        self.name, self.drop_index = name, drop_index


@compiles(SetSession)
def _set_session(element: SetSession, compiler: Any, **kw: Any) -> str:
    return f"SET SESSION {element.name} = {int(element.value)}"


@compiles(ValidateForeignKeyRows)
def _validate_foreign_key_rows(element: ValidateForeignKeyRows, compiler: Any, **kw: Any) -> str:
    quote = compiler.preparer.quote
    child, parent, name = _table(compiler, element.table), _table(compiler, element.referred), quote(element.name)
    join = " AND ".join(f"p.{quote(r)} = c.{quote(c)}" for c, r in zip(element.columns, element.referred_columns, strict=True))
    present = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in element.columns)
    drop = f"DROP FOREIGN KEY {name}" + (f", DROP INDEX {name}" if element.drop_index else "")
    message = f"foreign key {element.name} on {element.table.name}: ', broken, ' rows refer to no row of {element.referred.name}; the key was dropped again"
    return (
        "BEGIN NOT ATOMIC\n"
        "  DECLARE broken BIGINT;\n"
        f"  SELECT COUNT(*) INTO broken FROM {child} c LEFT JOIN {parent} p ON {join} WHERE {present} AND p.{quote(element.referred_columns[0])} IS NULL;\n"
        "  IF broken > 0 THEN\n"
        f"    ALTER TABLE {child} {drop};\n"
        f"    SET @schemasync_message = CONCAT('{message}');\n"
        "    SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = @schemasync_message;\n"
        "  END IF;\n"
        "END"
    )


@compiles(ValidateConstraint)
def _validate_constraint(element: ValidateConstraint, compiler: Any, **kw: Any) -> str:
    return f"ALTER TABLE {_table(compiler, element.table)} VALIDATE CONSTRAINT {compiler.preparer.quote(element.name)}"


@compiles(AddUniqueUsingIndex)
def _add_unique_using_index(element: AddUniqueUsingIndex, compiler: Any, **kw: Any) -> str:
    name = compiler.preparer.quote(element.name)
    return f"ALTER TABLE {_table(compiler, element.table)} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"


@compiles(WithAlgorithm)
def _with_algorithm(element: WithAlgorithm, compiler: Any, **kw: Any) -> str:
    """CREATE INDEX takes the options after a space; MariaDB's DROP INDEX takes none (so it becomes
    ALTER TABLE ... DROP INDEX); any other ALTER TABLE takes them as comma-separated clauses."""
    inner = element.element
    if isinstance(inner, sa.schema.DropIndex):
        index = inner.element
        assert index.table is not None, "an index being dropped is bound to its table"
        text = f"ALTER TABLE {_table(compiler, index.table)} DROP INDEX {compiler.preparer.quote(index.name)}"
    else:
        text = compiler.process(inner, **kw)
    options = [f"ALGORITHM={element.algorithm}"] + ([f"LOCK={element.lock}"] if element.lock else [])
    if isinstance(inner, sa.schema.CreateIndex):
        return f"{text} {' '.join(options)}"
    return f"{text}, {', '.join(options)}"


class RawStatement(ExecutableDDLElement):
    """A statement the server gave us as it is (a trigger's CREATE TRIGGER, re-created after a rebuild)."""

    def __init__(self, table: sa.Table, text: str) -> None:
        self.table, self.text = table, text


@compiles(RawStatement)
def _raw_statement(element: RawStatement, compiler: Any, **kw: Any) -> str:
    return element.text


class SetTableOptions(ExecutableDDLElement):
    """ALTER TABLE ... <options> (MariaDB/MySQL: ENGINE=, DEFAULT CHARSET=, ROW_FORMAT=...)."""

    def __init__(self, table: sa.Table, options: dict[str, Any], after: dict[str, Any]) -> None:
        self.table, self.table_options, self.after = table, options, after  # not `options`: Executable.options() is a method


@compiles(SetTableOptions)
def _set_table_options(element: SetTableOptions, compiler: Any, **kw: Any) -> str:
    raise sa.exc.CompileError(f"{compiler.dialect.name} has no table options to set in place")


@compiles(SetTableOptions, "mysql")
def _set_table_options_mysql(element: SetTableOptions, compiler: Any, **kw: Any) -> str:
    """Options as CREATE TABLE spells them; None is the server's default. A charset or collation
    change converts the columns too (CONVERT TO), as a table created so would have them."""
    options = dict(element.table_options)
    parts = []
    if "mysql_charset" in options or "mysql_collate" in options:
        options.pop("mysql_charset", None), options.pop("mysql_collate", None)
        charset, collate = element.after.get("mysql_charset"), element.after.get("mysql_collate")
        parts.append(f"CONVERT TO CHARACTER SET {charset or 'DEFAULT'}" + (f" COLLATE {collate}" if collate and charset else ""))
    partitioning = "mysql_partition_by" in options
    partition_by = options.pop("mysql_partition_by", None)
    for key, value in options.items():
        word = key.removeprefix("mysql_").upper()
        parts.append(f"{word}={value if value is not None else ('InnoDB' if word == 'ENGINE' else 'DEFAULT')}")
    # Partitioning comes after the other changes, without a comma; the rows are moved, none lost.
    repartition = ([f"PARTITION BY {partition_by}"] if partition_by else ["REMOVE PARTITIONING"]) if partitioning else []
    return " ".join([f"ALTER TABLE {_table(compiler, element.table)}", *([", ".join(parts)] if parts else []), *repartition])


# --- views (render.py from snapshots; devdb.py from the models' SELECT) -----------------------------


class CreateView(ExecutableDDLElement):
    """CREATE [MATERIALIZED] VIEW name AS definition; `definition` is SQL text, or a SELECT compiled with its values inline."""

    def __init__(self, view: sa.Table, definition: Any, materialized: bool = False) -> None:
        self.view, self.definition, self.materialized = view, definition, materialized


class DropView(ExecutableDDLElement):
    def __init__(self, view: sa.Table, materialized: bool = False) -> None:
        self.view, self.materialized = view, materialized


@compiles(CreateView)
def _create_view(element: CreateView, compiler: Any, **kw: Any) -> str:
    """A materialized view is filled when created (PostgreSQL's default, said out loud)."""
    definition = element.definition
    if not isinstance(definition, str):
        definition = compiler.sql_compiler.process(definition, literal_binds=True)
    kind, data = ("MATERIALIZED VIEW", " WITH DATA") if element.materialized else ("VIEW", "")
    return f"CREATE {kind} {_table(compiler, element.view)} AS {definition}{data}"


@compiles(DropView)
def _drop_view(element: DropView, compiler: Any, **kw: Any) -> str:
    return f"DROP {'MATERIALIZED VIEW' if element.materialized else 'VIEW'} {_table(compiler, element.view)}"


def create_view_of(view: Any) -> CreateView:
    """The CREATE VIEW a declared view (view.View) sends: its SELECT compiled with its values inline."""
    return CreateView(sa.Table(view.name, sa.MetaData(), schema=view.schema), view.selectable, view.materialized)
