"""PostgreSQL's schema-level objects: enum types (values in order) and sequences that stand alone.

One reader for both read paths (SQLAlchemy's Inspector lists enums but no sequence options), so the
catalog reader and the Inspector cannot disagree about them. A sequence that belongs to a column
(SERIAL's, pg_depend 'a'; an identity's, 'i') is part of that column, not listed here.
https://www.postgresql.org/docs/current/catalog-pg-enum.html,
https://www.postgresql.org/docs/current/catalog-pg-sequence.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlalchemy as sa

from schemasync.snapshot import EnumType, SequenceDef, by_key

_ENUMS = """
SELECT n.nspname, t.typname, array_remove(array_agg(e.enumlabel::text ORDER BY e.enumsortorder), NULL)
FROM pg_catalog.pg_type AS t
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_enum AS e ON e.enumtypid = t.oid
WHERE t.typtype = 'e' AND n.nspname = ANY(%(schemas)s)
GROUP BY n.nspname, t.typname
"""
_SEQUENCES = """
SELECT n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
FROM pg_catalog.pg_sequence AS s
JOIN pg_catalog.pg_class AS c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                    AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i'))
"""


def read_objects(
    connection: sa.Connection, schemas: Mapping[str | None, str | None], keep: Callable[[str | None, str], bool]
) -> tuple[tuple[EnumType, ...], tuple[SequenceDef, ...]]:
    """The enum types and standalone sequences of the given schemas ({schema in the database: schema to report})."""
    default = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
    logical = {(db if db is not None else default): name for db, name in schemas.items()}
    parameters = {"schemas": sorted(logical)}
    enums = [
        EnumType(name, tuple(values), logical[schema])
        for schema, name, values in connection.exec_driver_sql(_ENUMS, parameters)
        if keep(logical[schema], name)
    ]
    sequences = [
        SequenceDef(name, logical[schema], data_type, int(start), int(increment), int(low), int(high), int(cache), bool(cycle))
        for schema, name, data_type, start, increment, low, high, cache, cycle in connection.exec_driver_sql(_SEQUENCES, parameters)
        if keep(logical[schema], name)
    ]
    return tuple(sorted(enums, key=by_key)), tuple(sorted(sequences, key=by_key))
