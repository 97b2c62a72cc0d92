"""Read a live schema into a normalised Snapshot, reading the catalog in bulk.

The same function reads the real database and the scratch copy of the models, so both sides
go through one reflection and one normaliser (compare like with like). Each dialect reads its
catalog with a few bulk queries (`Dialect.read_catalog`, catalog_<dialect>.py); SQLAlchemy's
`Inspector.get_multi_*` is the reference reader, used where a dialect has no bulk reader and by
the tests that check the two agree. Both hand over the same `Catalog` shapes, turned into Tables
by one piece of code here.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from schemasync.dialects import Dialect
from schemasync.dialects.catalog import Catalog
from schemasync.snapshot import (
    Check,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    PrimaryKey,
    Snapshot,
    Table,
    Unique,
    View,
    by_key,
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
    for db_schema, logical in _existing(inspector, schemas).items():
        names = [n for n in inspector.get_table_names(schema=db_schema) if keep(logical, n)]
        if names:
            tables += read_tables(connection, inspector, dialect, db_schema, logical, names, schemas, use_catalog=use_catalog)
        views += read_views(connection, dialect, db_schema, logical, schemas, keep)
    enums, sequences = dialect.read_objects(connection, schemas, keep)
    snapshot = Snapshot(dialect.name, tuple(sorted(tables, key=by_key)), enums, sequences, tuple(sorted(views, key=by_key)))
    return dialect.normalize(snapshot)


def _existing(inspector: sa.Inspector, schemas: SchemaMap) -> SchemaMap:
    """The schemas that exist (a named schema the plan will create has nothing to read; MariaDB refuses to list it)."""
    if all(schema is None for schema in schemas):
        return schemas
    present = set(inspector.get_schema_names())
    return {db: logical for db, logical in schemas.items() if db is None or db in present}


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
    for db_schema, logical in _existing(sa.inspect(connection), schemas).items():
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
        catalog = inspector_catalog(connection, inspector, dialect, db_schema, names)
    # What neither reader reports the same way (SQLite's expression indexes, table options): one small dialect query.
    dialect.complete_catalog(connection, db_schema, names, catalog)
    return _tables(catalog, dialect, logical, names, schemas)


def inspector_catalog(connection: sa.Connection, inspector: sa.Inspector, dialect: Dialect, db_schema: str | None, names: list[str]) -> Catalog:
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
    catalog = Catalog(
        columns=multi("get_multi_columns"),
        primary_keys=multi("get_multi_pk_constraint"),
        foreign_keys=multi("get_multi_foreign_keys"),
        indexes=multi("get_multi_indexes"),
        uniques=multi("get_multi_unique_constraints"),
        checks=multi("get_multi_check_constraints"),
        comments={name: (value or {}).get("text") for name, value in comments.items()},
    )
    dialect.complete_inspector_catalog(connection, db_schema, catalog)
    return catalog


def _tables(catalog: Catalog, dialect: Dialect, logical: str | None, names: list[str], schemas: SchemaMap) -> list[Table]:
    """Tables from a catalog, which this uses up: each table's rows go as its Table is made, so the
    two never sit in memory whole side by side (30 MB at 5,000 tables). Constraints carry the
    server's names twice (`db_name` keeps them when normalising drops `name`)."""
    type_text = _TypeTexts(dialect)
    in_caller_terms = _SchemaTexts(dialect, schemas)
    tables = []
    for name in names:
        indexes = catalog.indexes.pop(name, None) or []
        tables.append(Table(
            name=name,
            schema=logical,
            columns=tuple(_column(in_caller_terms(_named_type_schema(c, schemas)), type_text) for c in catalog.columns.pop(name, None) or []),
            primary_key=_primary_key(catalog.primary_keys.pop(name, None)),
            foreign_keys=tuple(_foreign_key(fk, schemas) for fk in catalog.foreign_keys.pop(name, None) or []),
            uniques=tuple(_unique(u) for u in catalog.uniques.pop(name, None) or []),
            indexes=tuple(_index(i) for i in indexes if _is_plain_index(i) and not _is_invalid(i)),
            invalid_indexes=tuple(_index(i) for i in indexes if _is_plain_index(i) and _is_invalid(i)),
            options=_options(catalog.options.get(name) or {}),
            triggers=tuple(catalog.triggers.get(name) or ()),
            exclusions=tuple(Exclusion(in_caller_terms.text(e["definition"]), e["name"], e["name"]) for e in catalog.exclusions.pop(name, None) or []),
            checks=tuple(Check(in_caller_terms.text(c["sqltext"]), c.get("name"), c.get("name")) for c in catalog.checks.pop(name, None) or []),
            comment=catalog.comments.get(name) if dialect.has_comments else None,
            unmanaged_parts=tuple(
                f"expression index {i['name']} on {_qualified(logical, name)}"
                for i in indexes if not _is_plain_index(i) and not i.get("duplicates_constraint")
            ),
        ))
    return tables


class _SchemaTexts:
    """The server's texts of a column (default, generation expression) and of checks with the schemas
    they name in the caller's terms: a default naming a sequence in a scratch schema
    (`nextval('schemasync_scratch_..._1.seq')`) must read back as the model's schema, or the plan would
    name a place that is gone by the time it runs. Nothing to do where no schema is mapped (the live side)."""

    def __init__(self, dialect: Dialect, schemas: SchemaMap) -> None:
        self._dialect = dialect
        self._schemas: dict[str | None, str | None] = {db: logical for db, logical in schemas.items() if db is not None and db != logical}

    def text(self, text: Any) -> Any:
        return self._dialect.schema_names_in_text(text, self._schemas) if self._schemas and isinstance(text, str) else text

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        if not self._schemas or not (data.get("default") or data.get("computed")):
            return data
        computed = data.get("computed")
        computed = {**computed, "sqltext": self.text(str(computed["sqltext"]))} if computed else computed
        return {**data, "default": self.text(data.get("default")), "computed": computed}


class _TypeTexts:
    """Each type object's canonical type (`Dialect.canonical_type`) and its text, once: a bulk reader
    shares one object among the columns of one type."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._seen: dict[int, tuple[Any, Any, str]] = {}

    def __call__(self, type_object: Any) -> tuple[Any, str]:
        seen = self._seen.get(id(type_object))
        if seen is None:
            # The object is kept with its text, so its id cannot be reused while this lives.
            canonical = self._dialect.canonical_type(type_object)
            seen = self._seen[id(type_object)] = (type_object, canonical, self._dialect.type_text(canonical))
        return seen[1], seen[2]


def _qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _column(data: dict[str, Any], type_text: Callable[[Any], tuple[Any, str]]) -> Column:
    computed = data.get("computed")
    type_object, text = type_text(data["type"])
    return Column(
        name=data["name"],
        type=text,
        nullable=bool(data["nullable"]),
        default=data.get("default"),
        autoincrement=data.get("autoincrement") is True,
        comment=data.get("comment"),
        type_object=type_object,
        computed=str(computed["sqltext"]) if computed else None,
        persisted=bool(computed and computed.get("persisted")),
        identity=identity_text(data.get("identity")),
    )


IDENTITY_OPTIONS = ("always", "start", "increment", "minvalue", "maxvalue", "cache", "cycle")


def identity_text(identity: dict[str, Any] | None) -> str | None:
    """An identity's options as one canonical text ("always=false start=1 ..."); the dialect drops
    the ones at their defaults (dialect_postgresql.normalize_column)."""
    if not identity:
        return None
    return " ".join(f"{key}={str(identity.get(key)).lower()}" for key in IDENTITY_OPTIONS if identity.get(key) is not None)


def _named_type_schema(data: dict[str, Any], schemas: SchemaMap) -> dict[str, Any]:
    """A column of a named type (an enum) in a scratch schema names the model's schema instead; so does
    a sequence default (`nextval('scratch.s'::regclass)`)."""
    data = _sequence_default_schema(data, schemas)
    type_object = data["type"]
    schema = getattr(type_object, "schema", None)
    if schema is None or schema not in schemas or schemas[schema] == schema:
        return data
    renamed = type_object.copy()
    renamed.schema = schemas[schema]
    default = data.get("default")
    if default and schemas[schema] is not None:  # a default cast to the type names its schema: 'x'::scratch.shade
        default = default.replace(f"::{schema}.", f"::{schemas[schema]}.")
    return {**data, "type": renamed, "default": default}


def _sequence_default_schema(data: dict[str, Any], schemas: SchemaMap) -> dict[str, Any]:
    """`nextval('"scratch".s'::regclass)` (or unquoted) reads `nextval('"side".s'::regclass)`, or
    `nextval('s'::regclass)` where the scratch schema stands for the default one."""
    default = data.get("default")
    if not default or "nextval('" not in default:
        return data
    for scratch, logical in schemas.items():
        if scratch is None or scratch == logical:
            continue
        quoted, bare = (f'"{logical}".', f"{_quote_ident(logical)}.") if logical is not None else ("", "")
        default = default.replace(f"nextval('\"{scratch}\".", f"nextval('{quoted}").replace(f"nextval('{scratch}.", f"nextval('{bare}")
    return {**data, "default": default}


def _quote_ident(name: str) -> str:
    """As PostgreSQL's quote_ident prints a schema in a regclass (keywords aside)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


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
        **_deferral(options),
        match=_match(options.get("match")),
    )


def _unique(data: dict[str, Any]) -> Unique:
    # Dialect options at their defaults (False, an empty INCLUDE) are no option at all.
    options = {key: value for key, value in (data.get("dialect_options") or {}).items() if value}
    return Unique(tuple(data["column_names"]), data.get("name"), data.get("name"), **_deferral(data.get("options") or {}), options=_options(options))


def _deferral(options: dict[str, Any]) -> dict[str, Any]:
    """DEFERRABLE and INITIALLY, left out at their defaults (NOT DEFERRABLE, INITIALLY IMMEDIATE)."""
    deferrable = True if options.get("deferrable") else None
    initially = (options.get("initially") or "").upper()
    return {"deferrable": deferrable, "initially": initially if deferrable and initially == "DEFERRED" else None}


def _match(match: str | None) -> str | None:
    """MATCH SIMPLE is the default: the same as none."""
    return None if match is None or match.upper() == "SIMPLE" else match.upper()


def _action(action: str | None) -> str | None:
    """NO ACTION is the default everywhere: some servers report it, others say nothing."""
    return None if action is None or action.upper() == "NO ACTION" else action.upper()


def _is_plain_index(data: dict[str, Any]) -> bool:
    """Indexes behind a constraint are the constraint's; an expression part needs its text (`expressions`)."""
    return not data.get("duplicates_constraint") and (all(c is not None for c in data.get("column_names", [])) or bool(data.get("expressions")))


def _is_invalid(data: dict[str, Any]) -> bool:
    """PostgreSQL's INVALID index (pg_index.indisvalid false): left by a failed CREATE INDEX
    CONCURRENTLY, or still being built. Never the index the models ask for."""
    return bool((data.get("dialect_options") or {}).get("postgresql_invalid"))


def _index(data: dict[str, Any]) -> Index:
    """An Inspector-shaped index: expression parts, predicate and dialect options included."""
    names = data["column_names"]
    expressions = tuple(str(e) for e in data["expressions"]) if None in names else ()
    options = dict(data.get("dialect_options") or {})
    where = options.pop("postgresql_where", None) or options.pop("sqlite_where", None)
    options.pop("postgresql_invalid", None)
    if data.get("column_sorting"):
        options["column_sorting"] = data["column_sorting"]
    return Index(
        data["name"],
        tuple(c for c in names if c is not None),
        bool(data.get("unique")),
        expressions=expressions,
        where=str(where) if where is not None else None,
        options=_options(options),
    )


def _options(options: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Dialect options as sorted (key, value) pairs of hashable values; empty values left out."""
    return tuple(sorted((key, _frozen(value)) for key, value in options.items() if value not in (None, [], {}, ())))


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
