"""What schemasync manages. Pure: the same filter is applied to both sides of every diff.

A table is managed once it is in the models, and stays managed (so removing it from the models
drops it) only if the last recorded apply managed it. Everything else is listed as unmanaged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from schemasync.snapshot import Snapshot, TableKey

STATE_TABLE = "schema_state"
# How far a fill by key got (online.FillRowsByKey), beside schema_state (state.py).
FILL_PROGRESS_TABLE = "schemasync_fill"
# Names schemasync itself uses for scratch copies and rebuilds: never part of a diff.
INTERNAL_PREFIXES = ("schemasync_", "_schemasync_")
# Tables other migration tools keep their own state in: never dropped, even with drop_unmanaged,
# unless the models define them; listed as unmanaged until the user removes them.
TOOL_TABLES = frozenset({"alembic_version"})


@dataclass(frozen=True)
class Scope:
    """Which schemas are read and which tables are never touched.

    `default_schema` is the server's own name for the connection's default schema (PostgreSQL's
    `public`, MariaDB's URL database, SQLite's `main`): a model that spells it out means no schema."""

    schemas: tuple[str | None, ...] = (None,)
    exclude_tables: tuple[str, ...] = ()
    exclude_schemas: tuple[str, ...] = ()
    default_schema: str | None = None

    def canonical(self, schema: str | None) -> str | None:
        """None for the default schema, whichever way it is spelled."""
        return None if schema == self.default_schema else schema

    def keep(self, schema: str | None, name: str) -> bool:
        schema = self.canonical(schema)
        if name == STATE_TABLE or name.startswith(INTERNAL_PREFIXES) or schema not in self.schemas:
            return False
        return self.excluded_by(schema, name) is None

    def excluded_by(self, schema: str | None, name: str) -> str | None:
        """The `exclude_tables` pattern that leaves this table out, if one does."""
        qualified = f"{schema}.{name}" if schema else name
        return next((p for p in self.exclude_tables if fnmatchcase(name, p) or fnmatchcase(qualified, p)), None)

    def with_schemas(self, named: Iterable[str | None]) -> Scope:
        """The scope widened to the schemas `named` (the models', a plan's, the recorded ones), the excluded ones left out."""
        added = {self.canonical(s) for s in named} - {None} - set(self.exclude_schemas)
        if added <= set(self.schemas):
            return self
        named_schemas = {s for s in added if s is not None} | {s for s in self.schemas if s is not None}
        return replace(self, schemas=(None, *sorted(named_schemas)))


def managed_view(
    live: Snapshot, target: Snapshot, previously_managed: Iterable[TableKey], drop_unmanaged: bool
) -> tuple[Snapshot, tuple[str, ...]]:
    """The live tables schemasync may change, and the names of the ones it leaves alone."""
    renamed = {(t.schema, t.renamed_from) for t in target.tables if t.renamed_from}
    managed = set(target.tables_by_key) | set(target.views_by_key) | set(previously_managed) | renamed | target.object_keys()
    if drop_unmanaged:
        managed |= {t.key for t in live.tables if t.name not in TOOL_TABLES} | set(live.views_by_key) | live.object_keys()
    unmanaged = tuple(t.qualified_name for t in live.tables if t.key not in managed)
    return live.only(managed), unmanaged


def unmanaged_views(live: Snapshot, managed: Iterable[str]) -> list[str]:
    """The live views a plan leaves alone (`managed`: the plan's qualified names), as other objects."""
    names = set(managed)
    return [f"{'materialized ' if v.materialized else ''}view {v.qualified_name}" for v in live.views if v.qualified_name not in names]


def parse_table_key(qualified: str) -> TableKey:
    schema, _, name = qualified.rpartition(".")
    return (schema or None, name)
