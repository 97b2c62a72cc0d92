"""The dialect family: the registry of supported dialects, and how to get one.

A dialect is a sub-package of this one (`sqlite/`, `postgresql/`, `mysql/`), each with the same
file names: `__init__.py` holds its facts and strategy (a `Dialect` subclass, see `base.py` for
what it must provide), `catalog.py` its bulk catalog reader, and beside them whatever that one
dialect needs. `REGISTRY` is the one list of what is supported: messages, the CLI's help and the
docs take it from here. A dialect's package is imported only when a target uses it.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import sqlalchemy as sa

from schemasync.dialects.base import (
    LOCK_NAME,
    Dialect,
    missing_requirements,
    wait_for_lock,
)
from schemasync.errors import ConfigError

__all__ = ["LOCK_NAME", "REGISTRY", "Dialect", "absolute_url", "dialect_class", "dialect_for", "offline_dialect", "supported", "sync_url", "wait_for_lock"]

# SQLAlchemy dialect name -> (the package that defines it, its Dialect class). One line per dialect.
REGISTRY: dict[str, tuple[str, str]] = {
    "sqlite": ("schemasync.dialects.sqlite", "SQLiteDialect"),
    "postgresql": ("schemasync.dialects.postgresql", "PostgreSQLDialect"),
    "mysql": ("schemasync.dialects.mysql", "MySQLDialect"),
}


def supported(joined: str = ", ") -> str:
    """The supported dialect names, for messages and help texts."""
    return joined.join(sorted(REGISTRY))


def dialect_class(name: str) -> type[Dialect]:
    """The Dialect class registered for `name` (imports its package); an unknown name is a clear error."""
    if name not in REGISTRY:
        raise ConfigError(f"dialect '{name}' is not supported (supported: {supported()})")
    module, attribute = REGISTRY[name]
    cls: type[Dialect] = getattr(importlib.import_module(module), attribute)
    missing = missing_requirements(cls)
    if missing:
        raise ConfigError(f"dialect '{name}' ({module}) does not provide {', '.join(missing)}")
    return cls


def dialect_for(sa_dialect: sa.engine.Dialect) -> Dialect:
    """The schemasync dialect for a SQLAlchemy dialect; an unknown one is a clear error."""
    return dialect_class(sa_dialect.name)(sa_dialect)


def offline_dialect(name: str) -> Dialect:
    """The dialect `name` with no server behind it (SQLAlchemy's default driver): for offline plans."""
    cls = dialect_class(name)
    try:
        sa_dialect = sa.engine.make_url(f"{name}://").get_dialect()()
    except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError):
        raise ConfigError(f"dialect '{name}' is not supported (supported: {supported()})") from None
    return cls(sa_dialect)


def sync_url(url: sa.URL) -> tuple[sa.URL, str | None]:
    """An async driver's URL as the same database through the dialect's sync driver, and a note
    saying so (None: the URL was not async); refused in one line when that driver is missing."""
    name = url.get_backend_name()
    driver = url.get_driver_name() if name in REGISTRY and "+" in url.drivername else None
    swap = dialect_class(name).sync_drivers.get(driver) if driver else None
    if swap is None:
        return url, None
    sync, module = swap
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"the URL names the async driver '{driver}'; schemasync runs it through '{sync}', "
                          f"whose module '{module}' is not installed (pip install {module})")
    return url.set(drivername=f"{name}+{sync}"), f"the URL names the async driver '{driver}': schemasync runs through the sync driver '{sync}' (same database)"


def absolute_url(url: sa.URL, folder: Path) -> sa.URL:
    """`url` with a database file named by a relative path made absolute against `folder`, where the
    URL was written (`Dialect.absolute_url`); a URL of another dialect as it is (opening it says so)."""
    name = url.get_backend_name()
    return dialect_class(name).absolute_url(url, folder) if name in REGISTRY else url
