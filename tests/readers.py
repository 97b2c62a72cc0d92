"""Both readers of a live schema side by side: the dialect's bulk catalog reader and SQLAlchemy's Inspector.

`same_reading` reads one database both ways and says what differs. The comparison is wider than
snapshot equality: it also covers what equality skips (the server's own constraint names, MySQL's
implicit foreign key indexes, parts left unmanaged) and the type objects rendering uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from schemasync.dialects import dialect_for
from schemasync.reflect import reflect
from schemasync.snapshot import Snapshot, table_to_stored


def full_form(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Everything a snapshot carries, comparable: the lock form plus unmanaged parts and type objects."""
    return [
        {**table_to_stored(t), "unmanaged": list(t.unmanaged_parts), "type_objects": [repr(c.type_object) for c in t.columns]}
        for t in snapshot.tables
    ]


def differences(catalog: Snapshot, inspector: Snapshot) -> list[str]:
    """Per table and field, what the catalog reader reported that the Inspector did not (and the reverse)."""
    found = []
    left, right = {t["name"]: t for t in full_form(catalog)}, {t["name"]: t for t in full_form(inspector)}
    for name in sorted(set(left) | set(right)):
        a, b = left.get(name, {}), right.get(name, {})
        found += [f"{name}.{key}: catalog {a.get(key)!r} != inspector {b.get(key)!r}" for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
    return found


def read_both(connection: sa.Connection, schemas: Mapping[str | None, str | None] | None = None) -> tuple[Snapshot, Snapshot]:
    dialect = dialect_for(connection.dialect)
    schemas = schemas or {None: None}
    return reflect(connection, dialect, schemas, use_catalog=True), reflect(connection, dialect, schemas, use_catalog=False)


def assert_same_reading(url: str, schemas: Mapping[str | None, str | None] | None = None) -> Snapshot:
    """Read the database at `url` both ways; fail with the differences; return the snapshot."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            catalog, inspector = read_both(connection, schemas)
    finally:
        engine.dispose()
    problems = differences(catalog, inspector)
    assert not problems, "the catalog reader and the Inspector disagree:\n  " + "\n  ".join(problems)
    assert catalog == inspector
    assert catalog.to_dict() == inspector.to_dict()
    return catalog
