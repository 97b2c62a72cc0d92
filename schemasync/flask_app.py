"""A Flask application's models and database, as Flask-SQLAlchemy knows them.

Flask-SQLAlchemy keeps one MetaData per bind (`db.metadatas`: None is the default database, each
`__bind_key__` another database). One bind is managed per run, the default unless a spec names
another (`app:db.metadatas[audit]`); every table of the other binds is listed as ignored, one line
each, never dropped silently. The URL comes from the app when the spec reaches one (`app:create_app()`,
or an app beside the `db` in the models module), read from the engine Flask-SQLAlchemy made: a
relative `sqlite:///x.db` then lies in the app's instance folder, as it does for the app.

Duck-typed: Flask and Flask-SQLAlchemy are never imported here (they are optional).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from schemasync.errors import ModelsError

EXTENSION = "sqlalchemy"  # the key Flask-SQLAlchemy registers itself under in app.extensions


@dataclass(frozen=True)
class FlaskModels:
    """One bind's MetaData, its database's URL when an app is known, and the other binds' tables."""

    metadata: sa.MetaData
    url: str | None
    ignored: tuple[str, ...]


def flask_models(value: Any, module: Any, bind: str | None = None) -> FlaskModels | None:
    """The models when `value` is a Flask app, a Flask-SQLAlchemy `db`, its `db.Model` or one of its
    MetaData (found beside it in `module`); None for anything else. `bind`: that bind's instead of
    the default one (an unknown bind is a one-line error)."""
    app = value if _is_app(value) else None
    db = app.extensions[EXTENSION] if app is not None else _db_of(value)
    key: str | None = bind
    if db is None and isinstance(value, sa.MetaData):
        db, key = _owner_in(module, value)
    if db is None:
        return None
    if key not in _metadatas(db):
        known = ", ".join(sorted(str(k) for k in _metadatas(db) if k is not None)) or "none"
        raise ModelsError(f"Flask-SQLAlchemy has no bind '{key}' (binds with models: {known})")
    app = app or (_app_in(module, db) if module is not None else None)
    return FlaskModels(_metadatas(db)[key], _url(app, db, key), tuple(_other_binds(db, key)))


def other_binds_of(app: Any, metadata: sa.MetaData) -> tuple[str, ...]:
    """The ignored lines for the binds of `app`'s db other than the one `metadata` is (a Flask-Migrate
    env.py hands over one bind's MetaData); () when it is none of them."""
    db = app.extensions.get(EXTENSION) if _is_app(app) else None
    keys = [key for key, candidate in _metadatas(db).items() if candidate is metadata] if db is not None else []
    return tuple(_other_binds(db, keys[0])) if keys else ()


def _is_app(value: Any) -> bool:
    extensions = getattr(value, "extensions", None)
    return isinstance(extensions, dict) and _is_db(extensions.get(EXTENSION)) and hasattr(value, "app_context")


def _is_db(value: Any) -> bool:
    metadatas = getattr(value, "metadatas", None) if not isinstance(value, type) else None
    return isinstance(metadatas, dict) and all(isinstance(m, sa.MetaData) for m in metadatas.values()) and hasattr(value, "Model")


def _db_of(value: Any) -> Any:
    """The `db` of `db` itself or of `db.Model` (Flask-SQLAlchemy 3 sets `Model.__fsa__`)."""
    if _is_db(value):
        return value
    owner = getattr(value, "__fsa__", None) if isinstance(value, type) else None
    return owner if _is_db(owner) else None


def _metadatas(db: Any) -> dict[str | None, sa.MetaData]:
    return dict(db.metadatas) if None in db.metadatas else {None: db.metadata, **db.metadatas}


def _owner_in(module: Any, metadata: sa.MetaData) -> tuple[Any, str | None]:
    """The `db` in `module` that holds `metadata`, and its bind key."""
    for value in vars(module).values():
        if _is_db(value):
            for key, candidate in _metadatas(value).items():
                if candidate is metadata:
                    return value, key
    return None, None


def _app_in(module: Any, db: Any) -> Any:
    """A Flask app in `module` that `db` is registered on (`app = Flask(__name__); db.init_app(app)`)."""
    return next((v for v in vars(module).values() if _is_app(v) and v.extensions[EXTENSION] is db), None)


def _url(app: Any, db: Any, key: str | None) -> str | None:
    """The bind's URL as the app's engine has it (Flask-SQLAlchemy resolved relative SQLite paths
    into the instance folder); None without an app or an engine for that bind."""
    if app is None:
        return None
    with app.app_context():
        engine = db.engines.get(key)
    if engine is None:
        return None
    url: sa.URL = engine.url
    return url.render_as_string(hide_password=False)


def _other_binds(db: Any, managed: str | None) -> list[str]:
    """One line per table of every bind but the managed one."""
    lines = []
    for key, metadata in sorted(_metadatas(db).items(), key=lambda item: item[0] or ""):
        if key == managed:
            continue
        where = f"bind '{key}'" if key is not None else "default bind"
        spec = _spec_for(db, metadata, key)
        for table in sorted(metadata.tables.values(), key=lambda t: t.fullname):
            lines.append(f"table {table.fullname}: in Flask-SQLAlchemy's {where}, another database "
                         f"(manage it in its own run: --models \"{spec}\" with that database's URL)")
    return lines


def _spec_for(db: Any, metadata: sa.MetaData, key: str | None) -> str:
    """The --models value for one bind: the module its model classes are defined in (importing it
    defines them) and the name `db` has there; `...` where that is not known."""
    path = f"{{}}.metadatas[{key}]" if key is not None else "{}"
    mappers = getattr(getattr(getattr(db, "Model", None), "registry", None), "mappers", ())
    modules = sorted({m.class_.__module__ for m in mappers if getattr(m, "local_table", None) is not None and m.local_table.metadata is metadata})
    for name in modules:
        module = sys.modules.get(name)
        found = next((attr for attr, value in vars(module).items() if value is db), None) if module else None
        if found:
            return f"{name}:{path.format(found)}"
    return f"...:{path.format('db')}"
