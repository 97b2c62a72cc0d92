"""Read a live schema into a normalised Snapshot with SQLAlchemy's bulk (`get_multi_*`) reflection.

The same function reads the real database and the scratch copy of the models, so both sides
go through one reflection and one normaliser (compare like with like).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from schemasync.dialects import Dialect
from schemasync.snapshot import Check, Column, ForeignKey, Index, PrimaryKey, Snapshot, Table, Unique, table_sort_key

SchemaMap = Mapping[str | None, str | None]


def unmanaged_parts(snapshot: Snapshot) -> list[str]:
    """Parts of managed tables that reflection saw but schemasync leaves alone."""
    return [part for table in snapshot.tables for part in table.unmanaged_parts]


def reflect(
    connection: sa.Connection,
    dialect: Dialect,
    schemas: SchemaMap,
    keep: Callable[[str | None, str], bool] = lambda schema, name: True,
) -> Snapshot:
    """Reflect every table of the given schemas ({schema in the database: schema to report}).

    A fresh Inspector each call: Inspectors memoise, and the schema may have changed since.
    """
    inspector = sa.inspect(connection)
    tables: list[Table] = []
    for db_schema, logical in schemas.items():
        names = [n for n in inspector.get_table_names(schema=db_schema) if keep(logical, n)]
        if names:
            tables += _reflect_schema(inspector, dialect, db_schema, logical, names, schemas)
    return dialect.normalize(Snapshot(dialect.name, tuple(sorted(tables, key=table_sort_key))))


def other_objects(connection: sa.Connection, schemas: SchemaMap) -> list[str]:
    """Objects reflection sees that schemasync does not manage yet (views), for honest reports."""
    inspector = sa.inspect(connection)
    found = []
    for db_schema, logical in schemas.items():
        for view in inspector.get_view_names(schema=db_schema):
            found.append(f"view {logical + '.' if logical else ''}{view}")
    return sorted(found)


def _reflect_schema(
    inspector: sa.Inspector, dialect: Dialect, db_schema: str | None, logical: str | None, names: list[str], schemas: SchemaMap
) -> list[Table]:
    def multi(method: str, default: Any) -> dict[str, Any]:
        try:
            with warnings.catch_warnings():
                # SQLite warns about expression indexes it skips; they are reported as unmanaged below.
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                found = getattr(inspector, method)(schema=db_schema, filter_names=names)
        except NotImplementedError:
            return {}
        return {key[1]: value for key, value in found.items()}

    columns = multi("get_multi_columns", [])
    pks = multi("get_multi_pk_constraint", None)
    fks = multi("get_multi_foreign_keys", [])
    indexes = multi("get_multi_indexes", [])
    uniques = multi("get_multi_unique_constraints", [])
    checks = multi("get_multi_check_constraints", [])
    comments = multi("get_multi_table_comment", None) if dialect.has_comments else {}
    return [
        Table(
            name=name,
            schema=logical,
            columns=tuple(_column(c, dialect) for c in columns.get(name, [])),
            primary_key=_primary_key(pks.get(name)),
            foreign_keys=tuple(_foreign_key(fk, schemas) for fk in fks.get(name, [])),
            uniques=tuple(Unique(tuple(u["column_names"]), u.get("name")) for u in uniques.get(name, [])),
            indexes=tuple(_index(i) for i in indexes.get(name, []) if _is_plain_index(i) and not _is_invalid(i)),
            invalid_indexes=tuple(_index(i) for i in indexes.get(name, []) if _is_plain_index(i) and _is_invalid(i)),
            checks=tuple(Check(c["sqltext"], c.get("name")) for c in checks.get(name, [])),
            comment=(comments.get(name) or {}).get("text"),
            unmanaged_parts=tuple(
                f"expression index {i['name']} on {_qualified(logical, name)}"
                for i in indexes.get(name, []) if not _is_plain_index(i) and not i.get("duplicates_constraint")
            ),
        )
        for name in names
    ]


def _qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _column(data: dict[str, Any], dialect: Dialect) -> Column:
    return Column(
        name=data["name"],
        type=dialect.type_text(data["type"]),
        nullable=bool(data["nullable"]),
        default=data.get("default"),
        autoincrement=data.get("autoincrement") is True,
        comment=data.get("comment"),
        type_object=data["type"],
    )


def _primary_key(data: dict[str, Any] | None) -> PrimaryKey | None:
    if not data or not data.get("constrained_columns"):
        return None
    return PrimaryKey(tuple(data["constrained_columns"]), data.get("name"))


def _foreign_key(data: dict[str, Any], reverse: SchemaMap) -> ForeignKey:
    """Referred schemas are reported in the caller's terms (a scratch schema maps back to the model's)."""
    referred = data.get("referred_schema")
    # None means "in the search path": the default schema, on every dialect.
    referred = reverse.get(referred, referred) if referred is not None else None
    options = data.get("options") or {}
    return ForeignKey(
        columns=tuple(data["constrained_columns"]),
        referred_table=data["referred_table"],
        referred_columns=tuple(data["referred_columns"]),
        referred_schema=referred,
        ondelete=_action(options.get("ondelete")),
        onupdate=_action(options.get("onupdate")),
        name=data.get("name"),
    )


def _action(action: str | None) -> str | None:
    """NO ACTION is the default everywhere: some servers report it, others say nothing."""
    return None if action is None or action.upper() == "NO ACTION" else action.upper()


def _is_plain_index(data: dict[str, Any]) -> bool:
    """Indexes behind a constraint are the constraint's; expression indexes arrive with issue 3."""
    return not data.get("duplicates_constraint") and all(c is not None for c in data.get("column_names", []))


def _is_invalid(data: dict[str, Any]) -> bool:
    """PostgreSQL's INVALID index (pg_index.indisvalid false): left by a failed CREATE INDEX
    CONCURRENTLY, or still being built. Never the index the models ask for."""
    return bool((data.get("dialect_options") or {}).get("postgresql_invalid"))


def _index(data: dict[str, Any]) -> Index:
    return Index(data["name"], tuple(data["column_names"]), bool(data.get("unique")))
