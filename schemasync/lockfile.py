"""The lock file: the normalised schema of the models (or of a live database), committed with them.

Offline plans diff two normalised snapshots with no server at all; the lock file is where the
normalised form is kept. It is written by `schemasync snapshot`, which builds the models on a server
of each dialect (the same scratch build `plan` uses, nothing left behind; SQLite builds in memory),
so its snapshots compare equal to a database the models were applied to.

Per dialect it holds the snapshot, its fingerprint, and the digest of the models it was made from.
That digest needs no server (`model_key.lock_digests`: each table's CREATE statements compiled
offline), so `check --against` can tell without a server whether the models changed since the lock
was written, and which tables.

Tables are written in the stored form (`snapshot.table_to_stored`, the target cache's too): the
canonical form plus, under `server_names`, the server names of unnamed constraints (`db_name`) and
MySQL's implicit foreign key indexes, so an offline plan can drop them by name; they are not part of
any fingerprint.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from schemasync import __version__
from schemasync.dialects import offline_dialect
from schemasync.diff import diff
from schemasync.errors import ConfigError
from schemasync.model_key import changed_tables, lock_digests
from schemasync.snapshot import (
    Snapshot,
    by_key,
    objects_to_dict,
    table_from_stored,
    table_to_stored,
    with_objects,
)
from schemasync.view import views_of

FORMAT = 1
DEFAULT_LOCK_FILE = "schema.lock.yaml"
MODELS, DATABASE = "models", "database"
EMPTY = "empty"
HEADER = """\
# schemasync lock file: the normalised schema of the {source}, per dialect.
# Written by `schemasync snapshot --out {name}`; commit it, do not edit it (fingerprints are checked).
# Offline plans read it: `schemasync plan --from {name} --dialect <dialect> --sql`. See docs/ci.md.
"""


@dataclass(frozen=True)
class LockEntry:
    """One dialect's normalised snapshot, and (for models) the digests of the models it came from."""

    snapshot: Snapshot
    models_digest: str | None = None
    model_tables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LockFile:
    source: str
    entries: dict[str, LockEntry]
    tool_version: str = __version__

    def entry(self, dialect: str, path: Path | str) -> LockEntry:
        """The snapshot for `dialect`; a lock written for other dialects is a one-line error."""
        found = self.entries.get(dialect)
        if found is None:
            have = ", ".join(sorted(self.entries)) or "none"
            raise ConfigError(f"{path} has no {dialect} snapshot (it has: {have}); run `schemasync snapshot --out {path}` against a {dialect} database")
        return found

    def with_entry(self, dialect: str, entry: LockEntry, up_to_date: Callable[[str, LockEntry], bool]) -> LockFile:
        """This lock plus a models `entry`; other dialects stay only while `up_to_date` (same models)."""
        kept = {name: old for name, old in self.entries.items() if name != dialect and self.source == MODELS and up_to_date(name, old)}
        return LockFile(MODELS, {**kept, dialect: entry})

    def to_yaml(self, name: str) -> str:
        data = {
            "format": FORMAT,
            "source": self.source,
            "tool_version": self.tool_version,
            "dialects": {d: _entry_to_dict(self.entries[d]) for d in sorted(self.entries)},
        }
        data = json.loads(json.dumps(data))  # plain str for SQLAlchemy's quoted_name, which YAML refuses
        body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
        return HEADER.format(source="models" if self.source == MODELS else "live database", name=name) + body

    @classmethod
    def from_yaml(cls, text: str, path: Path | str) -> LockFile:
        try:
            data = yaml.safe_load(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("source") not in (MODELS, DATABASE):
                raise ConfigError(f"{path}: not a schemasync lock file (format {FORMAT}); write one with `schemasync snapshot --out {path}`")
            entries = {str(d): _entry_from_dict(str(d), e) for d, e in (data.get("dialects") or {}).items()}
            recorded = {str(d): e.get("fingerprint") for d, e in (data.get("dialects") or {}).items()}
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML ({getattr(error, 'problem', None) or 'syntax error'})") from None
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ConfigError(f"{path}: not a readable schemasync lock file ({type(error).__name__}: {error})") from None
        for dialect, entry in entries.items():
            if entry.snapshot.fingerprint() != recorded[dialect]:
                raise ConfigError(f"{path}: the {dialect} snapshot does not match its fingerprint (edited by hand?): write it again with `schemasync snapshot`")
        return cls(data["source"], entries, str(data.get("tool_version", "")))


def read(path: Path) -> LockFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"lock file {path} does not exist (write it with `schemasync snapshot --out {path}`)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read lock file {path}: {getattr(error, 'strerror', None) or error}") from None
    return LockFile.from_yaml(text, path)


def read_if_exists(path: Path) -> LockFile | None:
    return read(path) if path.is_file() else None


def write(path: Path, lock: LockFile) -> None:
    try:
        path.write_text(lock.to_yaml(path.name), encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot write lock file {path}: {error.strerror}") from None


# --- the stored form (snapshot.table_to_stored): the canonical form plus the server's own names ----


def _entry_to_dict(entry: LockEntry) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if entry.models_digest:
        data["models_digest"] = entry.models_digest
        data["model_tables"] = dict(sorted(entry.model_tables.items()))
    data["fingerprint"] = entry.snapshot.fingerprint()
    data["tables"] = [table_to_stored(t) for t in entry.snapshot.tables]
    data.update(objects_to_dict(entry.snapshot))
    return data


def _entry_from_dict(dialect: str, data: dict[str, Any]) -> LockEntry:
    tables = tuple(sorted((table_from_stored(t) for t in data["tables"]), key=by_key))
    return LockEntry(with_objects(Snapshot(dialect, tables), data), data.get("models_digest"), dict(data.get("model_tables") or {}))


def previously_managed(lock: LockFile, dialect: str, path: Path | str) -> Iterable[tuple[str | None, str]]:
    """A models lock's tables were managed by the models it was made from; a database's were not."""
    snapshot = lock.entry(dialect, path).snapshot
    return [*snapshot.tables_by_key, *snapshot.views_by_key] if lock.source == MODELS else ()


@dataclass(frozen=True)
class LockStatus:
    """How a lock file compares with the models (`model_changes`) and with a live database."""

    path: str
    dialect: str
    model_changes: tuple[str, ...] = ()
    live_differences: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.model_changes and not self.live_differences


def live_lock_status(lock: LockFile, path: Path | str, metadata: sa.MetaData, dialect: str, keep: Callable[[str | None, str], bool], live: Snapshot) -> LockStatus:
    """The lock against the models (digests) and against the live schema (its managed tables)."""
    entry = lock.entry(dialect, path)
    model_changes: tuple[str, ...] = ()
    if lock.source == MODELS:
        digests = lock_digests(metadata, keep, offline_dialect(dialect))
        model_changes = tuple(changed_tables(entry.model_tables, digests))
    keys = set(entry.snapshot.tables_by_key) | {(t.schema, t.name) for t in metadata.tables.values()}
    keys |= set(entry.snapshot.views_by_key) | set(views_of(metadata))
    differences = tuple(op.summary() for op in diff(entry.snapshot, live.only(keys)))
    return LockStatus(str(path), dialect, model_changes, differences)


