"""The public Python API: `schemasync.plan`, `schemasync.check`, `schemasync.apply` (docs/api.md).

A thin, typed layer over workflow.py, the functions the CLI runs: the same plan, the same refusals
(destructive steps need `allow_destructive=True`, a mass drop `allow_mass_drop=True` too, rows that
would make a step fail are counted first). What differs is where the settings come from: arguments
here, never a config file or the environment, so a call means the same thing in any folder.
Calling `apply` is the confirmation (there is no prompt); errors are `SchemasyncError`s.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemasync import workflow
from schemasync.config import Settings
from schemasync.errors import ConfigError, SchemasyncError
from schemasync.hazards import ALL as HAZARDS
from schemasync.models import as_metadata
from schemasync.plan import Plan
from schemasync.target_cache import default_cache_dir
from schemasync.workflow import ApplyReport, CheckReport

__all__ = ["ApplyReport", "CheckReport", "Plan", "SchemasyncError", "apply", "check", "plan"]

# What a database is given as: a URL (string or sqlalchemy.URL) or an Engine (its URL is used).
Database = str | sa.URL | sa.Engine


def plan(
    url: Database,
    metadata: Any,
    *,
    exclude_tables: Iterable[str] = (),
    include_schemas: Iterable[str] = (),
    exclude_schemas: Iterable[str] = (),
    online: bool = False,
    lock_timeout: float = 10.0,
) -> Plan:
    """The ordered plan from the live schema at `url` to `metadata` (a MetaData, a declarative Base,
    or a list of those), unapplied; `Plan.steps`, `Plan.statements` and `Plan.hash` as `schemasync plan` shows them."""
    settings = _settings(url, metadata, exclude_tables, include_schemas, exclude_schemas, online, lock_timeout)
    return workflow.plan(settings).plan


def check(
    url: Database,
    metadata: Any,
    *,
    lock: str | Path | None = None,
    exclude_tables: Iterable[str] = (),
    include_schemas: Iterable[str] = (),
    exclude_schemas: Iterable[str] = (),
    lock_timeout: float = 10.0,
) -> CheckReport:
    """Pending changes and drift, as `schemasync check` finds them: `CheckReport.in_sync` is its exit 0.
    `lock`: also compare the models and the live schema with this lock file (`check --lock`)."""
    settings = _settings(url, metadata, exclude_tables, include_schemas, exclude_schemas, False, lock_timeout)
    return workflow.check(settings, Path(lock) if lock is not None else None)


def apply(
    url: Database,
    metadata: Any,
    *,
    allow_destructive: bool = False,
    allow_mass_drop: bool = False,
    block_hazards: Iterable[str] = (),
    allow_hazards: Iterable[str] = (),
    preflight: bool = True,
    exclude_tables: Iterable[str] = (),
    include_schemas: Iterable[str] = (),
    exclude_schemas: Iterable[str] = (),
    online: bool = False,
    lock_timeout: float = 10.0,
) -> ApplyReport:
    """Make the plan and run it as `schemasync apply --yes` does, recorded in schema_state.

    Refused (RefusedError, nothing changed) as the CLI refuses: destructive steps without
    `allow_destructive`, a plan dropping most managed tables without `allow_mass_drop` too, steps
    with a hazard in `block_hazards` not named in `allow_hazards`, rows that would make a step fail."""
    settings = _settings(url, metadata, exclude_tables, include_schemas, exclude_schemas, online, lock_timeout, tuple(block_hazards), tuple(allow_hazards))
    return workflow.apply(settings, lambda chosen: True, allow_destructive, allow_hazards=tuple(allow_hazards),
                          preflight_checks=preflight, allow_mass_drop=allow_mass_drop)


def _settings(url: Database, metadata: Any, exclude_tables: Iterable[str], include_schemas: Iterable[str], exclude_schemas: Iterable[str],
              online: bool, lock_timeout: float, block_hazards: tuple[str, ...] = (), allow_hazards: tuple[str, ...] = ()) -> Settings:
    """Settings from the arguments alone (the models given as objects, the cache as the CLI's)."""
    unknown = [name for name in (*block_hazards, *allow_hazards) if name not in HAZARDS]
    if unknown:
        raise ConfigError(f"unknown hazard '{unknown[0]}' (known: {', '.join(HAZARDS)})")
    return Settings(
        database_url=database_url(url),
        metadata=as_metadata(metadata, "the metadata argument"),
        include_schemas=(None, *sorted(set(include_schemas))),
        exclude_tables=tuple(exclude_tables),
        exclude_schemas=tuple(sorted(set(exclude_schemas))),
        lock_timeout=lock_timeout,
        block_hazards=block_hazards,
        online=online,
        cache_dir=default_cache_dir(os.environ),
    )


def database_url(database: Database) -> str:
    """The URL as a string (with its password: it is handed to SQLAlchemy, never shown).

    An Engine on an in-memory SQLite database is refused: its database lives in that engine's
    connections alone, and schemasync opens its own engine."""
    if isinstance(database, sa.Engine):
        url = database.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            raise ConfigError("an Engine on an in-memory SQLite database cannot be shared: pass a file URL (sqlite:///path.db)")
        return url.render_as_string(hide_password=False)
    if isinstance(database, sa.URL):
        return database.render_as_string(hide_password=False)
    return database
