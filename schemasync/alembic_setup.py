"""Reading an existing Alembic setup: the URL and the models from `alembic.ini` + `env.py`, the heads.

env.py cannot be imported on its own (it uses `alembic.context`), so it is run by Alembic's own
machinery, the way `alembic current` runs it: an `EnvironmentContext` whose work function runs no
revision and only notes what env.py configured (`target_metadata`, the connection it opened).
`dont_mutate` keeps Alembic from creating its version table. env.py runs as if `alembic` had been
started in alembic.ini's folder (relative `script_location`, `prepend_sys_path = .` and SQLite paths
resolve there); the folder, `sys.path` and logging are restored afterwards.

An async env.py (Alembic's `async` template, as FastAPI projects have it) or an async URL is run in
Alembic's offline mode instead: env.py then configures the URL and `target_metadata` without
connecting, so no event loop, greenlet or async driver is needed. A Flask-Migrate setup
(`migrations/alembic.ini` with no `script_location`; env.py reads `current_app`) runs inside the
Flask app's context, the app found as `flask` finds it (FLASK_APP, else app.py or wsgi.py in the
project folder above `migrations/`), and its scripts are in the ini's folder as Flask-Migrate says.

Alembic is optional: it is imported here, lazily, and only when an Alembic setup is read.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa

from schemasync.dialects import absolute_url, sync_url
from schemasync.errors import ConfigError
from schemasync.flask_app import other_binds_of
from schemasync.models import IGNORED_INFO, as_metadata

DEFAULT_INI = "alembic.ini"
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class AlembicSetup:
    """What an Alembic environment points at: its database and its models (either may be missing)."""

    ini: Path
    url: str | None
    metadata: sa.MetaData | None = field(default=None, compare=False, repr=False)


def alembic_modules() -> ModuleType:
    """The `alembic` package, or a one-line error saying how to install it."""
    try:
        import alembic
        import alembic.config
        import alembic.runtime.environment
        import alembic.script
        import alembic.util
    except ImportError:
        raise ConfigError("reading an Alembic setup needs Alembic: pip install alembic") from None
    return alembic


def read_setup(ini: Path, database_url: str | None = None) -> AlembicSetup:
    """Run env.py (online, changing nothing) and return the URL it connected to and its target_metadata.

    With `database_url`, `sqlalchemy.url` is set to it first, so an env.py that reads its URL from
    the config (the template does) connects there.
    """
    alembic = alembic_modules()
    ini = ini.resolve()
    config = load_config(ini)
    if database_url:  # a relative SQLite path stays relative to where schemasync was started
        config.set_main_option("sqlalchemy.url", (_url(database_url, Path.cwd()) or database_url).replace("%", "%%"))
    seen: dict[str, Any] = {"app": None}

    def note(revision: Any, context: Any) -> list[Any]:
        seen["url"] = context.connection.engine.url if context.connection is not None and not context.as_sql else None
        return []  # no revision runs

    with _as_if_run_in(ini.parent):
        script = script_directory(config, ini)
        env_source = _env_source(script)
        offline = _is_async(env_source, config.get_main_option("sqlalchemy.url"))
        environment = alembic.runtime.environment.EnvironmentContext(config, script, fn=note, dont_mutate=True, as_sql=offline, output_buffer=io.StringIO())
        try:
            with environment, contextlib.redirect_stdout(sys.stderr), _flask_context(env_source, ini) as app:
                seen["app"] = app
                script.run_env()
        except alembic.util.CommandError as error:
            raise ConfigError(f"{ini.name}: {_first_line(error)}") from None
        except (Exception, SystemExit) as error:  # noqa: BLE001  (env.py is the user's code: anything can happen)
            raise ConfigError(f"{ini.name}: running env.py failed: {_describe(error)}") from None
    options = environment.context_opts
    metadata = options.get("target_metadata")
    if isinstance(metadata, sa.MetaData) and seen["app"] is not None:  # Flask-Migrate: the other binds are named, not dropped silently
        metadata.info[IGNORED_INFO] = other_binds_of(seen["app"], metadata)
    return AlembicSetup(ini, _url(seen.get("url") or options.get("url") or config.get_main_option("sqlalchemy.url"), ini.parent),
                        as_metadata(metadata, f"{ini.name}: target_metadata") if metadata is not None else None)


def _env_source(script: Any) -> str:
    """env.py's text ('' when there is none: running it says so)."""
    path = Path(script.dir) / "env.py"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def _is_async(env_source: str, url: str | None) -> bool:
    """Whether env.py connects through an async engine, or the URL names an async driver."""
    if "async_engine_from_config" in env_source or "create_async_engine" in env_source:
        return True
    if not url:
        return False
    try:
        return sync_url(sa.engine.make_url(url))[1] is not None
    except (sa.exc.ArgumentError, ValueError, ConfigError):
        return False


@contextlib.contextmanager
def _flask_context(env_source: str, ini: Path) -> Iterator[Any]:
    """The Flask app's context, for a Flask-Migrate env.py (it reads `current_app`); yields the app (else None)."""
    if "current_app" not in env_source:
        yield None
        return
    try:
        from flask.cli import NoAppException, ScriptInfo
    except ImportError:
        raise ConfigError(f"{ini.name}: env.py reads Flask's current_app (Flask-Migrate), but Flask is not installed") from None
    project = ini.parent.parent
    previous = Path.cwd()
    os.chdir(project)
    sys.path.insert(0, str(project))
    try:
        app = ScriptInfo(app_import_path=os.environ.get("FLASK_APP")).load_app()
    except NoAppException as error:
        raise ConfigError(f"{ini.name}: env.py needs the Flask app, which was not found in {project} ({_first_line(error)}; set FLASK_APP)") from None
    except Exception as error:  # noqa: BLE001  (the app's factory is the user's code)
        raise ConfigError(f"{ini.name}: loading the Flask app failed: {_describe(error)}") from None
    finally:
        os.chdir(previous)
    with app.app_context():
        yield app


def load_config(ini: Path) -> Any:
    """alembic.ini as Alembic's Config; a missing or unreadable file is a one-line error."""
    alembic = alembic_modules()
    if not ini.is_file():
        raise ConfigError(f"Alembic config {ini} does not exist" if not ini.exists() else f"Alembic config {ini} is not a file")
    # Alembic also reads [tool.alembic] from pyproject.toml in the folder it runs in.
    pyproject = ini.parent / "pyproject.toml"
    config = alembic.config.Config(str(ini), toml_file=str(pyproject) if pyproject.is_file() else None)
    try:
        config.file_config  # parsed on first use  # noqa: B018
    except Exception as error:  # noqa: BLE001  (configparser's errors have no common base worth naming)
        raise ConfigError(f"{ini.name}: not a readable Alembic config ({_describe(error)})") from None
    if _flask_migrate_layout(config, ini):  # the scripts are beside the ini, as Flask-Migrate tells Alembic
        config.set_main_option("script_location", str(ini.parent).replace("%", "%%"))
    return config


def _flask_migrate_layout(config: Any, ini: Path) -> bool:
    """`migrations/alembic.ini` as `flask db init` writes it: no script_location anywhere, env.py beside it."""
    if not config.file_config.has_section(config.config_ini_section) or config.get_main_option("script_location"):
        return False
    return (ini.parent / "env.py").is_file() and not (ini.parent / "pyproject.toml").is_file()


def script_directory(config: Any, ini: Path) -> Any:
    """Alembic's ScriptDirectory for the config; its complaints become one line."""
    alembic = alembic_modules()
    try:
        return alembic.script.ScriptDirectory.from_config(config)
    except alembic.util.CommandError as error:
        raise ConfigError(f"{ini.name}: {_first_line(error)}") from None


def script_heads(ini: Path) -> tuple[str, ...]:
    """The head revisions of the setup's scripts (no database, no env.py)."""
    alembic = alembic_modules()
    ini = ini.resolve()
    with _as_if_run_in(ini.parent):
        script = script_directory(load_config(ini), ini)
        try:
            return tuple(sorted(script.get_heads()))
        except alembic.util.CommandError as error:
            raise ConfigError(f"{ini.name}: {_first_line(error)}") from None


def heads_in(versions: Path) -> tuple[tuple[str, ...], Any]:
    """The head revisions of a versions directory on its own, and Alembic's view of it (to look them up)."""
    alembic = alembic_modules()
    if not versions.is_dir():
        raise ConfigError(f"{versions} is not a directory (give the Alembic versions directory)")
    with _restored_sys_path():
        script = alembic.script.ScriptDirectory(str(versions.parent), version_locations=[str(versions)])
        try:
            return tuple(sorted(script.get_heads())), script
        except alembic.util.CommandError as error:
            raise ConfigError(f"{versions}: {_first_line(error)}") from None
        except Exception as error:  # noqa: BLE001  (a revision file that does not import)
            raise ConfigError(f"{versions}: a revision file cannot be read: {_describe(error)}") from None


def database_heads(connection: sa.Connection, schema: str | None = None) -> tuple[str, ...] | None:
    """The revisions Alembic recorded in the database, or None when it has no alembic_version table."""
    if not sa.inspect(connection).has_table(VERSION_TABLE, schema=schema):
        return None
    table = sa.table(VERSION_TABLE, sa.column("version_num"), schema=schema)
    return tuple(sorted(connection.execute(sa.select(table.c.version_num)).scalars()))


def _url(url: Any, folder: Path) -> str | None:
    """The URL as a string with its password (it is used to connect); a relative SQLite path is
    made absolute against the folder env.py ran in."""
    if not url:
        return None
    try:
        parsed = sa.engine.make_url(url) if isinstance(url, str) else url
    except (sa.exc.ArgumentError, ValueError):
        return str(url)  # reported, without repeating it, when the database is opened
    return absolute_url(parsed, folder).render_as_string(hide_password=False)


@contextlib.contextmanager
def _as_if_run_in(folder: Path) -> Iterator[None]:
    """The current folder, sys.path and logging as `alembic` would have them; restored afterwards."""
    previous = Path.cwd()
    level = logging.root.manager.disable
    os.chdir(folder)
    logging.disable(logging.INFO)  # env.py's fileConfig() would print "Context impl ..." lines
    try:
        with _restored_sys_path():
            sys.path.insert(0, str(folder))
            importlib.invalidate_caches()  # the models env.py imports may have been written just now
            yield
    finally:
        os.chdir(previous)
        logging.disable(level)


@contextlib.contextmanager
def _restored_sys_path() -> Iterator[None]:
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _describe(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"env.py called sys.exit({error.code!r})"
    return f"{type(error).__name__}: {_first_line(error)}" if str(error).strip() else type(error).__name__
