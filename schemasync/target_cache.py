"""A cache of built targets: an unchanged model set costs no scratch build.

Building the models in a scratch place is the expensive half of a plan (about 10 s for 1,000
tables on PostgreSQL). What the server builds depends only on the models' DDL as this dialect
compiles it (described per table by model_key.py, or compiled where it cannot describe it), the
server's version, the dialect's build context (MySQL: the database's character set), and
schemasync's and SQLAlchemy's own code, so those make the key. The value is the normalised target with
the server's own names in the lock file's form (snapshot.table_to_stored: by field name, so a new
field is never dropped) and its fingerprint. Entries are files; a write is atomic (rename), and an
entry that cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemasync.snapshot import (
    Snapshot,
    Table,
    by_key,
    digest,
    objects_to_dict,
    table_from_stored,
    table_to_stored,
    with_objects,
)

FORMAT = 5


@cache
def code_digest() -> str:
    """schemasync's own source, sub-packages included (the dialects' readers and normalisers): a
    changed normaliser must never be served an old entry."""
    package = Path(__file__).resolve().parent
    return digest([[p.relative_to(package).as_posix(), p.read_text(encoding="utf-8")] for p in sorted(package.rglob("*.py"))])


@dataclass(frozen=True)
class BuiltOn:
    """What a scratch build yields depends on besides the models: the dialect, the server's version
    and the dialect's build context (`Dialect.build_context`: MySQL's character set)."""

    dialect: str
    server: str
    context: str


@dataclass(frozen=True)
class TargetCache:
    """Built targets by the models' per-table keys (model_key.cache_keys) and where they were built.

    An entry holds a whole model set; each of its tables is stored with the key of the model it was
    built from, and a load checks each table against the key asked for, so entries can also be read
    table by table (issue 19: only the changed tables rebuilt)."""

    directory: Path

    def key(self, built_on: BuiltOn, model_keys: dict[str, str]) -> str:
        return digest({
            "format": FORMAT, "code": code_digest(), "sqlalchemy": sa.__version__, "dialect": built_on.dialect, "server": built_on.server,
            "context": built_on.context, "models": sorted(model_keys.items()),
        })

    def _path(self, key: str) -> Path:
        return self.directory / f"target-{key.removeprefix('sha256:')}.json"

    def load(self, built_on: BuiltOn, model_keys: dict[str, str]) -> Snapshot | None:
        """The target built from these models: a line with the fingerprint and the schema-level
        objects, then a line per table, `[model key, stored form]` (read one at a time, so the
        parsed text never sits in memory beside the snapshot). None when any table's key differs."""
        try:
            with self._path(self.key(built_on, model_keys)).open(encoding="utf-8") as file:
                header = json.loads(file.readline())
                fingerprint = str(header["fingerprint"])
                tables = tuple(sorted((_table(json.loads(line), model_keys) for line in file), key=by_key))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        return with_objects(Snapshot(built_on.dialect, tables), header).known_fingerprint(fingerprint)

    def store(self, built_on: BuiltOn, model_keys: dict[str, str], snapshot: Snapshot) -> None:
        """Best effort: a cache that cannot be written only costs the next run a build."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".target-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(json.dumps({"fingerprint": snapshot.fingerprint(), **objects_to_dict(snapshot)}) + "\n")
                file.writelines(json.dumps([model_keys.get(t.qualified_name), table_to_stored(t)]) + "\n" for t in snapshot.tables)
            os.replace(temporary, self._path(self.key(built_on, model_keys)))
        except OSError:
            pass


def _table(row: list[Any], model_keys: dict[str, str]) -> Table:
    """One stored table, if it was built from the model asked for (else a KeyError: a miss)."""
    key, stored = row
    table = table_from_stored(stored)
    if model_keys.get(table.qualified_name) != key:
        raise KeyError(table.qualified_name)
    return table


def default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """$SCHEMASYNC_CACHE_DIR (`off` disables), else $XDG_CACHE_HOME/schemasync or ~/.cache/schemasync."""
    configured = environ.get("SCHEMASYNC_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false") else Path(configured)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "schemasync"
