"""Opening the target database and loading the models: the first step of every intent.

The one place a URL becomes an engine: bad URLs, missing drivers and unreachable servers become
one-line errors here, and URLs are only ever shown with the password hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from schemasync import state
from schemasync.alembic_setup import read_setup
from schemasync.config import Settings
from schemasync.dialects import Dialect, dialect_for, sync_url
from schemasync.errors import ConfigError, DatabaseError, ModelsError, first_line
from schemasync.models import load, named_schemas, require_definitions
from schemasync.reflect import reflect
from schemasync.scope import Scope
from schemasync.snapshot import Snapshot
from schemasync.target_cache import TargetCache

SUPPORTED_URLS = "sqlite://, postgresql+psycopg://, mysql+pymysql://"
# What to install for a driver module that is missing, by the module's name.
_DRIVER_PACKAGES = {"psycopg": "schemasync-sqlalchemy[postgres]", "pymysql": "schemasync-sqlalchemy[mysql]"}

@dataclass(frozen=True)
class Target:
    """An opened database: engine, its dialect knowledge and what is in scope."""

    engine: sa.Engine
    dialect: Dialect
    scope: Scope
    url: str
    drop_unmanaged: bool = False
    cache: TargetCache | None = None
    # Seconds a read or the migration lock may wait on another session before giving up.
    lock_timeout: float = 10.0
    # Said with the plan: e.g. that the database does not exist yet and was read as empty.
    notes: tuple[str, ...] = ()
    # Where the models are built when no cache has them (--dev-url); None: on the target's server.
    build_engine: sa.Engine | None = None

    def read_live(self, connection: sa.Connection) -> Snapshot:
        return reflect(connection, self.dialect, {s: s for s in self.scope.schemas}, self.scope.keep)

    def with_schemas(self, named: Iterable[str | None]) -> Target:
        """The same target with the schemas `named` in scope too (a plan's, the models')."""
        return replace(self, scope=self.scope.with_schemas(named))

    def for_models(self, metadata: sa.MetaData) -> Target:
        """Every schema the models name is managed: the models are the desired state."""
        return self.with_schemas(named_schemas(metadata))


@contextmanager
def open_target(settings: Settings, creates: bool = True) -> Iterator[Target]:
    """Create the engine, check the server answers, and dispose of it afterwards.

    `creates=False` (plan, check, inspect): a database that connecting would create (a SQLite file
    that does not exist) is read as an empty one instead, and the target's `notes` say so."""
    url = parse_url(settings.database_url, settings.searched)
    shown = url.render_as_string(hide_password=True)
    try:
        dialect_cls = url.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ConfigError(f"cannot use {shown}: SQLAlchemy has no dialect '{url.drivername}' (schemasync supports {SUPPORTED_URLS})") from None
    except ImportError as error:
        raise ConfigError(f"cannot use {shown}: {_missing_driver(error)}") from None
    absent = None if creates else dialect_for(dialect_cls()).absent_database(url)
    if absent:
        url = url.set(database=":memory:")
    options = dialect_for(dialect_cls()).engine_options(settings.lock_timeout, url)
    if settings.default_schema:
        options = _merge_options(options, dialect_for(dialect_cls()).default_schema_options(settings.default_schema))
    try:
        engine = sa.create_engine(url, **options)
    except ImportError as error:
        raise ConfigError(f"cannot use {shown}: {_missing_driver(error)}") from None
    except (sa.exc.ArgumentError, TypeError, ValueError) as error:
        raise ConfigError(f"cannot use {shown}: {first_line(error)}") from None
    try:
        dialect = dialect_for(engine.dialect)
        dialect.prepare_engine(engine)
        try:
            with engine.connect() as connection:
                recorded = state.recorded_schemas(connection)
        except sa.exc.DBAPIError as error:
            raise DatabaseError(f"cannot connect to {shown}: {first_line(error)}") from None
        except Exception as error:  # noqa: BLE001  (drivers raise more than DBAPI errors on odd URL options)
            raise DatabaseError(f"cannot connect to {shown}: {type(error).__name__}: {first_line(error)}") from None
        cache = TargetCache(settings.cache_dir) if settings.cache_dir else None
        # The default schema spelled out (public, the URL's database) is no schema; what earlier applies
        # managed stays in scope, so a schema the models no longer name is still seen (and its tables dropped).
        scope = Scope((None,), settings.exclude_tables, settings.exclude_schemas, engine.dialect.default_schema_name)
        with _dev_engine(settings, url, dialect) as build_engine:
            yield Target(engine, dialect, scope.with_schemas((*settings.include_schemas, *recorded)), shown, settings.drop_unmanaged, cache, settings.lock_timeout,
                         (absent,) if absent else (), build_engine)
    finally:
        engine.dispose()


@contextmanager
def _dev_engine(settings: Settings, target_url: sa.URL, dialect: Dialect) -> Iterator[sa.Engine | None]:
    """The scratch database `dev_url` names (Atlas's dev database), of the target's dialect; None without one."""
    if not settings.dev_url:
        yield None
        return
    url = parse_url(settings.dev_url, "")
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() != target_url.get_backend_name():
        raise ConfigError(f"dev_url {shown} is {url.get_backend_name()}, the target is {target_url.get_backend_name()}: the scratch database must be the same kind of server")
    try:
        engine = sa.create_engine(url, **dialect.engine_options(settings.lock_timeout, url))
    except (ImportError, sa.exc.ArgumentError, TypeError, ValueError) as error:
        raise ConfigError(f"cannot use dev_url {shown}: {first_line(error)}") from None
    try:
        dialect.prepare_engine(engine)
        try:
            with engine.connect():
                pass
        except sa.exc.DBAPIError as error:
            raise DatabaseError(f"cannot connect to dev_url {shown}: {first_line(error)}") from None
        yield engine
    finally:
        engine.dispose()


def _merge_options(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Engine options with `connect_args` merged rather than replaced."""
    merged = {**base, **extra}
    merged["connect_args"] = {**base.get("connect_args", {}), **extra.get("connect_args", {})}
    return merged


def parse_url(database_url: str | None, searched: str = "") -> sa.URL:
    """The configured URL, or a one-line error that never repeats it (it may hold a password);
    `searched`: where the config file was looked for."""
    if not database_url:
        raise ConfigError("no database URL: pass --database-url, set SCHEMASYNC_DATABASE_URL, run `schemasync init`, or point --alembic at an alembic.ini"
                          + (f" ({searched})" if searched else ""))
    try:
        url = sa.engine.make_url(database_url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError("the database URL is not a valid SQLAlchemy URL (expected e.g. postgresql+psycopg://user@host/db)") from None
    return sync_url(url)[0]  # an async driver's URL runs through the sync driver (url_note says so)


def url_note(settings: Settings) -> str | None:
    """The one line to say when the URL names an async driver that schemasync swaps for a sync one."""
    try:
        return sync_url(sa.engine.make_url(settings.database_url))[1] if settings.database_url else None
    except (sa.exc.ArgumentError, ValueError):
        return None  # the URL is reported when it is opened


def _missing_driver(error: ImportError) -> str:
    """What to do about a DBAPI module that failed to import."""
    module = (error.name or "").partition(".")[0]
    if not module:
        return first_line(error)
    package = _DRIVER_PACKAGES.get(module)
    if package:
        return f"the driver module '{module}' is not installed (pip install '{package}')"
    return f"the driver module '{module}' is not installed: install it, or use a supported driver ({SUPPORTED_URLS})"


def load_models(settings: Settings) -> sa.MetaData:
    """The models' MetaData; one that defines nothing is refused (models.require_definitions)."""
    if settings.metadata is not None:
        label = settings.models or (f"{settings.alembic.name}: env.py's target_metadata" if settings.alembic else "the given MetaData")
        return require_definitions(settings.metadata, label)
    if not settings.models and not settings.models_package and settings.alembic is not None:
        raise ModelsError(f"{settings.alembic.name}: env.py sets no target_metadata: set it to the models' MetaData "
                          "(as `alembic revision --autogenerate` needs), or pass --models")
    if not settings.models and not settings.models_package:
        raise ConfigError("no models: pass --models module:Base, set SCHEMASYNC_MODELS, add `models:` to schemasync.yaml, or point --alembic at an alembic.ini"
                          + (f" ({settings.searched})" if settings.searched else ""))
    label = settings.models or f"models_package {settings.models_package}"
    return require_definitions(load(settings.models, settings.base_dir, settings.models_package).metadata, label)


def with_models(settings: Settings) -> Settings:
    """Without a URL, the models are loaded now: an application they name (a Flask app) may name its
    database (read as the app reads it), and the models are then not loaded a second time."""
    if settings.database_url or settings.targets or settings.metadata is not None or not (settings.models or settings.models_package):
        return settings
    try:
        loaded = load(settings.models, settings.base_dir, settings.models_package)
    except ModelsError:
        return settings  # said in its place: when the command loads the models, after what it checks first
    return replace(settings, database_url=loaded.url, metadata=loaded.metadata)


def with_alembic(settings: Settings) -> Settings:
    """The URL and the models the settings lack, read from their Alembic setup (env.py runs once)."""
    has_url = bool(settings.database_url or settings.targets)
    if settings.alembic is None or settings.metadata is not None or (has_url and settings.models):
        return settings
    setup = read_setup(settings.alembic, settings.database_url)
    return replace(settings, database_url=settings.database_url or setup.url, metadata=None if settings.models else setup.metadata)


@contextmanager
def database_errors(target: Target) -> Iterator[None]:
    """A database error anywhere in a command becomes one line naming the server (never the password)."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        raise DatabaseError(f"{target.url}: {first_line(error)}") from None


