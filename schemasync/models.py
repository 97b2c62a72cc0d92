"""Load the user's models: `module:attr` naming a MetaData, a declarative Base, or a list of those.

Also what of them schemasync leaves out (`ignored`, and what their `ddl_if()` leaves out on a
dialect: `left_out`): every such thing is named in the output, never silently dropped from the desired state."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemasync.ddl import created_on
from schemasync.dialects import Dialect
from schemasync.errors import ModelsError
from schemasync.scope import INTERNAL_PREFIXES, STATE_TABLE, Scope
from schemasync.view import copy_views, views_of

DEFAULT_ATTRIBUTES = ("metadata", "Base", "target_metadata")


def load_metadata(spec: str, search_path: Path) -> sa.MetaData:
    """Import `spec` with `search_path` first on sys.path and return one MetaData with all its tables."""
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise ModelsError(f"models '{spec}' should look like 'package.module:Base'")
    if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
        dotted = module_name.removesuffix(".py").replace("\\", "/").strip("/").replace("/", ".")
        raise ModelsError(f"models '{spec}' names a file: use the module's import name, e.g. --models {dotted}:{attribute or 'Base'}")
    module = _import(module_name, search_path)
    if attribute:
        if not hasattr(module, attribute):
            raise ModelsError(f"models module '{module_name}' has no attribute '{attribute}'")
        return as_metadata(getattr(module, attribute), spec)
    for candidate in DEFAULT_ATTRIBUTES:
        if hasattr(module, candidate):
            return as_metadata(getattr(module, candidate), f"{module_name}:{candidate}")
    raise ModelsError(f"no MetaData found in '{module_name}': name one, e.g. --models {module_name}:Base")


def _import(module_name: str, search_path: Path) -> Any:
    """Import the user's module; whatever it raises becomes one line naming the module."""
    folder = str(search_path.resolve())
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        importlib.invalidate_caches()
        # What the module prints goes to stderr, so `plan --json` and `--sql` stay parseable.
        with contextlib.redirect_stdout(sys.stderr):
            return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name or module_name.startswith(f"{error.name}."):
            raise ModelsError(f"cannot import models module '{module_name}' (looked in {folder} and sys.path)") from None
        raise ModelsError(f"error importing models module '{module_name}': {_describe(error)}") from None
    except SyntaxError as error:
        raise ModelsError(f"error importing models module '{module_name}': {_describe(error)}") from None
    except SystemExit as error:
        raise ModelsError(f"models module '{module_name}' called sys.exit({error.code!r}) while being imported") from None
    except Exception as error:  # noqa: BLE001  (the user's module may raise anything at import time)
        raise ModelsError(f"error importing models module '{module_name}': {_describe(error)}") from None
    finally:
        if added:
            sys.path.remove(folder)


def _describe(error: BaseException) -> str:
    """`Type: first line`; a syntax error says which file and line."""
    if isinstance(error, SyntaxError):
        where = f"{error.filename}, line {error.lineno}" if error.filename else f"line {error.lineno}"
        return f"{type(error).__name__} in {where}: {error.msg}"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def as_metadata(value: Any, label: str) -> sa.MetaData:
    """A MetaData from a MetaData, something with `.metadata`, or a list/tuple of those (merged)."""
    if isinstance(value, sa.MetaData):
        return value
    if isinstance(getattr(value, "metadata", None), sa.MetaData):
        return value.metadata
    if isinstance(value, (list, tuple)) and value:
        merged = sa.MetaData()
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
    lines: list[str] = []
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
