"""Settings from flags, environment and `schemasync.yaml`: flag > env > file, `${VAR:-default}` expanded."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from schemasync import config_file
from schemasync.dialects import absolute_url
from schemasync.errors import ConfigError
from schemasync.hazards import ALL as HAZARDS
from schemasync.online import (
    DEFAULT_ATTEMPTS,
    DEFAULT_FILL_BATCH_SIZE,
    DEFAULT_FILL_PAUSE,
    DEFAULT_LOCK_TIMEOUT,
)
from schemasync.target_cache import default_cache_dir

DEFAULT_CONFIG = config_file.DEFAULT_CONFIG
ENV_PREFIX = "SCHEMASYNC_"
KNOWN_KEYS = set(config_file.known_keys())  # the JSON Schema's (config.schema.json)
ALEMBIC_INI = "alembic.ini"
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about its target, read once by the workflow."""

    database_url: str | None = None
    models: str | None = None
    # A package whose every module is imported before the models are read (their classes register).
    models_package: str | None = None
    include_schemas: tuple[str | None, ...] = (None,)
    exclude_tables: tuple[str, ...] = ()
    # Named schemas never managed, even where the models name them (their tables are listed as ignored).
    exclude_schemas: tuple[str, ...] = ()
    drop_unmanaged: bool = False
    lock_timeout: float = 10.0
    # How many applies/rollbacks keep their backup tables when `schemasync prune` runs without --keep.
    keep_backups: int | None = None
    # Hazard classes (hazards.py) that make `apply` refuse unless allowed on the command line.
    block_hazards: tuple[str, ...] = ()
    base_dir: Path = field(default_factory=Path.cwd)
    config_path: Path | None = None
    # Where built targets are cached (None: no cache); see target_cache.py.
    cache_dir: Path | None = None
    # A scratch database to build the models in instead of the target (--dev-url): plan and check then only read the target.
    dev_url: str | None = None
    # Online mode (online.py): changes to existing tables that let writes go on, strong locks
    # waited for at most `online_lock_timeout` seconds, `online_attempts` times.
    online: bool = False
    online_lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    online_attempts: int = DEFAULT_ATTEMPTS
    # Online mode's declared fills (data_changes.py): rows per batch, and the pause between batches.
    fill_batch_size: int = DEFAULT_FILL_BATCH_SIZE
    fill_pause: float = DEFAULT_FILL_PAUSE
    # Named targets from the config (`targets:`); the chosen one's URL and schema are above.
    targets: tuple[TargetSpec, ...] = ()
    target_name: str | None = None
    # A target's own schema (schema-per-tenant): the models' default schema maps to it.
    default_schema: str | None = None
    # An Alembic setup (alembic.ini) that supplies the URL and the models the settings lack, and the
    # models read from its env.py (database.with_alembic fills this in).
    alembic: Path | None = None
    metadata: sa.MetaData | None = field(default=None, compare=False, repr=False)
    # Without a config file: where it was looked for (said by "no database URL" and "no models").
    searched: str = ""

    def for_target(self, spec: TargetSpec) -> Settings:
        """The same settings aimed at one named target (with its own models, when it names them)."""
        aimed = replace(self, database_url=spec.database_url, target_name=spec.name, default_schema=spec.schema)
        return replace(aimed, models=spec.models, metadata=None) if spec.models else aimed


@dataclass(frozen=True)
class TargetSpec:
    """One database (or one schema of one) among many: its name, URL and optional own schema."""

    name: str
    database_url: str
    schema: str | None = None
    # The target's own models (a Flask-SQLAlchemy bind: `app.models:db.metadatas[audit]`); None: the settings' models.
    models: str | None = None


def load_settings(
    database_url: str | None = None,
    models: str | None = None,
    config: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    target: str | None = None,
    alembic: str | None = None,
    models_package: str | None = None,
    dev_url: str | None = None,
) -> Settings:
    """Merge the three sources; the models module is imported relative to the config file's folder.

    An Alembic setup is named by `--alembic`, SCHEMASYNC_ALEMBIC or `alembic:`; without a config
    file, an `alembic.ini` in the current folder is used."""
    environ = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    path = _config_path(config or environ.get(f"{ENV_PREFIX}CONFIG"), cwd)
    data = read_config(path) if path else {}
    base_dir = path.parent if path else cwd

    def setting(key: str, default: Any = None) -> Any:
        # Expanded only when used: a ${VAR} in a value that a flag or the environment overrides
        # need not be set.
        return expand(data[key], environ, config_file.label(path), key) if path and key in data else default

    flag_or_env_url = database_url or environ.get(f"{ENV_PREFIX}DATABASE_URL")
    settings = Settings(
        database_url=flag_or_env_url or _file_url(_string(setting("database_url"), "database_url"), base_dir),
        models=models or environ.get(f"{ENV_PREFIX}MODELS") or _models(setting("models")),
        models_package=models_package or environ.get(f"{ENV_PREFIX}MODELS_PACKAGE") or _string(setting("models_package"), "models_package"),
        include_schemas=_schemas(setting("include_schemas")),
        exclude_tables=tuple(_string_list(setting("exclude_tables"), "exclude_tables")),
        exclude_schemas=tuple(sorted(set(_string_list(setting("exclude_schemas"), "exclude_schemas")))),
        drop_unmanaged=_boolean(setting("drop_unmanaged", False), "drop_unmanaged"),
        lock_timeout=_number(setting("lock_timeout", 10.0), "lock_timeout"),
        keep_backups=_count(setting("keep_backups"), "keep_backups"),
        block_hazards=_hazard_names(setting("block_hazards")),
        online=_boolean(setting("online", False), "online"),
        online_lock_timeout=_duration(setting("online_lock_timeout", DEFAULT_LOCK_TIMEOUT), "online_lock_timeout"),
        online_attempts=_attempts(setting("online_attempts", DEFAULT_ATTEMPTS), "online_attempts"),
        fill_batch_size=_attempts(setting("fill_batch_size", DEFAULT_FILL_BATCH_SIZE), "fill_batch_size"),
        fill_pause=_pause(setting("fill_pause", DEFAULT_FILL_PAUSE), "fill_pause"),
        base_dir=base_dir,
        config_path=path,
        cache_dir=default_cache_dir(environ),
        dev_url=dev_url or environ.get(f"{ENV_PREFIX}DEV_URL") or _file_url(_string(setting("dev_url"), "dev_url"), base_dir),
        targets=_targets(setting("targets"), base_dir),
        alembic=_alembic_path(alembic or environ.get(f"{ENV_PREFIX}ALEMBIC"), cwd) or _alembic_path(_string(setting("alembic"), "alembic"), base_dir)
        or (None if path else _found(cwd / ALEMBIC_INI)),
        searched="" if path else config_file.where_searched(cwd),
    )
    return settings.for_target(find_target(settings.targets, target)) if target else settings


def find_target(targets: tuple[TargetSpec, ...], name: str) -> TargetSpec:
    """The target called `name`; a name the config does not list is a one-line error."""
    for spec in targets:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in targets) or "none: add `targets:` to schemasync.yaml"
    raise ConfigError(f"unknown target '{name}' (configured targets: {known})")


def _targets(value: Any, base_dir: Path) -> tuple[TargetSpec, ...]:
    """`targets:` as a list of {name, database_url, schema?}, or one template expanded over `names`.

    Template: {database_url: "...{name}...", schema: "{name}" (optional), names: [a, b]}.
    """
    if value is None:
        return ()
    if isinstance(value, dict):
        value = _expand_template(value)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError("config key targets must be a list of {name, database_url} or a template with names")
    specs = tuple(_target(item, base_dir) for item in value)
    names = [s.name for s in specs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"config key targets: the name '{duplicate}' is used twice")
    return specs


def _expand_template(template: dict[str, Any]) -> list[dict[str, Any]]:
    unknown = sorted(set(map(str, template)) - {"database_url", "schema", "names"})
    if unknown:
        raise ConfigError(f"config key targets: unknown template key '{unknown[0]}'{config_file.did_you_mean(unknown[0], ('database_url', 'names', 'schema'))} (known: database_url, names, schema)")
    names = _string_list(template.get("names"), "targets.names")
    url, schema = template.get("database_url"), template.get("schema")
    if not isinstance(url, str) or (schema is not None and not isinstance(schema, str)):
        raise ConfigError("config key targets: a template needs database_url (and an optional schema) as strings")
    return [{"name": n, "database_url": url.replace("{name}", n), **({"schema": schema.replace("{name}", n)} if schema else {})} for n in names]


def _target(item: dict[str, Any], base_dir: Path) -> TargetSpec:
    unknown = sorted(set(map(str, item)) - {"name", "database_url", "schema", "models"})
    if unknown:
        raise ConfigError(f"config key targets: unknown key '{unknown[0]}'{config_file.did_you_mean(unknown[0], ('database_url', 'models', 'name', 'schema'))} (known: database_url, models, name, schema)")
    name, url, schema = item.get("name"), item.get("database_url"), item.get("schema")
    if not isinstance(name, str) or not name or not isinstance(url, str) or not url:
        raise ConfigError("config key targets: every target needs a name and a database_url")
    if schema is not None and not isinstance(schema, str):
        raise ConfigError(f"config key targets: the schema of target '{name}' must be a string")
    return TargetSpec(name, _file_url(url, base_dir) or url, schema or None, _models(item.get("models")))


def _config_path(explicit: str | None, cwd: Path) -> Path | None:
    if explicit:
        path = (cwd / explicit).resolve()
        if not path.exists():
            raise ConfigError(f"config file {explicit} does not exist")
        if not path.is_file():
            raise ConfigError(f"config file {explicit} is not a file")
        return path
    found = config_file.find(cwd)
    return found.resolve() if found else None


def _alembic_path(value: str | None, base_dir: Path) -> Path | None:
    """An alembic.ini named explicitly must exist (relative to `base_dir`)."""
    if not value:
        return None
    path = (base_dir / value).resolve()
    if not path.is_file():
        raise ConfigError(f"Alembic config {value} {'is not a file' if path.exists() else 'does not exist'}")
    return path


def _found(path: Path) -> Path | None:
    return path.resolve() if path.is_file() else None


def read_config(path: Path) -> dict[str, Any]:
    """The file's settings (YAML, or pyproject.toml's [tool.schemasync]), unknown keys and wrong types
    refused (config_file.py); values are expanded by `expand` when used."""
    return config_file.read(path)


def expand(value: Any, environ: Mapping[str, str], source: str, key: str = "") -> Any:
    """`${VAR}` must be set; `${VAR:-default}` falls back. Applied inside lists too."""
    if isinstance(value, list):
        return [expand(item, environ, source, key) for item in value]
    if isinstance(value, dict):  # `targets:` entries
        return {k: expand(v, environ, source, key) for k, v in value.items()}
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        where = f" ({key})" if key else ""
        raise ConfigError(f"{source}{where}: environment variable {name} is not set (use ${{{name}:-default}} for a fallback)")

    return _VARIABLE.sub(substitute, value)


def _file_url(value: str | None, base_dir: Path) -> str | None:
    """A relative SQLite path written in the config file is relative to that file, like the models."""
    if not value:
        return value
    try:
        url = sa.engine.make_url(value)
    except (sa.exc.ArgumentError, ValueError):
        return value  # reported, without repeating the URL, when the database is opened
    resolved = absolute_url(url, base_dir)
    return value if resolved is url else resolved.render_as_string(hide_password=False)


def _string(value: Any, key: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise ConfigError(f"config key {key} must be a string")


def _models(value: Any) -> str | None:
    """`models:` as one spec or a list of them (joined as the comma-separated form --models takes)."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or None
    if value is None or isinstance(value, str):
        return value or None
    raise ConfigError("config key models must be a string (module:attr) or a list of them")


def _string_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"config key {key} must be a list of strings")
    return value


def _schemas(value: Any) -> tuple[str | None, ...]:
    names = _string_list(value, "include_schemas")
    return (None, *sorted(set(names))) if names else (None,)


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"config key {key} must be true or false")
    return value


def _number(value: Any, key: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"config key {key} must be a number of seconds") from None
    if number <= 0:
        raise ConfigError(f"config key {key} must be positive")
    return number


_DURATION = re.compile(r"^\s*(?P<number>\d+(\.\d+)?)\s*(?P<unit>ms|s)?\s*$")


def _duration(value: Any, key: str) -> float:
    """Seconds, as a number or a string with a unit: 2, 2.5, "2s", "500ms"."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match:
        value = float(match["number"]) / (1000 if match["unit"] == "ms" else 1)
    elif isinstance(value, (str, bool)):
        raise ConfigError(f"config key {key} must be a duration (seconds, or e.g. 2s, 500ms)")
    return _number(value, key)


def _pause(value: Any, key: str) -> float:
    """A duration that may be zero (no pause)."""
    return 0.0 if value in (0, "0", "0s", "0ms") else _duration(value, key)


def _attempts(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"config key {key} must be a whole number (1 or more)")
    return value


def _count(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"config key {key} must be a whole number (0 or more)")
    return value


STARTER_CONFIG = """\
# schemasync configuration. Flags (--database-url, --models) and the environment
# (SCHEMASYNC_DATABASE_URL, SCHEMASYNC_MODELS) override what is written here.

# Any SQLAlchemy URL. ${{VAR}} and ${{VAR:-default}} are read from the environment, so
# passwords stay out of this file: postgresql+psycopg://app:${{DB_PASSWORD}}@localhost/app
database_url: {database_url}

# Where the models are: module:attribute, a MetaData or a declarative Base. The module is
# imported from this file's folder.
models: {models}

# Tables schemasync must never touch (glob patterns, matched on name or schema.name).
# exclude_tables:
#   - legacy_*

# Every schema the models name is managed (PostgreSQL schemas, MySQL databases: created when
# missing). include_schemas adds schemas the models do not name, so that what is there is listed.
# include_schemas:
#   - reporting

# Named schemas never managed, even where the models name them (their tables are listed as ignored).
# exclude_schemas:
#   - audit

# Drop tables that exist in the database but not in the models, even if schemasync never
# created them. Off by default: unknown tables are listed as unmanaged and left alone.
# drop_unmanaged: false

# Seconds to wait for another schemasync run to release the migration lock.
# lock_timeout: 10

# A scratch database (same kind of server) to build changed models in, so that plan and check only
# read the target: for a CI role without CREATE. Unchanged models need no build at all.
# dev_url: postgresql+psycopg://ci@localhost/scratch

# An Alembic setup to read the URL (sqlalchemy.url) and the models (env.py's target_metadata)
# from, for whichever of the two is not given above. Relative to this file.
# alembic: alembic.ini

# Online mode: build indexes CONCURRENTLY, add keys NOT VALID then validate (PostgreSQL),
# name the ALTER's algorithm (MariaDB/MySQL), wait at most online_lock_timeout for a strong
# lock and try online_attempts times. `apply --online` / `--no-online` override it.
# online: false
# online_lock_timeout: 2s
# online_attempts: 3
# A declared fill (backfill) in online mode runs in batches of fill_batch_size rows by primary key,
# each its own transaction, pausing fill_pause between them.
# fill_batch_size: 10000
# fill_pause: 0s

# Data an apply drops is kept in schemasync_backup_* tables for `schemasync rollback`.
# `schemasync prune` keeps the backups of this many recent applies/rollbacks.
# keep_backups: 5

# Hazard classes that make `apply` refuse until allowed with --allow-hazard NAME (data-loss
# always needs --allow-destructive): irreversible, data-dependent, table-rewrite, long-lock, index-build.
# block_hazards:
#   - table-rewrite
"""


def _hazard_names(value: Any) -> tuple[str, ...]:
    names = _string_list(value, "block_hazards")
    unknown = [n for n in names if n not in HAZARDS]
    if unknown:
        raise ConfigError(f"config key block_hazards: unknown hazard '{unknown[0]}' (known: {', '.join(HAZARDS)})")
    return tuple(names)


def starter_config(database_url: str, models: str) -> str:
    """The commented starter file, with the two values written so that YAML reads them back as given."""
    return STARTER_CONFIG.format(database_url=_scalar(database_url), models=_scalar(models))


def _scalar(value: str) -> str:
    """`value` as written when YAML reads it back unchanged, else double-quoted."""
    try:
        if "\n" not in value and yaml.safe_load(f"key: {value}") == {"key": value}:
            return value
    except yaml.YAMLError:
        pass
    return json.dumps(value)  # a JSON string is a valid double-quoted YAML scalar
