"""A cache of built targets: an unchanged model set costs no scratch build.

Building the models in a scratch place is the expensive half of a plan (about 10 s for 1,000
tables on PostgreSQL). What the server builds depends only on the models' DDL as this dialect
compiles it (described per table by model_key.py, or compiled where it cannot describe it), the
server's version, the dialect's build context (MySQL: the database's character set), and
schemasync's and SQLAlchemy's own code, so those make the key. The value is the normalised target with
the server's own names (what the lock file keeps too) and its fingerprint, in a compact form that
loads in a few milliseconds per thousand columns. Entries are files; a write is atomic (rename),
and an entry that cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from schemasync.snapshot import (
    OPTIONAL_COLUMN_KEYS,
    OPTIONAL_FIELDS,
    Check,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    PrimaryKey,
    Snapshot,
    Table,
    Unique,
    column_to_dict,
    deep_list,
    deep_tuple,
    digest,
    objects_to_dict,
    table_sort_key,
    with_objects,
)

FORMAT = 4


@cache
def code_digest() -> str:
    """schemasync's own source, sub-packages included (the dialects' readers and normalisers): a
    changed normaliser must never be served an old entry."""
    package = Path(__file__).resolve().parent
    return digest([[p.relative_to(package).as_posix(), p.read_text(encoding="utf-8")] for p in sorted(package.rglob("*.py"))])


@dataclass(frozen=True)
class TargetCache:
    directory: Path

    def key(self, dialect: str, server: str, context: str, model_tables: dict[str, str]) -> str:
        return digest({
            "format": FORMAT, "code": code_digest(), "sqlalchemy": sa.__version__, "dialect": dialect, "server": server,
            "context": context, "models": sorted(model_tables.items()),
        })

    def _path(self, key: str) -> Path:
        return self.directory / f"target-{key.removeprefix('sha256:')}.json"

    def load(self, key: str, dialect: str) -> Snapshot | None:
        """The entry for `key`: a line with the fingerprint, then a line per table (read one at a
        time, so the parsed text never sits in memory beside the snapshot)."""
        try:
            with self._path(key).open(encoding="utf-8") as file:
                header = json.loads(file.readline())
                fingerprint = str(header["fingerprint"])
                strings: dict[str, str] = {}  # one object per distinct type or default text
                tables = tuple(sorted((_table(json.loads(line), strings) for line in file), key=table_sort_key))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        return with_objects(Snapshot(dialect, tables), header).known_fingerprint(fingerprint)

    def store(self, key: str, snapshot: Snapshot) -> None:
        """Best effort: a cache that cannot be written only costs the next run a build."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".target-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(json.dumps({"fingerprint": snapshot.fingerprint(), **objects_to_dict(snapshot)}) + "\n")
                file.writelines(json.dumps(_row(t)) + "\n" for t in snapshot.tables)
            os.replace(temporary, self._path(key))
        except OSError:
            pass


# --- the compact form: one list per object, fields in a fixed order ------------------------------


def _row(table: Table) -> list[Any]:
    pk = table.primary_key
    return [
        table.schema,
        table.name,
        table.comment,
        [[c.name, c.type, c.nullable, c.default, c.autoincrement, c.comment, *_column_extras(c)] for c in table.columns],
        [list(pk.columns), pk.name, pk.db_name] if pk else None,
        [[list(f.columns), f.referred_table, list(f.referred_columns), f.referred_schema, f.ondelete, f.onupdate, f.name, f.db_name, *_extras(f)] for f in table.foreign_keys],
        [[list(u.columns), u.name, u.db_name, *_extras(u)] for u in table.uniques],
        [[i.name, list(i.columns), i.unique, *_extras(i)] for i in table.indexes],
        [[c.sqltext, c.name, c.db_name] for c in table.checks],
        [[i.name, list(i.columns), i.unique] for i in table.implicit_indexes],
        # Trailing, each only when needed: options, then exclusion constraints.
        *([deep_list(table.options)] if table.options or table.exclusions else []),
        *([[[e.definition, e.name, e.db_name] for e in table.exclusions]] if table.exclusions else []),
    ]


def _extras(item: Any) -> list[dict[str, Any]]:
    """The optional fields (snapshot.OPTIONAL_FIELDS) an item has set, as one trailing element; none: nothing."""
    found = {name: deep_list(value) for name, default in OPTIONAL_FIELDS.items() if (value := getattr(item, name, default)) != default}
    return [found] if found else []


def _restored(row: list[Any], at: int) -> dict[str, Any]:
    return {name: deep_tuple(value) for name, value in row[at].items()} if len(row) > at else {}


def _column_extras(column: Column) -> list[dict[str, Any]]:
    """Generated-column and identity fields, as one trailing map, only where a column has them."""
    extras = {k: v for k, v in column_to_dict(column).items() if k in OPTIONAL_COLUMN_KEYS}
    return [extras] if extras else []


def _table(row: list[Any], strings: dict[str, str]) -> Table:
    schema, name, comment, columns, pk, fks, uniques, indexes, checks, implicit, *tail = row

    def shared(text: str | None) -> str | None:
        return text if text is None else strings.setdefault(text, text)

    return Table(
        name=name,
        schema=schema,
        comment=comment,
        columns=tuple(Column(name=shared(c[0]), type=shared(c[1]), nullable=c[2], default=shared(c[3]), autoincrement=c[4], comment=c[5], **(c[6] if len(c) > 6 else {})) for c in columns),
        primary_key=PrimaryKey(columns=tuple(pk[0]), name=pk[1], db_name=pk[2]) if pk else None,
        foreign_keys=tuple(
            ForeignKey(columns=tuple(f[0]), referred_table=f[1], referred_columns=tuple(f[2]), referred_schema=f[3], ondelete=f[4], onupdate=f[5], name=f[6], db_name=f[7], **_restored(f, 8))
            for f in fks
        ),
        uniques=tuple(Unique(columns=tuple(u[0]), name=u[1], db_name=u[2], **_restored(u, 3)) for u in uniques),
        indexes=tuple(Index(name=i[0], columns=tuple(i[1]), unique=i[2], **_restored(i, 3)) for i in indexes),
        checks=tuple(Check(sqltext=c[0], name=c[1], db_name=c[2]) for c in checks),
        implicit_indexes=tuple(Index(name=i[0], columns=tuple(i[1]), unique=i[2]) for i in implicit),
        options=deep_tuple(tail[0]) if tail else (),
        exclusions=tuple(Exclusion(definition=e[0], name=e[1], db_name=e[2]) for e in (tail[1] if len(tail) > 1 else ())),
    )


def default_cache_dir(environ: dict[str, str] | os._Environ[str]) -> Path | None:
    """$SCHEMASYNC_CACHE_DIR (`off` disables), else $XDG_CACHE_HOME/schemasync or ~/.cache/schemasync."""
    configured = environ.get("SCHEMASYNC_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false") else Path(configured)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "schemasync"
