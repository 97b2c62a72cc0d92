"""MariaDB's catalog in bulk: five information_schema queries for any number of tables.

SQLAlchemy reads MySQL and MariaDB with one `SHOW CREATE TABLE` per table and parses its text.
Here `information_schema` is read once per kind of object, and what the Inspector would have made
of the `SHOW CREATE TABLE` text is made from it:

- a column's type is SQLAlchemy's own parse of the type as SHOW CREATE TABLE spells it
  (`COLUMN_TYPE`, plus `CHARACTER SET ... COLLATE ...` where the collation is not the table's),
  once per distinct spelling;
- its default is the text SHOW CREATE TABLE shows (`NULL` is none), with ` ON UPDATE ...` after a
  bare expression; a default the Inspector's pattern does not take (e.g. `concat('a','b')`)
  is none, as there;
- a foreign key's referential action is read only where SHOW CREATE TABLE states one: RESTRICT
  is what InnoDB reports when none was given, and NO ACTION is no option anyway;
- checks are the table-level ones (a column-level CHECK sits in its column's line, where the
  Inspector does not look), sorted by name; indexes and unique keys are sorted by name.

Assumptions: MariaDB (tested on 10.11, whose `CHECK_CONSTRAINTS` has `LEVEL`) and SQLAlchemy's
MySQL table definition parser; MySQL 8 uses the Inspector.
https://mariadb.com/kb/en/information-schema-tables/
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import types as sqltypes

from schemasync.dialects.catalog import Catalog, Memo

try:  # the Inspector's own parser of SHOW CREATE TABLE lines, for types
    from sqlalchemy.dialects.mysql.reflection import ReflectedState
except ImportError:  # pragma: no cover (another SQLAlchemy)
    ReflectedState = None  # type: ignore[assignment,misc]  # the optional-import idiom: callers test for None

_DATABASE = "COALESCE(%(schema)s, DATABASE())"
_TABLES = f"""
SELECT TABLE_NAME, TABLE_COMMENT, TABLE_COLLATION FROM information_schema.TABLES
WHERE TABLE_SCHEMA = {_DATABASE} AND TABLE_TYPE = 'BASE TABLE'
"""
_COLUMNS = f"""
SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
       COLLATION_NAME, CHARACTER_SET_NAME, COLUMN_COMMENT, GENERATION_EXPRESSION
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {_DATABASE}
"""
_KEYS = f"""
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = {_DATABASE} ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
# Two queries joined here: MariaDB evaluates a join of two information_schema views row by row.
_FOREIGN_KEYS = f"""
SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = {_DATABASE} AND REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
"""
_ACTIONS = f"""
SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = {_DATABASE}
"""
_CHECKS = f"""
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = {_DATABASE} AND LEVEL = 'Table' ORDER BY TABLE_NAME, CONSTRAINT_NAME
"""

# What the Inspector's column pattern takes from `DEFAULT ...` in SHOW CREATE TABLE: NULL, a quoted
# literal, a parenthesised expression, or a bare word such as current_timestamp() (with its ON
# UPDATE); what follows must start a new clause. Anything else (e.g. concat('a','b')) is no default.
_BARE = r"[\-\w\.\(\)]+"
_DEFAULT = re.compile(rf"(NULL|'(?:''|[^'])*'|\(.+?\)|{_BARE}(?: +ON UPDATE {_BARE})?)(?: +.*)?", re.IGNORECASE | re.DOTALL)
_ON_UPDATE = re.compile(r"on update (.+)", re.IGNORECASE)
_STATED_ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT")


def supported(connection: sa.Connection) -> bool:
    return ReflectedState is not None and bool(getattr(connection.dialect, "is_mariadb", False))


def read(connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog | None:
    """The tables `names` of database `schema` (None: the connection's), as SQLAlchemy's Inspector
    would describe them; None where information_schema hides something from this role (the caller
    reads through the Inspector: SHOW CREATE TABLE needs only SELECT)."""
    parameters = {"schema": schema}
    wanted = set(names)
    tables = {name: (comment, collation) for name, comment, collation in connection.exec_driver_sql(_TABLES, parameters) if name in wanted}
    catalog = Catalog.empty(names, {name: comment or None for name, (comment, _) in tables.items()})
    parse = Memo(lambda spelling: _type(connection.dialect, spelling))
    # Streamed (an unbuffered cursor), each row made a column as it comes: 65,000 rows held at once
    # cost 20 MB of peak at 5,000 tables. Sorted here rather than by the server, which sorts the
    # view's rows the slow way.
    numbered: dict[str, list[tuple[int, dict[str, Any]]]] = {name: [] for name in tables}
    for table, position, *column in connection.exec_driver_sql(_COLUMNS, parameters, execution_options={"stream_results": True}):
        if table in tables:
            numbered[table].append((position, _column(parse, tables[table][1], *column)))
    for table, columns in numbered.items():
        catalog.columns[table] = [column for _, column in sorted(columns, key=lambda pair: pair[0])]
    _keys(catalog, connection.exec_driver_sql(_KEYS, parameters), tables)
    actions = {(table, name): (on_update, on_delete) for table, name, on_update, on_delete in connection.exec_driver_sql(_ACTIONS, parameters)}
    foreign_keys = [row for row in connection.exec_driver_sql(_FOREIGN_KEYS, parameters) if row[0] in tables]
    if any((row[0], row[1]) not in actions for row in foreign_keys):
        return None  # REFERENTIAL_CONSTRAINTS lists nothing to a role with SELECT only: the actions would be lost
    _foreign_keys(catalog, foreign_keys, actions, tables, schema, _database(connection, schema))
    for table, name, clause in connection.exec_driver_sql(_CHECKS, parameters):
        if table in tables:
            catalog.checks[table].append({"name": name, "sqltext": clause})
    return catalog


def _database(connection: sa.Connection, schema: str | None) -> str | None:
    return schema if schema is not None else connection.exec_driver_sql("SELECT DATABASE()").scalar()


# --- columns ------------------------------------------------------------------------------------


def _type(dialect: Any, spelling: str) -> tuple[sqltypes.TypeEngine, bool]:
    """The type SQLAlchemy's parser makes of a column line with this type spelling, and whether it is an integer."""
    state = ReflectedState()
    dialect._tabledef_parser._parse_column(f"  `c` {spelling},", state)
    coltype = state.columns[0]["type"]
    return coltype, isinstance(coltype, sqltypes.Integer)


def _column(
    parse: Memo, table_collation: str, name: str, column_type: str, is_nullable: str, default: str | None, extra: str,
    collation: str | None, charset: str | None, comment: str, generation: str | None = None,
) -> dict[str, Any]:
    spelling = column_type if collation is None or collation == table_collation else f"{column_type} CHARACTER SET {charset} COLLATE {collation}"
    coltype, integer = parse(spelling)
    column = {"name": name, "type": coltype, "nullable": is_nullable == "YES", "default": _default(default, extra), "comment": comment or None}
    if generation is not None:  # SHOW CREATE TABLE: GENERATED ALWAYS AS (<expression>) VIRTUAL|STORED
        column["computed"] = {"sqltext": f"({generation})", "persisted": "STORED" in extra.upper()}
    if "auto_increment" in extra.lower():
        column["autoincrement"] = True
    elif integer:
        column["autoincrement"] = False
    return column


def _default(default: str | None, extra: str) -> str | None:
    """The default as the Inspector reads it from `DEFAULT <default> [ON UPDATE ...]` in SHOW CREATE TABLE."""
    if default is None:
        return None
    on_update = _ON_UPDATE.search(extra)
    stated = _DEFAULT.fullmatch(f"{default} ON UPDATE {on_update.group(1)}" if on_update else default)
    return None if stated is None or stated.group(1) == "NULL" else stated.group(1)


# --- keys ---------------------------------------------------------------------------------------


def _keys(catalog: Catalog, rows: Any, tables: dict[str, Any]) -> None:
    keys: dict[tuple[str, str], dict[str, Any]] = {}
    for table, name, non_unique, column, sub_part, index_type in rows:
        if table in tables:
            key = keys.setdefault((table, name), {"name": name, "column_names": [], "unique": not non_unique})
            key["column_names"].append(column)
            _index_options(key, column, sub_part, index_type)
    for (table, name), key in keys.items():
        if name == "PRIMARY":
            catalog.primary_keys[table] = {"constrained_columns": key["column_names"], "name": None}
            continue
        catalog.indexes[table].append(key)
        if key["unique"]:
            catalog.uniques[table].append({"name": name, "column_names": key["column_names"], "duplicates_index": name})
    for table in tables:
        catalog.indexes[table].sort(key=lambda k: k["name"])
        catalog.uniques[table].sort(key=lambda k: k["name"])


def _index_options(key: dict[str, Any], column: str, sub_part: int | None, index_type: str) -> None:
    """FULLTEXT / SPATIAL and prefix lengths, as the Inspector reads them from SHOW CREATE TABLE."""
    options = key.setdefault("dialect_options", {})
    if index_type in ("FULLTEXT", "SPATIAL"):
        options["mysql_prefix"] = index_type
    if sub_part is not None:
        options.setdefault("mysql_length", {})[column] = int(sub_part)
    if not options:
        del key["dialect_options"]


def _foreign_keys(
    catalog: Catalog, rows: Any, actions: dict[tuple[str, str], tuple[str, str]], tables: dict[str, Any], schema: str | None, database: str | None
) -> None:
    keys: dict[tuple[str, str], dict[str, Any]] = {}
    for table, name, column, referred_schema, referred, referred_column in rows:
        if table not in tables:
            continue
        key = keys.get((table, name))
        if key is None:
            on_update, on_delete = actions.get((table, name), (None, None))
            options = {option: action for option, action in (("onupdate", on_update), ("ondelete", on_delete)) if action in _STATED_ACTIONS}
            key = keys[(table, name)] = {
                "name": name,
                "constrained_columns": [],
                "referred_schema": schema if referred_schema == database else referred_schema,
                "referred_table": referred,
                "referred_columns": [],
                "options": options,
            }
            catalog.foreign_keys[table].append(key)
        key["constrained_columns"].append(column)
        key["referred_columns"].append(referred_column)
