"""What schemasync manages. Pure: the same filter is applied to both sides of every diff.

A table is managed once it is in the models, and stays managed (so removing it from the models
drops it) only if the last recorded apply managed it. Everything else is listed as unmanaged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from schemasync.snapshot import Snapshot, TableKey

STATE_TABLE = "schema_state"
# Names schemasync itself uses for scratch copies and rebuilds: never part of a diff.
INTERNAL_PREFIXES = ("schemasync_", "_schemasync_")
# Tables other migration tools keep their own state in: never dropped, even with drop_unmanaged,
# unless the models define them; listed as unmanaged until the user removes them.
TOOL_TABLES = frozenset({"alembic_version"})


@dataclass(frozen=True)
class Scope:
    """Which schemas are read and which tables are never touched."""

    schemas: tuple[str | None, ...] = (None,)
    exclude_tables: tuple[str, ...] = ()

    def keep(self, schema: str | None, name: str) -> bool:
        if name == STATE_TABLE or name.startswith(INTERNAL_PREFIXES) or schema not in self.schemas:
            return False
        qualified = f"{schema}.{name}" if schema else name
        return not any(fnmatchcase(name, p) or fnmatchcase(qualified, p) for p in self.exclude_tables)


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
