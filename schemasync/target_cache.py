"""Built tables, kept by the key of the model each was built from: pay only for what changed.

Building the models in a scratch place is the expensive half of a plan (about 10 s for 1,000
tables on PostgreSQL). What the server builds for one table depends only on that table's DDL as
this dialect compiles it and on the tables its foreign keys name (model_key.cache_keys describes
both per table), the server's version, the dialect's build context (MySQL: the database's character
set), and schemasync's and SQLAlchemy's own code: the last four make the cache's `identity`, the
first the per-table keys. So a table is taken from wherever it was built before with the same key:

- a local entry (`TargetCache`): a file per identity, a line per table, rewritten after each build;
- the database itself (`recorded`): the last apply's target in schema_state, with the keys it was
  built from (state.target_record), so a fresh machine (a CI runner) needs no build at all.

Views, enum types and sequences are kept beside the tables and taken only when all of their keys
match (a view's key covers the tables it reads): otherwise the whole model set is built again.
Entries are files; a write is atomic (rename), and an entry that cannot be read is ignored.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
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

FORMAT = 6


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

    @property
    def identity(self) -> str:
        """Everything but the models that a built table depends on, as one digest."""
        return digest({"format": FORMAT, "code": code_digest(), "sqlalchemy": sa.__version__, "dialect": self.dialect, "server": self.server, "context": self.context})


def is_table_key(name: str) -> bool:
    """cache_keys names tables `schema.name`; views, enum types and sequences have a kind in front."""
    return not name.startswith(("view ", "enum:", "sequence:"))


def object_keys_of(keys: Mapping[str, str]) -> dict[str, str]:
    """The keys of the views, enum types and sequences among `keys` (taken only all together)."""
    return {n: k for n, k in keys.items() if not is_table_key(n)}


@dataclass(frozen=True)
class Built:
    """Tables (and the schema-level objects) built before: what a source offers, by name and key."""

    tables: Mapping[str, tuple[str, Table]]  # qualified name -> (model key, table)
    object_keys: Mapping[str, str]  # views, enum types, sequences -> key
    objects: Mapping[str, Any]  # their canonical form (snapshot.objects_to_dict)
    # The fingerprint of the whole target these keys gave, when the source knows it (a local entry).
    fingerprint: tuple[str, str] | None = None  # (digest of every key, fingerprint)

    def matching(self, keys: Mapping[str, str]) -> dict[str, Table]:
        return {name: table for name, (key, table) in self.tables.items() if keys.get(name) == key}

    def objects_match(self, keys: Mapping[str, str]) -> bool:
        return dict(self.object_keys) == object_keys_of(keys)


@dataclass(frozen=True)
class TargetRecord:
    """What a target was built from (its identity and per-model keys), for the apply to record in
    schema_state beside the target itself: the database then serves as the cache (issue 19)."""

    identity: str
    keys: Mapping[str, str]
    target: Snapshot = field(compare=False, repr=False)

    @cached_property
    def stored(self) -> dict[str, Any]:
        """The record as schema_state keeps it: the target's tables are in snapshot_after already
        (the canonical form); what that form leaves out, the server's own names, is kept here."""
        server_names = {}
        for table in self.target.tables:
            names = table_to_stored(table).get("server_names")
            if names:
                server_names[table.qualified_name] = names
        return {"identity": self.identity, "keys": dict(self.keys), "server_names": server_names}


def from_record(stored: Mapping[str, Any], snapshot_after: Mapping[str, Any], fingerprint: str, identity: str) -> Built | None:
    """The tables of a recorded apply's target (whose fingerprint is `fingerprint`), if it was built
    with this identity (None otherwise)."""
    try:
        if stored.get("identity") != identity:
            return None
        keys, server_names = stored["keys"], stored.get("server_names") or {}
        tables: dict[str, tuple[str, Table]] = {}
        stored_tables = snapshot_after.get("tables") or []
        for at, data in enumerate(stored_tables):
            name = f"{data['schema']}.{data['name']}" if data.get("schema") else str(data["name"])
            if name in keys:
                names = server_names.get(name)
                tables[name] = (keys[name], table_from_stored({**data, "server_names": names} if names else data))
            stored_tables[at] = None  # each parsed table let go once made: the parsed record is not held beside the snapshot
        objects = objects_to_dict(with_objects(Snapshot(str(snapshot_after.get("dialect") or "")), dict(snapshot_after)))
        return Built(tables, object_keys_of(keys), objects, (keys_digest(keys), fingerprint))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class TargetCache:
    """Built tables on this machine: one entry per identity, a line per table and model key.

    An entry keeps VERSIONS model sets: switching between two branches (or the bench's two model
    sets) finds both, where keeping only the newest would build the difference at every switch."""

    directory: Path

    def _path(self, identity: str) -> Path:
        return self.directory / f"targets-{identity.removeprefix('sha256:')[:40]}.jsonl"

    def load(self, identity: str, keys: Mapping[str, str]) -> Built | None:
        """The entry's tables whose key is among `keys` (the others are skipped unparsed): a line
        with the model sets' objects and fingerprints, newest first, then a line per table,
        `name, model key, stored form` (read one at a time, so the parsed text never sits in memory
        beside the snapshot)."""
        try:
            with self._path(identity).open(encoding="utf-8") as file:
                versions = json.loads(file.readline())["versions"]
                tables: dict[str, tuple[str, Table]] = {}
                for line in file:
                    name, key, rest = _split_line(line)
                    if keys.get(name) == key and name not in tables:
                        tables[name] = (key, table_from_stored(json.loads(rest)))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        wanted = object_keys_of(keys)
        chosen = next((v for v in versions if v["object_keys"] == wanted), versions[0])
        known = next(((v["keys"], v["fingerprint"]) for v in versions if v["keys"] == keys_digest(keys)), None)
        return Built(tables, chosen["object_keys"], chosen["objects"], known)

    def store(self, identity: str, keys: Mapping[str, str], snapshot: Snapshot) -> None:
        """Best effort: a cache that cannot be written only costs the next run a build. The entry
        gets this target's tables first, then those of the entry's older model sets that differ
        (VERSIONS - 1 more per table at most), copied as they were."""
        path = self._path(identity)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            older = _read_versions(path)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".targets-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                newest = {"keys": keys_digest(keys), "fingerprint": snapshot.fingerprint(),
                          "object_keys": object_keys_of(keys), "objects": objects_to_dict(snapshot)}
                versions = [newest, *[v for v in older if v["keys"] != newest["keys"]]][:VERSIONS]
                file.write(json.dumps({"versions": versions}) + "\n")
                written: dict[str, int] = {}
                for table in snapshot.tables:
                    written[table.qualified_name] = 1
                    file.write(f"{json.dumps(table.qualified_name)}\t{json.dumps(keys.get(table.qualified_name))}\t{json.dumps(table_to_stored(table))}\n")
                if older:
                    _copy_older(path, file, keys, written)
            os.replace(temporary, path)
        except (OSError, ValueError):
            pass


VERSIONS = 2  # model sets an entry keeps


def _read_versions(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as file:
            versions = json.loads(file.readline()).get("versions")
        return list(versions) if isinstance(versions, list) else []
    except (OSError, ValueError, AttributeError):
        return []


def _copy_older(path: Path, file: Any, keys: Mapping[str, str], written: dict[str, int]) -> None:
    """The old entry's table lines that the new one lacks, as long as a table has fewer than VERSIONS."""
    with path.open(encoding="utf-8") as old:
        old.readline()
        for line in old:
            name, key, _ = _split_line(line)
            if keys.get(name) != key and written.get(name, 0) < VERSIONS:
                written[name] = written.get(name, 0) + 1
                file.write(line)


def keys_digest(keys: Mapping[str, str]) -> str:
    return digest(sorted(keys.items()))


def _split_line(line: str) -> tuple[str, str, str]:
    """A table's line: its name and key are read without parsing the stored form after them."""
    name, key, rest = line.split("\t", 2)
    return json.loads(name), json.loads(key), rest


def snapshot_of(dialect: str, tables: Mapping[str, Table], objects: Mapping[str, Any]) -> Snapshot:
    """A target from tables gathered from several places and the schema-level objects."""
    return with_objects(Snapshot(dialect, tuple(sorted(tables.values(), key=by_key))), dict(objects))


def default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """$SCHEMASYNC_CACHE_DIR (`off` disables), else $XDG_CACHE_HOME/schemasync or ~/.cache/schemasync."""
    configured = environ.get("SCHEMASYNC_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false") else Path(configured)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "schemasync"
