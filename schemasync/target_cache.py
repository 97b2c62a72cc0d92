"""A cache of built targets: an unchanged model set costs no scratch build.

Building the models in a scratch place is the expensive half of a plan (about 10 s for 1,000
tables on PostgreSQL). What the server builds depends only on the models' DDL as this dialect
compiles it, the server's version, the dialect's build context (MySQL: the database's character
set) and schemasync's own code, so those make the key. The value is the normalised target with
the server's own names, in the lock file's form. Entries are files; a write is atomic (rename),
and an entry that cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemasync.lockfile import table_from_lock_dict, table_to_lock_dict
from schemasync.snapshot import Snapshot, digest, table_sort_key

FORMAT = 1


@cache
def code_digest() -> str:
    """schemasync's own source: a changed normaliser must never be served an old entry."""
    package = Path(__file__).resolve().parent
    return digest([[p.name, p.read_text(encoding="utf-8")] for p in sorted(package.glob("*.py"))])


@dataclass(frozen=True)
class TargetCache:
    directory: Path

    def key(self, dialect: str, server: str, context: str, model_tables: dict[str, str]) -> str:
        return digest({"format": FORMAT, "code": code_digest(), "dialect": dialect, "server": server, "context": context, "models": sorted(model_tables.items())})

    def _path(self, key: str) -> Path:
        return self.directory / f"target-{key.removeprefix('sha256:')}.json"

    def load(self, key: str, dialect: str) -> Snapshot | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            tables = tuple(sorted((table_from_lock_dict(t) for t in data["tables"]), key=table_sort_key))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return Snapshot(dialect, tables)

    def store(self, key: str, snapshot: Snapshot) -> None:
        """Best effort: a cache that cannot be written only costs the next run a build."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".target-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump({"tables": [table_to_lock_dict(t) for t in snapshot.tables]}, file)
            os.replace(temporary, self._path(key))
        except OSError:
            pass


def default_cache_dir(environ: dict[str, str] | os._Environ[str]) -> Path | None:
    """$SCHEMASYNC_CACHE_DIR (`off` disables), else $XDG_CACHE_HOME/schemasync or ~/.cache/schemasync."""
    configured = environ.get("SCHEMASYNC_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false") else Path(configured)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "schemasync"
