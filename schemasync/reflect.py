"""Read a live schema into a normalised Snapshot, reading the catalog in bulk.

The same function reads the real database and the scratch copy of the models, so both sides
go through one reflection and one normaliser (compare like with like). Each dialect reads its
catalog with a few bulk queries (`Dialect.read_catalog`, catalog_<dialect>.py); SQLAlchemy's
`Inspector.get_multi_*` is the reference reader, used where a dialect has no bulk reader and by
the tests that check the two agree. Both hand over the same `Catalog` shapes, turned into Tables
by one piece of code here.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from schemasync.catalog import Catalog
from schemasync.dialects import Dialect
from schemasync.snapshot import (
    Check,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Snapshot,
    Table,
    Unique,
    View,
    table_sort_key,
    view_sort_key,
)

SchemaMap = Mapping[str | None, str | None]


def unmanaged_parts(snapshot: Snapshot) -> list[str]:
    """Parts of managed tables that reflection saw but schemasync leaves alone."""
    return [part for table in snapshot.tables for part in table.unmanaged_parts]


def reflect(
    connection: sa.Connection,
    dialect: Dialect,
    schemas: SchemaMap,
    keep: Callable[[str | None, str], bool] = lambda schema, name: True,
    use_catalog: bool = True,
) -> Snapshot:
    """Reflect every table of the given schemas ({schema in the database: schema to report}).

    `use_catalog=False` reads through SQLAlchemy's Inspector only (the reference). A fresh
    Inspector each call: Inspectors memoise, and the schema may have changed since.
    """
    inspector = sa.inspect(connection)
    tables: list[Table] = []
    views: list[View] = []
    for db_schema, logical in schemas.items():
        names = [n for n in inspector.get_table_names(schema=db_schema) if keep(logical, n)]
        if names:
            tables += read_tables(connection, inspector, dialect, db_schema, logical, names, schemas, use_catalog=use_catalog)
        views += read_views(connection, dialect, db_schema, logical, schemas, keep)
    snapshot = Snapshot(dialect.name, tuple(sorted(tables, key=table_sort_key)), tuple(sorted(views, key=view_sort_key)))
    return dialect.normalize(snapshot)


def read_views(
    connection: sa.Connection, dialect: Dialect, db_schema: str | None, logical: str | None, schemas: SchemaMap, keep: Callable[[str | None, str], bool]
) -> list[View]:
    """The views of one schema that `keep` accepts, normalised (the same query on both reading paths)."""
    found = (replace(v, schema=logical) for v in dialect.read_views(connection, db_schema) if keep(logical, v.name))
    return [dialect.normalize_view(v, schemas) for v in found]


def other_objects(connection: sa.Connection, dialect: Dialect, schemas: SchemaMap) -> list[str]:
    """What a schema holds that schemasync does not manage (triggers, functions, policies, grants), for honest reports.
    Views the models do not declare are listed by the caller (scope.unmanaged_views): they are in the snapshot."""
    found = []
    for db_schema, logical in schemas.items():
        prefix = f"{logical}." if logical else ""
        found += [_in_schema(item, prefix) for item in dialect.other_objects(connection, db_schema)]
    return sorted(found)


def _in_schema(item: str, prefix: str) -> str:
    kind, _, name = item.partition(" ")
    return f"{kind} {prefix}{name}" if prefix else item


def read_tables(
    connection: sa.Connection,
    inspector: sa.Inspector,
    dialect: Dialect,
    db_schema: str | None,
    logical: str | None,
    names: list[str],
    schemas: SchemaMap,
    use_catalog: bool = True,
) -> list[Table]:
    """The tables `names` of one schema, unnormalised: the dialect's bulk reader, else the Inspector's."""
    catalog = dialect.read_catalog(connection, db_schema, names) if use_catalog else None
    if catalog is None:
        catalog = inspector_catalog(inspector, dialect, db_schema, names)
    return _tables(catalog, dialect, logical, names, schemas)


def inspector_catalog(inspector: sa.Inspector, dialect: Dialect, db_schema: str | None, names: list[str]) -> Catalog:
    """The reference reader: SQLAlchemy's bulk reflection (`Inspector.get_multi_*`)."""

    def multi(method: str) -> dict[str, Any]:
        try:
            with warnings.catch_warnings():
                # SQLite warns about expression indexes it skips; they are reported as unmanaged below.
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                found = getattr(inspector, method)(schema=db_schema, filter_names=names)
        except NotImplementedError:
            return {}
        return {key[1]: value for key, value in found.items()}

    comments = multi("get_multi_table_comment") if dialect.has_comments else {}
    return Catalog(
        columns=multi("get_multi_columns"),
        primary_keys=multi("get_multi_pk_constraint"),
        foreign_keys=multi("get_multi_foreign_keys"),
        indexes=multi("get_multi_indexes"),
        uniques=multi("get_multi_unique_constraints"),
        checks=multi("get_multi_check_constraints"),
        comments={name: (value or {}).get("text") for name, value in comments.items()},
    )


def _tables(catalog: Catalog, dialect: Dialect, logical: str | None, names: list[str], schemas: SchemaMap) -> list[Table]:
    """Tables from a catalog; constraints carry the server's names twice (`db_name` keeps them when normalising drops `name`)."""
    type_text = _TypeTexts(dialect)
    tables = []
    for name in names:
        indexes = catalog.indexes.get(name) or []
        tables.append(Table(
            name=name,
            schema=logical,
            columns=tuple(_column(c, type_text) for c in catalog.columns.get(name) or []),
            primary_key=_primary_key(catalog.primary_keys.get(name)),
            foreign_keys=tuple(_foreign_key(fk, schemas) for fk in catalog.foreign_keys.get(name) or []),
            uniques=tuple(Unique(tuple(u["column_names"]), u.get("name"), u.get("name")) for u in catalog.uniques.get(name) or []),
            indexes=tuple(_index(i) for i in indexes if _is_plain_index(i) and not _is_invalid(i)),
            invalid_indexes=tuple(_index(i) for i in indexes if _is_plain_index(i) and _is_invalid(i)),
            checks=tuple(Check(c["sqltext"], c.get("name"), c.get("name")) for c in catalog.checks.get(name) or []),
            comment=catalog.comments.get(name) if dialect.has_comments else None,
            unmanaged_parts=tuple(
                f"expression index {i['name']} on {_qualified(logical, name)}"
                for i in indexes if not _is_plain_index(i) and not i.get("duplicates_constraint")
            ),
        ))
    return tables


class _TypeTexts:
    """Each type object's text once: a bulk reader shares one object among the columns of one type."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._seen: dict[int, tuple[Any, str]] = {}

    def __call__(self, type_object: Any) -> str:
        seen = self._seen.get(id(type_object))
        if seen is None:
            # The object is kept with its text, so its id cannot be reused while this lives.
            seen = self._seen[id(type_object)] = (type_object, self._dialect.type_text(type_object))
        return seen[1]


def _qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _column(data: dict[str, Any], type_text: Callable[[Any], str]) -> Column:
    return Column(
        name=data["name"],
        type=type_text(data["type"]),
        nullable=bool(data["nullable"]),
        default=data.get("default"),
        autoincrement=data.get("autoincrement") is True,
        comment=data.get("comment"),
        type_object=data["type"],
    )


def _primary_key(data: dict[str, Any] | None) -> PrimaryKey | None:
    if not data or not data.get("constrained_columns"):
        return None
    return PrimaryKey(tuple(data["constrained_columns"]), data.get("name"), data.get("name"))


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
        db_name=data.get("name"),
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
