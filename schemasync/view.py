"""Views declared beside the models: `schemasync.View("active_users", select(...), metadata)`.

A View registers itself on its MetaData (`metadata.info["schemasync_views"]`), so the models
loader finds it; it is not a Table of that MetaData (create_all and the table diff never see it).
`view.table` is a Table to select from, in a MetaData of its own, so other views can read it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from schemasync.errors import ModelsError

INFO_KEY = "schemasync_views"


class View:
    """A view over the models' tables; `materialized=True` makes a PostgreSQL materialized view."""

    def __init__(self, name: str, selectable: Any, metadata: sa.MetaData, *, schema: str | None = None, materialized: bool = False) -> None:
        if not isinstance(selectable, sa.sql.Selectable) or not hasattr(selectable, "selected_columns"):
            raise ModelsError(f"view {name}: the definition must be a select(...), not {type(selectable).__name__}")
        self.name, self.selectable, self.metadata = name, selectable, metadata
        self.schema, self.materialized = schema, materialized
        columns = [sa.Column(c.key, c.type) for c in selectable.selected_columns]
        self.table = sa.Table(name, sa.MetaData(), *columns, schema=schema)
        self.c = self.table.c
        declared = views_of(metadata)
        if self.key in declared or self.qualified_name in metadata.tables:
            raise ModelsError(f"view {self.qualified_name} is declared twice (or is also a table) in the models")
        metadata.info.setdefault(INFO_KEY, {})[self.key] = self

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.schema, self.name)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def __repr__(self) -> str:
        return f"View({self.qualified_name!r}{', materialized=True' if self.materialized else ''})"


def views_of(metadata: sa.MetaData) -> dict[tuple[str | None, str], View]:
    """The views declared on `metadata`, by (schema, name)."""
    return metadata.info.get(INFO_KEY) or {}


def copy_views(source: sa.MetaData, target: sa.MetaData) -> None:
    """Carry the views declared on `source` over to `target` (models given as a list of MetaData)."""
    for key, view in views_of(source).items():
        if key in views_of(target):
            raise ModelsError(f"view {view.qualified_name} is declared twice in the models")
        target.info.setdefault(INFO_KEY, {})[key] = view
