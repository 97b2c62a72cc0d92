"""Load the user's models: `module:path` naming a MetaData, a declarative Base, a Flask app or its
Flask-SQLAlchemy `db`, or a list of those (model_spec.py reads the spec; flask_app.py knows Flask).

Also what of them schemasync leaves out (`ignored`, and what their `ddl_if()` leaves out on a
dialect: `left_out`): every such thing is named in the output, never silently dropped from the desired state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemasync.ddl import created_on
from schemasync.dialects import Dialect
from schemasync.errors import ModelsError
from schemasync.flask_app import flask_models
from schemasync.model_spec import follow, import_module, import_package, split_specs
from schemasync.scope import INTERNAL_PREFIXES, STATE_TABLE, Scope
from schemasync.view import copy_views, views_of

DEFAULT_ATTRIBUTES = ("metadata", "Base", "target_metadata", "db", "SQLModel")
# Where loading notes what the models hold that this run leaves out (another Flask-SQLAlchemy bind's
# tables): `ignored` lists it with the rest.
IGNORED_INFO = "schemasync.ignored"


@dataclass(frozen=True)
class LoadedModels:
    """The models' MetaData, and the database URL the application itself names (a Flask app's), if any."""

    metadata: sa.MetaData
    url: str | None = None


def load(models: str | None, search_path: Path, package: str | None = None) -> LoadedModels:
    """The models `models` names (one spec or several, comma-separated: merged), after importing every
    module of `package`; without `models`, the MetaData or Base the package defines."""
    modules = import_package(package, search_path) if package else []
    if not models:
        return _found_in_package(modules, package or "")
    found = [_load_one(spec, search_path) for spec in split_specs(models)]
    if not found:
        raise ModelsError(f"models '{models}' names no module")
    if len(found) == 1:
        return found[0]
    return LoadedModels(as_metadata([f.metadata for f in found], models), next((f.url for f in found if f.url), None))


def _load_one(spec: str, search_path: Path) -> LoadedModels:
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise ModelsError(f"models '{spec}' should look like 'package.module:Base'")
    if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
        dotted = module_name.removesuffix(".py").replace("\\", "/").strip("/").replace("/", ".")
        raise ModelsError(f"models '{spec}' names a file: use the module's import name, e.g. --models {dotted}:{attribute or 'Base'}")
    module = import_module(module_name, search_path)
    if attribute:
        return from_value(follow(module, attribute, spec), module, spec)
    for candidate in DEFAULT_ATTRIBUTES:
        if hasattr(module, candidate):
            return from_value(getattr(module, candidate), module, f"{module_name}:{candidate}")
    raise ModelsError(f"no MetaData found in '{module_name}': name one, e.g. --models {module_name}:Base")


def _found_in_package(modules: list[Any], package: str) -> LoadedModels:
    """The first of DEFAULT_ATTRIBUTES in the package, else in its modules in name order."""
    for module in modules:
        for candidate in DEFAULT_ATTRIBUTES:
            if hasattr(module, candidate):
                return from_value(getattr(module, candidate), module, f"{module.__name__}:{candidate}")
    raise ModelsError(f"no MetaData found in models_package '{package}' or its modules: name it with --models module:Base")


def from_value(value: Any, module: Any, spec: str, bind: str | None = None) -> LoadedModels:
    """A Flask app or Flask-SQLAlchemy object gives one bind (the default, or `bind`; the others noted
    as ignored) and maybe a URL; anything else is read by `as_metadata`."""
    flask = flask_models(value, module, bind)
    if flask is None:
        return LoadedModels(as_metadata(value, spec))
    flask.metadata.info[IGNORED_INFO] = flask.ignored
    return LoadedModels(flask.metadata, flask.url)


def as_metadata(value: Any, label: str) -> sa.MetaData:
    """A MetaData from a MetaData, something with `.metadata`, or a list/tuple of those (merged)."""
    if isinstance(value, sa.MetaData):
        return value
    if isinstance(getattr(value, "metadata", None), sa.MetaData):
        return value.metadata
    if isinstance(value, (list, tuple)) and value:
        merged = sa.MetaData()
        merged.info[IGNORED_INFO] = tuple(line for item in value for line in as_metadata(item, label).info.get(IGNORED_INFO, ()))
        for item in value:
            for table in as_metadata(item, label).tables.values():
                if table.key in merged.tables:
                    raise ModelsError(f"table '{table.key}' is defined twice in {label}")
                table.to_metadata(merged)
            copy_views(as_metadata(item, label), merged)
        return merged
    raise ModelsError(f"'{label}' is not a MetaData, a declarative Base or a list of them")


def require_definitions(metadata: sa.MetaData, label: str) -> sa.MetaData:
    """Models that define nothing are a mistake, not a wish to drop everything: refused in one line."""
    if metadata.tables or views_of(metadata) or metadata._sequences:
        return metadata
    raise ModelsError(f"the models ({label}) define no tables: did you import your model modules? "
                      "(a declarative Base knows only the classes whose modules were imported)")


def named_schemas(metadata: sa.MetaData) -> set[str | None]:
    """Every schema the models name: their tables', views', sequences' and enum types'."""
    found: set[str | None] = {t.schema for t in metadata.tables.values()} | {v.schema for v in views_of(metadata).values()}
    found |= {s.schema for s in metadata._sequences.values()}
    found |= {c.type.schema for t in metadata.tables.values() for c in t.columns if isinstance(c.type, sa.Enum)}
    return found


def ignored(metadata: sa.MetaData, scope: Scope, dialect: Dialect) -> tuple[str, ...]:
    """What the models declare that schemasync will not manage here, one line each with the reason."""
    lines: list[str] = list(metadata.info.get(IGNORED_INFO, ()))
    excluded: dict[str, list[str]] = {}
    named = [(t.schema, str(t.name), "table") for t in metadata.tables.values()]
    named += [(v.schema, v.name, "view") for v in views_of(metadata).values()]
    for schema, name, kind in sorted(named, key=lambda n: (n[0] or "", n[1])):
        schema = scope.canonical(schema)
        qualified = f"{schema}.{name}" if schema else name
        if schema is not None and schema in scope.exclude_schemas:
            excluded.setdefault(schema, []).append(qualified)
        elif name == STATE_TABLE or name.startswith(INTERNAL_PREFIXES):
            lines.append(f"{kind} {qualified}: the name is schemasync's own ({STATE_TABLE}, {', '.join(p + '*' for p in INTERNAL_PREFIXES)})")
        elif (pattern := scope.excluded_by(schema, name)) is not None:
            lines.append(f"{kind} {qualified}: excluded by exclude_tables ({pattern})")
    lines += [f"schema {schema}: excluded by exclude_schemas ({', '.join(names)})" for schema, names in sorted(excluded.items())]
    kept = [t for t in metadata.tables.values() if scope.keep(t.schema, t.name)]
    return tuple(lines + dialect.ignored_constructs(kept, list(metadata._sequences.values())))


def left_out(metadata: sa.MetaData, keep: Callable[[str | None, str], bool], dialect: Dialect) -> list[str]:
    """What the models' `ddl_if()` leaves out on this dialect, one line each (create_all leaves it out
    of the scratch build too, so it is not in the target: named here, never silently)."""
    found = []
    for table in metadata.sorted_tables:
        if not keep(table.schema, table.name):
            continue
        shown = f"{table.schema}.{table.name}" if table.schema else str(table.name)
        if not created_on(table, dialect.sa_dialect):
            found.append(f"table {shown} is left out on {dialect.name} (its ddl_if)")
            continue
        items = sorted(table.indexes, key=lambda i: str(i.name)) + sorted(table.constraints, key=lambda c: c._creation_order)
        for item in items:
            if not created_on(item, dialect.sa_dialect):
                kind = "index" if isinstance(item, sa.Index) else type(item).__name__.removesuffix("Constraint").lower() + " constraint"
                label = item.name or "(" + ", ".join(str(c.name) for c in getattr(item, "columns", ())) + ")"
                found.append(f"{kind} {label} on {shown} is left out on {dialect.name} (its ddl_if)")
    return found
