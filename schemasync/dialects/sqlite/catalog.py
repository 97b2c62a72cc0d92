"""SQLite's catalog in bulk: four queries for any number of tables.

SQLAlchemy's SQLite reflection runs several PRAGMAs per table and looks each table's CREATE
statement up in `sqlite_master` with a scan, so its time grows with the square of the number of
tables (bench/sqlite_reflection_repro.py). Here the pragma table-valued functions are joined to
`sqlite_master` once per kind of object (https://www.sqlite.org/pragma.html#pragfunc), and the
CREATE statements are read in one pass.

What the pragmas do not say (constraint names, referential actions, which unique indexes are
UNIQUE constraints, CHECK expressions) is read from the CREATE TABLE text, by the same rules
SQLAlchemy's SQLite dialect applies, so both readers report the same schema:

- a primary key's name is the first `CONSTRAINT <name> PRIMARY KEY` in the statement;
- table-level `FOREIGN KEY` clauses give names and ON DELETE/ON UPDATE; a key the pragma lists
  but the text does not declare that way (an inline REFERENCES) has neither;
- `UNIQUE (...)` clauses, and `<column> <words> UNIQUE` on a column, are UNIQUE constraints when an
  automatic index (`sqlite_autoindex_*`) has their columns;
- every `[CONSTRAINT <name>] CHECK (...)`, table- or column-level, is a check, sorted by name;
- expression indexes are not reported (SQLAlchemy skips them too);
- a generated column's expression is read from its own definition, `AS (...)` with or without
  GENERATED ALWAYS (one departure from SQLAlchemy, which misses the short form: its reader is
  corrected the same way in `SQLiteDialect.complete_inspector_catalog`).

Assumptions: SQLite 3.31 or later (`pragma_table_xinfo`); older versions use the Inspector.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

from schemasync.dialects.catalog import Catalog, Memo, matching_paren

MIN_VERSION = (3, 31)

_TABLES = "SELECT m.name, m.sql FROM {main}.sqlite_master AS m WHERE m.type = 'table'"
_COLUMNS = (
    'SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden'
    " FROM {main}.sqlite_master AS m JOIN pragma_table_xinfo(m.name, {schema}) AS p"
    " WHERE m.type = 'table' ORDER BY m.name, p.cid"
)
_INDEXES = (
    'SELECT m.name, l.name, l."unique", i.name'
    " FROM {main}.sqlite_master AS m JOIN pragma_index_list(m.name, {schema}) AS l"
    " JOIN pragma_index_info(l.name, {schema}) AS i"
    " WHERE m.type = 'table' ORDER BY m.name, l.seq, i.seqno"
)
_FOREIGN_KEYS = (
    'SELECT m.name, f.id, f."table", f."from", f."to"'
    " FROM {main}.sqlite_master AS m JOIN pragma_foreign_key_list(m.name, {schema}) AS f"
    " WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq"
)

# Constraint names as SQLAlchemy's SQLite dialect recognises them: "quoted" or a bare word.
_NAME = r'(?:"(?:[^"]|"")+"|\w+)'
_ANY_QUOTED = r"""(?:"(?:[^"]|"")+"|'(?:[^']|'')+'|`(?:[^`]|``)+`|\[(?:[^\]]|\]\])+\]|\S+)"""
_CONSTRAINT_PK = re.compile(r'CONSTRAINT\s+(?:"(.+?)"|(\w+))\s+PRIMARY\s+KEY', re.IGNORECASE)
_FOREIGN_KEY = re.compile(
    rf"^(?:CONSTRAINT\s+(?P<name>{_NAME})\s+)?FOREIGN\s+KEY\s*\((?P<columns>[^)]*)\)\s*"
    rf"REFERENCES\s+(?P<table>{_NAME})\s*\((?P<referred>[^)]*)\)"
    r"(?P<actions>(?:\s*ON\s+(?:DELETE|UPDATE)\s+(?:SET\s+NULL|SET\s+DEFAULT|CASCADE|RESTRICT|NO\s+ACTION))*)"
    r"(?:\s*MATCH\s+(?P<match>\w+))?"
    r"(?:\s*(?P<deferrable>(?:NOT\s+)?DEFERRABLE))?(?:\s+INITIALLY\s+(?P<initially>DEFERRED|IMMEDIATE))?",
    re.IGNORECASE | re.DOTALL,
)
_ACTION = re.compile(r"ON\s+(DELETE|UPDATE)\s+(SET\s+NULL|SET\s+DEFAULT|CASCADE|RESTRICT|NO\s+ACTION)", re.IGNORECASE)
_TABLE_UNIQUE = re.compile(rf"^(?:CONSTRAINT\s+(?P<name>{_NAME})\s+)?UNIQUE\s*\((?P<columns>[^)]*)\)", re.IGNORECASE | re.DOTALL)
# `<column> <word> [<word> ...] UNIQUE`: only bare words between (a type with arguments is not read).
_INLINE_UNIQUE = re.compile(r'^("[^"]+"|[\[`]?\w+[\]`]?)(?:[\t ]+\w+)+?[\t ]+UNIQUE\b', re.IGNORECASE)
_CHECK = re.compile(rf"(?<![A-Za-z0-9_])(?:CONSTRAINT\s+(?P<name>{_ANY_QUOTED})\s+)?CHECK\s*\(", re.IGNORECASE)
_SIG_NAME = re.compile(r'"(.+?)"|([a-z0-9_]+)', re.IGNORECASE)


def supported(connection: sa.Connection) -> bool:
    return (connection.dialect.server_version_info or ()) >= MIN_VERSION


def read(connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog:
    """The tables `names` of `schema` (None: main), as SQLAlchemy's Inspector would describe them."""
    quote = connection.dialect.identifier_preparer.quote_identifier
    main = quote(schema) if schema else "main"
    args = {"main": main, "schema": "'" + (schema or "main").replace("'", "''") + "'"}
    wanted = set(names)
    sql = {name: text or "" for name, text in connection.exec_driver_sql(_TABLES.format(**args)) if name in wanted}
    catalog = Catalog(columns={name: [] for name in names})
    dialect = connection.dialect
    assert isinstance(dialect, SQLiteDialect), "the SQLite reader is given SQLite connections"
    resolve = Memo(lambda declared, collation=None: with_collation(_type(dialect, declared), collation))
    collations = {name: column_collations(text) for name, text in sql.items()}
    # Every table's primary key: a foreign key that names no referred columns refers to it.
    pk_columns: dict[str, list[tuple[int, str]]] = {}
    for table, name, declared, notnull, default, pk, hidden in connection.exec_driver_sql(_COLUMNS.format(**args)):
        if hidden == 1:
            continue
        if table in wanted:
            column = _column(resolve, name, declared, notnull, default, hidden, collations[table].get(name))
            if hidden:
                column["computed"] = _computed(sql[table], name, persisted=hidden == 3)
            catalog.columns[table].append(column)
        if pk:
            pk_columns.setdefault(table, []).append((pk, name))
    primary_keys = {table: _primary_key(columns, sql.get(table, "")) for table, columns in pk_columns.items()}
    catalog.primary_keys = {name: primary_keys.get(name) for name in names}
    indexes, automatic = _indexes(connection.exec_driver_sql(_INDEXES.format(**args)), wanted)
    pragma_keys = _pragma_foreign_keys(connection.exec_driver_sql(_FOREIGN_KEYS.format(**args)), wanted, primary_keys)
    for name in names:
        elements = list(_elements(sql.get(name, "")))
        catalog.indexes[name] = sorted(indexes.get(name, []), key=lambda i: i["name"])
        catalog.uniques[name] = _uniques(elements, automatic.get(name, {}))
        catalog.foreign_keys[name] = _foreign_keys(elements, pragma_keys.get(name, {}), schema)
        catalog.checks[name] = _checks(elements)
    return catalog


# --- columns ------------------------------------------------------------------------------------


def _type(dialect: SQLiteDialect, declared: str) -> sqltypes.TypeEngine:
    """The type for a declared type name, by SQLite's affinity rules (https://www.sqlite.org/datatype3.html#determination_of_column_affinity),
    known names first (the dialect's `ischema_names`), with the declared numeric arguments."""
    match = re.match(r"([\w ]+)(\(.*?\))?", declared)
    name, arguments = (match.group(1), match.group(2)) if match else ("", "")
    cls = dialect.ischema_names.get(name) or _affinity(name)
    numbers = [int(n) for n in re.findall(r"\d+", arguments or "")]
    try:
        return cls(*numbers)
    except TypeError:
        return cls()


def _affinity(name: str) -> type[sqltypes.TypeEngine]:
    if "INT" in name:
        return sqltypes.INTEGER
    if "CHAR" in name or "CLOB" in name or "TEXT" in name:
        return sqltypes.TEXT
    if "BLOB" in name or not name:
        return sqltypes.NullType
    if "REAL" in name or "FLOA" in name or "DOUB" in name:
        return sqltypes.REAL
    return sqltypes.NUMERIC


def _column(resolve: Memo, name: str, declared: str, notnull: int, default: Any, hidden: int, collation: str | None = None) -> dict[str, Any]:
    declared = declared.upper()
    if hidden:  # a generated column's declared type reads "INTEGER GENERATED ALWAYS"
        declared = re.sub("always", "", re.sub("generated", "", declared, flags=re.IGNORECASE), flags=re.IGNORECASE).strip()
    return {"name": name, "type": resolve(declared, collation), "nullable": not notnull, "default": None if default is None else str(default)}


# `[GENERATED ALWAYS] AS (expr)`: both words are optional (https://www.sqlite.org/gencol.html, syntax).
_GENERATED_AS = re.compile(r"(?<![\w\"`\]])(?:GENERATED\s+ALWAYS\s+)?AS\s*\(", re.IGNORECASE)
_COLUMN_NAME = re.compile(r'"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\S+')


def _computed(sql: str, name: str, persisted: bool) -> dict[str, Any]:
    """A generated column's expression from its definition in the CREATE TABLE text."""
    return {"sqltext": generated_expression(sql, name), "persisted": persisted}


def generated_expression(sql: str, name: str) -> str:
    """The expression of generated column `name`, read from its own definition in the CREATE TABLE
    text, whether it says `GENERATED ALWAYS AS (...)` or only `AS (...)` (SQLAlchemy's Inspector
    reads the first spelling only and reports the other as an empty expression)."""
    for element in _elements(sql):
        first = _COLUMN_NAME.match(element)
        if first is None or _unquote(first.group()).lower() != name.lower() or _NOT_A_COLUMN.match(element):
            continue
        for found in _GENERATED_AS.finditer(element, first.end()):
            if _depth(element[: found.start()]) == 0:
                close = matching_paren(element, found.end() - 1)
                return element[found.end() : close].strip() if close is not None else ""
    return ""


def _depth(text: str) -> int:
    """How many parentheses are open at the end of `text` (quoted text aside)."""
    depth = 0
    for token in _ELEMENT_TOKENS.findall(text):
        depth += {"(": 1, ")": -1}.get(token, 0)
    return depth


_COLUMN_COLLATE = re.compile(r"\bCOLLATE\s+(\"(?:[^\"]|\"\")+\"|'(?:[^']|'')+'|`[^`]+`|\[[^\]]+\]|\w+)", re.IGNORECASE)
_NOT_A_COLUMN = re.compile(r"(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\b", re.IGNORECASE)


def column_collations(sql: str) -> dict[str, str]:
    """Each column's COLLATE clause in a CREATE TABLE statement: no pragma reports it, nor SQLAlchemy.
    https://www.sqlite.org/datatype3.html#collation"""
    found = {}
    for element in _elements(sql):
        name = re.match(r'"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\S+', element)
        collate = _COLUMN_COLLATE.search(element)
        if name and collate and not _NOT_A_COLUMN.match(element):
            found[_unquote(name.group())] = _unquote(collate.group(1))
    return found


def with_collation(type_object: sqltypes.TypeEngine, collation: str | None) -> sqltypes.TypeEngine:
    """The type with the column's collation (text types carry one; SQLite allows it on any column)."""
    if collation is None or not isinstance(type_object, sqltypes.String):
        return type_object
    copied = type_object.copy()
    copied.collation = collation
    return copied


def _primary_key(columns: list[tuple[int, str]], sql: str) -> dict[str, Any] | None:
    if not columns:
        return None
    named = _CONSTRAINT_PK.search(sql)
    return {"constrained_columns": [name for _, name in sorted(columns)], "name": (named.group(1) or named.group(2)) if named else None}


# --- indexes and keys the pragmas list ----------------------------------------------------------


def _indexes(rows: Any, wanted: set[str]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[tuple[str, ...], str]]]:
    """Plain indexes per table, and the automatic (constraint) indexes' column lists."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for table, name, unique, column in rows:
        if table in wanted:
            index = found.setdefault((table, name), {"name": name, "column_names": [], "unique": unique})
            index["column_names"].append(column)
    plain: dict[str, list[dict[str, Any]]] = {}
    automatic: dict[str, dict[tuple[str, ...], str]] = {}
    for (table, name), index in found.items():
        if None in index["column_names"]:
            continue  # an expression index: not reported (as SQLAlchemy)
        if name.startswith("sqlite_autoindex"):
            automatic.setdefault(table, {})[tuple(index["column_names"])] = name
        else:
            plain.setdefault(table, []).append(index)
    return plain, automatic


def _pragma_foreign_keys(rows: Any, wanted: set[str], primary_keys: dict[str, dict[str, Any] | None]) -> dict[str, dict[int, dict[str, Any]]]:
    """Foreign keys as `pragma_foreign_key_list` has them; a key naming no referred column refers to the primary key."""
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for table, key_id, referred, column, referred_column in rows:
        if table not in wanted:
            continue
        keys = found.setdefault(table, {})
        if key_id not in keys:
            pk = primary_keys.get(referred)
            implied = list(pk["constrained_columns"]) if not referred_column and pk else []
            keys[key_id] = {"name": None, "constrained_columns": [], "referred_table": referred, "referred_columns": implied, "options": {}}
        keys[key_id]["constrained_columns"].append(column)
        if referred_column:
            keys[key_id]["referred_columns"].append(referred_column)
    return found


# --- what only the CREATE TABLE text says --------------------------------------------------------


# SQLite's four quotings whole, parentheses, commas, and runs of anything else.
_ELEMENT_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|['"`\[].*|[(),]|[^'"`\[(),]+""", re.DOTALL)


def _elements(sql: str) -> Iterator[str]:
    """The column definitions and table constraints of a CREATE TABLE statement, split at top-level commas."""
    start = sql.find("(")
    end = matching_paren(sql, start) if start >= 0 else None
    if end is None:
        return
    depth, begin = 0, start + 1
    for token in _ELEMENT_TOKENS.finditer(sql, start + 1, end):
        text = token.group()
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif text == "," and depth == 0:
            yield sql[begin : token.start()].strip()
            begin = token.end()
    yield sql[begin:end].strip()


def _unquote(name: str) -> str:
    if name[:1] in "\"'`" and name[-1:] == name[:1]:
        return name[1:-1].replace(name[0] * 2, name[0])
    return name[1:-1] if name[:1] == "[" and name[-1:] == "]" else name


def _signature_names(text: str) -> list[str]:
    """Column names in a parenthesised list: "quoted" or bare words (brackets and backticks fall away)."""
    return [m.group(1) or m.group(2) for m in _SIG_NAME.finditer(text)]


def _foreign_keys(elements: list[str], pragma_keys: dict[int, dict[str, Any]], schema: str | None) -> list[dict[str, Any]]:
    """Names and actions from the table-level FOREIGN KEY clauses, matched to the pragma's keys."""
    by_signature = {(tuple(k["constrained_columns"]), k["referred_table"], tuple(k["referred_columns"])): k for k in pragma_keys.values()}
    keys = []
    for element in elements:
        match = _FOREIGN_KEY.match(element)
        if not match:
            continue
        columns = _signature_names(match["columns"])
        referred = _signature_names(match["referred"])
        key = by_signature.pop((tuple(columns), _unquote(match["table"]), tuple(referred)), None)
        if key is None:
            continue
        key["name"] = _unquote(match["name"]) if match["name"] else None
        key["options"] = _actions(match["actions"])
        keys.append(key)
    keys += by_signature.values()  # inline REFERENCES: no name, no actions read
    for key in keys:
        key["referred_schema"] = schema
    return keys


def key_options(sql: str) -> dict[tuple, dict[str, Any]]:
    """MATCH, [NOT] DEFERRABLE and INITIALLY of each table-level FOREIGN KEY clause of a CREATE TABLE,
    by (columns, referred table, referred columns). SQLite keeps them only in the text (and enforces
    DEFERRABLE); SQLAlchemy's reader misses a DEFERRABLE written after MATCH, so both readers take them from here."""
    found: dict[tuple, dict[str, Any]] = {}
    for element in _elements(sql):
        match = _FOREIGN_KEY.match(element)
        if match:
            signature = (tuple(_signature_names(match["columns"])), _unquote(match["table"]), tuple(_signature_names(match["referred"])))
            options = {"match": match["match"], "initially": match["initially"]}
            options["deferrable"] = "NOT" not in match["deferrable"].upper() if match["deferrable"] else None
            found[signature] = {key: value.upper() if isinstance(value, str) else value for key, value in options.items()}
    return found


def _actions(text: str) -> dict[str, str]:
    options = {}
    for event, action in _ACTION.findall(text):
        action = re.sub(r"\s+", " ", action.upper())
        if action != "NO ACTION":
            options["on" + event.lower()] = action
    return options


def _uniques(elements: list[str], automatic: dict[tuple[str, ...], str]) -> list[dict[str, Any]]:
    """UNIQUE clauses (table-level first, then on columns) that an automatic index backs."""
    declared: list[tuple[str | None, list[str]]] = []
    for element in elements:
        match = _TABLE_UNIQUE.match(element)
        if match:
            declared.append((_unquote(match["name"]) if match["name"] else None, _signature_names(match["columns"])))
    for element in elements:
        inline = _INLINE_UNIQUE.match(element)
        if inline and not _TABLE_UNIQUE.match(element):
            declared.append((None, _signature_names(inline.group(1))))
    remaining = dict(automatic)
    uniques = []
    for name, columns in declared:
        if remaining.pop(tuple(columns), None) is not None:
            uniques.append({"name": name, "column_names": columns})
    return uniques


def _checks(elements: list[str]) -> list[dict[str, Any]]:
    """Every CHECK, on the table or on a column, with its name when CONSTRAINT gives one."""
    checks = []
    for element in elements:
        for match in _CHECK.finditer(element):
            close = matching_paren(element, match.end() - 1)
            if close is not None:
                name = _unquote(match["name"]) if match["name"] else None
                checks.append({"name": name, "sqltext": element[match.end() : close].strip()})
    return sorted(checks, key=lambda c: c["name"] or "~")
