"""PostgreSQL's catalog in bulk: six plain queries on pg_catalog for any number of tables.

SQLAlchemy's PostgreSQL reflection is already one query per kind of object; what it costs is
building those queries as SQL expressions, joining pg_attribute for every key element on the
server, reading rows as mappings and parsing every column's type anew. Here the queries are plain
text, keys and indexes arrive as column numbers named from the columns already read, rows are
tuples, and each distinct type text is parsed once, by SQLAlchemy's own parser
(`PGDialect._reflect_type`, with its loader of enums and domains), so the types agree with the
Inspector's by construction. The rest follows what the Inspector reports:

- a foreign key's referred schema is given only when the referred table is not visible in the
  search path (as `pg_get_constraintdef` qualifies it), or when it is the schema being read;
- its referential actions are the ones `pg_get_constraintdef` would print, NO ACTION being no
  option;
- a check's text is `pg_get_constraintdef`'s `CHECK (...)` body, one layer of parentheses off;
- a serial column (a `nextval(...)` default on an integer type) or an identity is autoincrement,
  and a sequence default read from a named schema names that schema;
- indexes behind a primary key, unique or exclusion constraint are marked as such.

Assumptions: PostgreSQL 12 or later (`attgenerated`), SQLAlchemy 2.1's type parser; otherwise
the Inspector is used. https://www.postgresql.org/docs/current/catalogs.html
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import types as sqltypes

from schemasync.dialects.catalog import Catalog, Memo, strip_outer_parens

try:  # the Inspector's own type parser, and its lazy loader of enums and domains
    from sqlalchemy.dialects.postgresql.base import DOMAIN, PGDialect, _NamedTypeLoader
except ImportError:  # pragma: no cover (another SQLAlchemy)
    _NamedTypeLoader = None  # type: ignore[assignment,misc]  # the optional-import idiom: supported() tests for None

_TABLES = """
SELECT c.oid, c.relname, d.description
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description AS d
  ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_catalog.pg_class'::regclass
WHERE c.relkind IN ('r', 'p', 'f') AND c.relpersistence <> 't' AND {scope}
"""
_IN_SEARCH_PATH = "pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog'"
_IN_SCHEMA = "n.nspname = %(schema)s"

_COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attnotnull, d.description, a.attgenerated,
       a.attidentity <> '', co.collname,
       CASE WHEN pg_catalog.pg_collation_is_visible(co.oid) THEN NULL ELSE cn.nspname END,
       CASE WHEN a.attidentity IN ('a', 'd') THEN (
         SELECT ARRAY[a.attidentity = 'a', s.seqcycle]::text || ARRAY[s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache]::text
         FROM pg_catalog.pg_depend AS dep JOIN pg_catalog.pg_sequence AS s ON s.seqrelid = dep.objid
         WHERE dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i'
           AND dep.classid = 'pg_catalog.pg_class'::regclass LIMIT 1) END
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef AS ad ON a.atthasdef AND ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description AS d ON d.objoid = a.attrelid AND d.objsubid = a.attnum
LEFT JOIN pg_catalog.pg_collation AS co
  ON co.oid = a.attcollation AND a.attcollation <> 0 AND a.attcollation <> t.typcollation
LEFT JOIN pg_catalog.pg_namespace AS cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY(%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
# Keys and indexes come with their column numbers; names are looked up here (joining
# pg_attribute per element costs the server more than the rest of the read).
_KEYS = """
SELECT con.conrelid, con.contype, con.conname, i.indkey::int2[], i.indnkeyatts, {nulls_not_distinct}
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_index AS i ON i.indexrelid = con.conindid
WHERE con.contype IN ('p', 'u') AND con.conrelid = ANY(%(oids)s::oid[])
ORDER BY con.conrelid, con.conname
"""
_INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS con
               WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')),
       i.indkey::int2[], i.indnkeyatts, i.indisvalid,
       i.indoption::int2[], am.amname, pg_catalog.pg_get_expr(i.indpred, i.indrelid), ic.reloptions, {nulls_not_distinct},
       CASE WHEN i.indexprs IS NOT NULL THEN ARRAY(
         SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k + 1, true) FROM generate_series(0, i.indnkeyatts - 1) AS k ORDER BY k) END,
       ARRAY(SELECT oc.opcname FROM generate_series(0, i.indnkeyatts - 1) AS k
             LEFT JOIN pg_catalog.pg_opclass AS oc ON oc.oid = i.indclass[k] AND NOT oc.opcdefault ORDER BY k)
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am AS am ON am.oid = ic.relam
WHERE i.indrelid = ANY(%(oids)s::oid[]) AND NOT i.indisprimary
ORDER BY i.indrelid, ic.relname
"""
# Actions from their codes; pg_get_constraintdef only for ON DELETE SET NULL/DEFAULT (columns),
# PostgreSQL 15's form, whose column list it spells.
_FOREIGN_KEYS = """
SELECT con.conrelid, con.conname, con.conkey, con.confrelid, con.confkey, rc.relname, rn.nspname,
       pg_catalog.pg_table_is_visible(rc.oid), con.confupdtype, con.confdeltype, {set_columns}, con.condeferrable, con.condeferred, con.confmatchtype
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_class AS rc ON rc.oid = con.confrelid
JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
WHERE con.contype = 'f' AND con.conrelid = ANY(%(oids)s::oid[])
ORDER BY con.conrelid, con.conname
"""
_SET_COLUMNS = "CASE WHEN con.confdelsetcols IS NOT NULL THEN pg_catalog.pg_get_constraintdef(con.oid, true) END"
_CHECKS = """
SELECT con.conrelid, con.conname, pg_catalog.pg_get_constraintdef(con.oid, true)
FROM pg_catalog.pg_constraint AS con
WHERE con.contype = 'c' AND con.conrelid = ANY(%(oids)s::oid[])
ORDER BY con.conrelid, con.conname
"""
# Column names the tables read do not have (a referred table elsewhere, a system column).
_ATTNAMES = """
SELECT a.attrelid, a.attnum, a.attname FROM pg_catalog.pg_attribute AS a
JOIN unnest(%(relids)s::oid[], %(attnums)s::int2[]) AS k(relid, attnum) ON a.attrelid = k.relid AND a.attnum = k.attnum
"""
# pg_constraint.confupdtype/confdeltype, as pg_get_constraintdef spells them; NO ACTION is no option.
_ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_MATCHES = {"f": "FULL", "p": "PARTIAL"}

_ACTION = re.compile(r"ON (UPDATE|DELETE) (CASCADE|RESTRICT|NO ACTION|SET (?:NULL|DEFAULT)(?: \([^)]*\))?)")
_CHECK = re.compile(r"^CHECK *\((.+)\)( NO INHERIT)?( NOT VALID)?$", re.DOTALL)
_NEXTVAL = re.compile(r"(nextval\(')([^']+)('.*$)")


def supported(connection: sa.Connection) -> bool:
    dialect = connection.dialect
    return _NamedTypeLoader is not None and isinstance(dialect, PGDialect) and (dialect.server_version_info or ()) >= (12,)


def read(connection: sa.Connection, schema: str | None, names: list[str]) -> Catalog:
    """The tables `names` of `schema` (None: the search path), as SQLAlchemy's Inspector would describe them."""
    wanted = set(names)
    scope = _IN_SCHEMA if schema is not None else _IN_SEARCH_PATH
    tables = {oid: (name, comment) for oid, name, comment in _rows(connection, _TABLES.format(scope=scope), {"schema": schema}) if name in wanted}
    by_oid = {oid: name for oid, (name, _) in tables.items()}
    catalog = Catalog.empty(names, dict(tables.values()))
    oids = {"oids": list(by_oid)}
    attnames = _columns(catalog, connection, by_oid, oids, schema)
    nulls_not_distinct = "i.indnullsnotdistinct" if (connection.dialect.server_version_info or ()) >= (15,) else "false"
    keys = _rows(connection, _KEYS.format(nulls_not_distinct=nulls_not_distinct), oids)
    indexes = _rows(connection, _INDEXES.format(nulls_not_distinct=nulls_not_distinct), oids)
    set_columns = _SET_COLUMNS if (connection.dialect.server_version_info or ()) >= (15,) else "NULL"
    foreign_keys = _rows(connection, _FOREIGN_KEYS.format(set_columns=set_columns), oids)
    wanted_numbers = [(relid, n) for relid, _, _, numbers, *_ in keys for n in numbers]
    wanted_numbers += [(relid, n) for relid, _, _, _, numbers, *_ in indexes for n in numbers if n]
    wanted_numbers += [pair for relid, _, mine, other, theirs, *_ in foreign_keys for pair in [*((relid, n) for n in mine), *((other, n) for n in theirs)]]
    _look_up(connection, attnames, wanted_numbers)
    for relid, kind, name, numbers, count, nulls_not_distinct in keys:
        columns = [attnames[(relid, n)] for n in numbers]
        if kind == "p":
            catalog.primary_keys[by_oid[relid]] = {"constrained_columns": columns[:count], "name": name}
        else:
            options = {"postgresql_include": columns[count:], "postgresql_nulls_not_distinct": nulls_not_distinct}
            catalog.uniques[by_oid[relid]].append({"column_names": columns[:count], "name": name, "dialect_options": options})
    for relid, name, unique, backs_constraint, numbers, count, valid, *details in indexes:
        index = _index(name, unique, [attnames[(relid, n)] if n else None for n in numbers], count, valid, *details)
        if backs_constraint:
            index["duplicates_constraint"] = name
        catalog.indexes[by_oid[relid]].append(index)
    for relid, name, mine, other, theirs, *referred in foreign_keys:
        column_lists = [attnames[(relid, n)] for n in mine], [attnames[(other, n)] for n in theirs]
        catalog.foreign_keys[by_oid[relid]].append(_foreign_key(schema, name, *column_lists, *referred))
    for relid, name, definition in _rows(connection, _CHECKS, oids):
        match = _CHECK.match(definition)
        catalog.checks[by_oid[relid]].append({"name": name, "sqltext": strip_outer_parens(match.group(1)) if match else ""})
    return catalog


def _index(
    name: str, unique: bool, elements: list[str | None], count: int, valid: bool, flags: list[int], method: str,
    where: str | None, reloptions: list[str] | None, nulls_not_distinct: bool, expressions: list[str] | None, opclasses: list[str | None],
) -> dict[str, Any]:
    """One index as the Inspector reports it: expression parts by their text, sorting flags, options."""
    keys, included = elements[:count], elements[count:]
    index: dict[str, Any] = {"name": name, "unique": unique, "column_names": keys}
    if expressions is not None and None in keys:
        keys = [column if column is not None else expression for column, expression in zip(keys, expressions)]
        index["expressions"] = keys
    options: dict[str, Any] = {}
    ops = {part: opclass for part, opclass in zip(keys, opclasses) if opclass is not None}
    if ops:
        options["postgresql_ops"] = ops
    sorting = {part: _sorting(flag) for part, flag in zip(keys, flags) if _sorting(flag)}
    if sorting:
        index["column_sorting"] = sorting
    if reloptions:
        options["postgresql_with"] = dict(option.split("=", 1) for option in reloptions)
    if method != "btree":
        options["postgresql_using"] = method
    if where:
        options["postgresql_where"] = where
    options["postgresql_include"] = included
    if nulls_not_distinct:
        options["postgresql_nulls_not_distinct"] = True
    if not valid:  # online mode: a failed CONCURRENTLY build
        options["postgresql_invalid"] = True
    index["dialect_options"] = options
    return index


def _sorting(flag: int) -> tuple[str, ...]:
    """pg_index.indoption bits (1: DESC, 2: NULLS FIRST), as the Inspector names what differs from the default."""
    if flag & 1:
        return ("desc",) if flag & 2 else ("desc", "nulls_last")
    return ("nulls_first",) if flag & 2 else ()


def _look_up(connection: sa.Connection, attnames: dict[tuple[int, int], str], pairs: list[tuple[int, int]]) -> None:
    """Add the names of (table, column number) pairs the columns read did not cover."""
    missing = sorted({pair for pair in pairs if pair not in attnames})
    if missing:
        found = _rows(connection, _ATTNAMES, {"relids": [r for r, _ in missing], "attnums": [n for _, n in missing]})
        attnames.update(((relid, number), name) for relid, number, name in found)


def _rows(connection: sa.Connection, sql: str, parameters: dict[str, Any]) -> list[tuple]:
    return [tuple(row) for row in connection.exec_driver_sql(sql, parameters)]


def _columns(catalog: Catalog, connection: sa.Connection, by_oid: dict[int, str], oids: dict[str, Any], schema: str | None) -> dict[tuple[int, int], str]:
    """Fill in the columns; return their names by (table oid, column number)."""
    dialect = connection.dialect
    assert isinstance(dialect, PGDialect), "read only when supported()"
    loader = _NamedTypeLoader(dialect, connection, {})
    parse = Memo(lambda text, collation, collation_schema: _type(dialect, loader, text, collation, collation_schema))
    attnames = {}
    for oid, number, name, text, default, notnull, comment, generated, identity, collation, collation_schema, sequence in _rows(connection, _COLUMNS, oids):
        attnames[(oid, number)] = name
        coltype, integer = parse(text, collation, collation_schema)
        nullable = not notnull
        if isinstance(coltype, DOMAIN):
            if not default and coltype.default is not None:
                default = coltype.default
            nullable = nullable and not coltype.not_null
        computed = None
        if generated not in (None, "", b"\x00"):
            # a generated column's expression is not a default; 's': stored (the only kind before PostgreSQL 18)
            computed, default = {"sqltext": default, "persisted": generated in ("s", b"s")}, None
        autoincrement = False
        if default is not None:
            serial = _NEXTVAL.search(default)
            if serial is not None:
                autoincrement = integer
                if "." not in serial.group(2) and schema is not None:
                    default = f'{serial.group(1)}"{schema}".{serial.group(2)}{serial.group(3)}'
        column = {"name": name, "type": coltype, "nullable": nullable, "default": default, "autoincrement": autoincrement or identity, "comment": comment}
        if computed is not None:
            column["computed"] = computed
        if sequence is not None:
            column["identity"] = _identity(sequence)
        catalog.columns[by_oid[oid]].append(column)
    return attnames


def _identity(text: str) -> dict[str, Any]:
    """`{t,f}{1,1,1,2147483647,1}` (always, cycle; start, increment, min, max, cache) as the Inspector's identity dict."""
    flags, numbers = text[1:].split("}{")
    always, cycle = (flag in ("t", "true") for flag in flags.split(","))
    start, increment, minvalue, maxvalue, cache = (int(n) for n in numbers.rstrip("}").split(","))
    return {"always": always, "start": start, "increment": increment, "minvalue": minvalue, "maxvalue": maxvalue, "cache": cache, "cycle": cycle}


def _type(dialect: Any, loader: Any, text: str, collation: str | None, collation_schema: str | None) -> tuple[sqltypes.TypeEngine, bool]:
    """The type SQLAlchemy's PostgreSQL reflection makes of `format_type()` text, and whether it is an integer."""
    coltype = dialect._reflect_type(text, loader, type_description="column", collation=collation, collation_schema=collation_schema)
    return coltype, issubclass(coltype._type_affinity, sqltypes.Integer)


def _foreign_key(
    schema: str | None, name: str, columns: list[str], referred_columns: list[str], referred: str, referred_schema: str | None, visible: bool,
    on_update: str, on_delete: str, definition: str | None, deferrable: bool = False, deferred: bool = False, match_type: str = "s",
) -> dict[str, Any]:
    if visible:
        referred_schema = schema if schema is not None and schema == referred_schema else None
    options: dict[str, Any] = {"onupdate": _ACTIONS.get(on_update), "ondelete": _ACTIONS.get(on_delete)}
    if definition is not None:  # ON DELETE SET NULL (columns): as pg_get_constraintdef spells it
        options.update(("on" + event.lower(), action) for event, action in _ACTION.findall(definition))
    if deferrable:  # as the Inspector reads DEFERRABLE [INITIALLY DEFERRED] from pg_get_constraintdef
        options.update(deferrable=True, initially="DEFERRED" if deferred else None)
    options["match"] = _MATCHES.get(match_type)  # pg_constraint.confmatchtype; SIMPLE is no option
    return {
        "name": name,
        "constrained_columns": columns,
        "referred_schema": referred_schema,
        "referred_table": referred,
        "referred_columns": referred_columns,
        "options": {option: action for option, action in options.items() if action is not None and action != "NO ACTION"},
    }
