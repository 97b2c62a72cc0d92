"""SQLite: what neither reader reports alike, read from the schema's own SQL text (both readers).

SQLAlchemy's Inspector skips expression indexes (with a warning), reads a partial index's
predicate by a regular expression and reports no AUTOINCREMENT; the pragmas say none of it. So
for both readers each index's key parts, ordering and predicate are read from its `CREATE INDEX`
text in sqlite_master, the table options (AUTOINCREMENT, WITHOUT ROWID, STRICT) from its
`CREATE TABLE` text with each foreign key's MATCH and deferral, and the triggers on each table are kept (their SQL) so a rebuild can
re-create them. https://www.sqlite.org/lang_createindex.html
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from schemasync.dialects.catalog import Catalog, matching_paren, split_top_level

_OBJECTS = "SELECT type, name, tbl_name, sql FROM {main}.sqlite_master WHERE type IN ('table', 'index', 'trigger') AND sql IS NOT NULL ORDER BY name"
_INDEX_HEAD = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+.*?\bON\s+(?:\"(?:[^\"]|\"\")+\"|`[^`]+`|\[[^\]]+\]|\w+)\s*\(", re.IGNORECASE | re.DOTALL)
_WHERE = re.compile(r"^\s*WHERE\s+(.+?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_ORDER = re.compile(r"\s+(ASC|DESC)$", re.IGNORECASE)
_IDENTIFIER = re.compile(r'^(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|(\w+))$')
_TABLE_OPTIONS = re.compile(r"^\s*((?:WITHOUT\s+ROWID|STRICT)(?:\s*,\s*(?:WITHOUT\s+ROWID|STRICT))*)?\s*;?\s*$", re.IGNORECASE)
_AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.IGNORECASE)
_QUOTED = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*\"""")


def complete(connection: sa.Connection, schema: str | None, names: list[str], catalog: Catalog) -> None:
    """Indexes with their expressions, ordering and predicates; table options; triggers."""
    main = connection.dialect.identifier_preparer.quote_identifier(schema) if schema else "main"
    wanted = set(names)
    parsed: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, name, table, sql in connection.exec_driver_sql(_OBJECTS.format(main=main)):
        if table not in wanted:
            continue
        if kind == "table":
            catalog.options[table] = _table_options(sql)
            _foreign_key_options(catalog.foreign_keys.get(table) or [], sql)
        elif kind == "trigger":
            catalog.triggers.setdefault(table, []).append(sql)
        else:
            index = _index(name, sql)
            if index is not None:
                parsed.setdefault(table, {})[name] = index
    for table, found in parsed.items():
        known = [i for i in catalog.indexes.get(table) or [] if i["name"] not in found]
        catalog.indexes[table] = sorted(known + list(found.values()), key=lambda i: i["name"])


def _foreign_key_options(keys: list[dict[str, Any]], sql: str) -> None:
    """MATCH and deferral of each foreign key, from its clause in the CREATE TABLE text."""
    from schemasync.dialects.sqlite.catalog import key_options

    declared = key_options(sql)
    for key in keys:
        found = declared.get((tuple(key["constrained_columns"]), key["referred_table"], tuple(key["referred_columns"])))
        if found:
            key["options"] = {**(key.get("options") or {}), **found}


def _table_options(sql: str) -> dict[str, Any]:
    start = sql.find("(")
    end = matching_paren(sql, start) if start >= 0 else None
    if end is None:
        return {}
    options: dict[str, Any] = {}
    tail = _TABLE_OPTIONS.match(sql[end + 1:])
    words = (tail.group(1) or "").upper() if tail else ""
    if "ROWID" in words:
        options["sqlite_with_rowid"] = False
    if "STRICT" in words:
        options["sqlite_strict"] = True
    if _AUTOINCREMENT.search(_QUOTED.sub("", sql[start:end])):
        options["sqlite_autoincrement"] = True
    return options


def _index(name: str, sql: str) -> dict[str, Any] | None:
    """An index in the Inspector's shape, from its CREATE INDEX text; None if the text is not understood."""
    head = _INDEX_HEAD.match(sql)
    if head is None:
        return None
    start = head.end() - 1
    end = matching_paren(sql, start)
    if end is None:
        return None
    columns: list[str | None] = []
    expressions: list[str] = []
    sorting: dict[str, tuple[str, ...]] = {}
    for part in split_top_level(sql[start + 1:end]):
        order = _ORDER.search(part)
        text = part[: order.start()].strip() if order else part.strip()
        identifier = _IDENTIFIER.match(text)
        column = next(g for g in identifier.groups() if g is not None).replace('""', '"') if identifier else None
        columns.append(column)
        expressions.append(column if column is not None else text)
        if order and order.group(1).upper() == "DESC":
            sorting[expressions[-1]] = ("desc",)
    index: dict[str, Any] = {"name": name, "unique": bool(re.match(r"\s*CREATE\s+UNIQUE", sql, re.IGNORECASE)), "column_names": columns, "dialect_options": {}}
    if None in columns:
        index["expressions"] = expressions
    if sorting:
        index["column_sorting"] = sorting
    where = _WHERE.match(sql[end + 1:])
    if where:
        index["dialect_options"]["sqlite_where"] = where.group(1)
    return index
