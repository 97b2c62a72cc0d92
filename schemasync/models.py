"""Load the user's models: `module:attr` naming a MetaData, a declarative Base, or a list of those."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemasync.errors import ModelsError

DEFAULT_ATTRIBUTES = ("metadata", "Base", "target_metadata")


def load_metadata(spec: str, search_path: Path) -> sa.MetaData:
    """Import `spec` with `search_path` first on sys.path and return one MetaData with all its tables."""
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise ModelsError(f"models '{spec}' should look like 'package.module:Base'")
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
    folder = str(search_path.resolve())
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        importlib.invalidate_caches()
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name or module_name.startswith(f"{error.name}."):
            raise ModelsError(f"cannot import models module '{module_name}' (looked in {folder} and sys.path)") from None
        raise ModelsError(f"error importing models module '{module_name}': {type(error).__name__}: {error}") from None
    except Exception as error:  # the user's module may raise anything at import time
        raise ModelsError(f"error importing models module '{module_name}': {type(error).__name__}: {error}") from None
    finally:
        if added:
            sys.path.remove(folder)


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
        return merged
    raise ModelsError(f"'{label}' is not a MetaData, a declarative Base or a list of them")
