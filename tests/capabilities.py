"""Capability gates: a test says what it needs, not which server it runs on.

`CAPABILITIES` is the one place that says which dialect has what (as schemasync supports it:
docs/support.md is the long form). A test asks with `@requires("identity_columns")` (runs on every
dialect that has all the named capabilities), `@lacks("expression_indexes")` (runs where schemasync
refuses or has no such thing, to test the refusal), or, inside a test, `supports(db, name)`.
An unknown name is an error at import: a typo never turns a test off. A required dialect that is
unreachable fails rather than skips (SCHEMASYNC_REQUIRE_DIALECTS, in conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

DIALECTS = ("sqlite", "postgresql", "mysql")

SQLITE, POSTGRESQL, MYSQL = frozenset({"sqlite"}), frozenset({"postgresql"}), frozenset({"mysql"})
SERVERS = POSTGRESQL | MYSQL

CAPABILITIES: dict[str, frozenset[str]] = {
    # how the dialect changes a table
    "alter_by_rebuild": SQLITE,  # most ALTERs are SQLite's copy-and-rename, a step the plan shows
    "transactional_ddl": SQLITE | POSTGRESQL,  # a failed apply leaves nothing half-done (MariaDB's DDL commits)
    "network_server": SERVERS,  # reached over the network: a connection can be refused
    "concurrent_sessions": SERVERS,  # other sessions see an apply in progress (SQLite: never outside its transaction)
    "scratch_database": SERVERS,  # the models are built in a scratch database (SQLite builds them in memory)
    "scratch_build_in_batches": POSTGRESQL,  # a large scratch build commits as it goes (the lock table's size)
    "lock_timeouts": SERVERS,  # a step waiting for a lock gives up (lock_timeout / lock_wait_timeout)
    "online_ddl": SERVERS,  # `--online` changes how steps run (CONCURRENTLY / ALGORITHM=...)
    "concurrent_index_builds": POSTGRESQL,  # CREATE / DROP INDEX CONCURRENTLY
    "online_algorithms": MYSQL,  # ALGORITHM=INPLACE / NOCOPY / INSTANT named per step
    "not_valid_constraints": POSTGRESQL,  # ADD CONSTRAINT ... NOT VALID, then VALIDATE
    "observable_table_storage": SQLITE | POSTGRESQL,  # a rewrite shows (rootpage / relfilenode)
    # columns
    "virtual_generated_columns": SQLITE | MYSQL,  # PostgreSQL 15 has STORED only
    # A column a generated column reads changes type under it (PostgreSQL refuses: schemasync does not yet drop and re-add the generated column around it).
    "alters_types_under_generated_columns": SQLITE | MYSQL,
    "identity_columns": POSTGRESQL,  # sa.Identity() as GENERATED ... AS IDENTITY
    "auto_increment_off_the_key": MYSQL,  # AUTO_INCREMENT on an indexed column that is not the key
    "narrowing_keeps_values": SQLITE,  # a shorter length or smaller precision is not enforced: every value stays as it is
    "refuses_cutting_text": MYSQL,  # strict mode: a narrowing that would cut text fails (PostgreSQL cuts, SQLite keeps)
    "refuses_numbers_out_of_range": POSTGRESQL | MYSQL,  # SQLite keeps any value
    "column_character_sets": MYSQL,  # a column's own character set (a collation implies one)
    "unsigned_integers": MYSQL,
    "enum_and_set_columns": MYSQL,  # inline ENUM(...) / SET(...) column types
    "on_update_timestamps": MYSQL,  # ON UPDATE CURRENT_TIMESTAMP
    "array_columns": POSTGRESQL,
    "jsonb_columns": POSTGRESQL,
    "network_address_columns": POSTGRESQL,  # INET / CIDR
    # indexes and constraints
    "partial_indexes": SQLITE | POSTGRESQL,
    "expression_indexes": SQLITE | POSTGRESQL,
    "descending_indexes": SQLITE | POSTGRESQL | MYSQL,  # compared (MariaDB 10.8+: read from the index statistics; the Inspector reads every part ascending)
    "nulls_ordering": POSTGRESQL,  # NULLS FIRST / LAST index parts
    "index_methods": POSTGRESQL,  # USING hash / brin / gist / gin
    "covering_indexes": POSTGRESQL,  # INCLUDE (...)
    "operator_classes": POSTGRESQL,
    "index_prefix_lengths": MYSQL,
    "fulltext_indexes": MYSQL,
    "deferrable_constraints": POSTGRESQL,
    "renames_indexes_in_place": POSTGRESQL | MYSQL,  # ALTER ... RENAME INDEX (SQLite drops and creates)
    "renames_constraints_in_place": POSTGRESQL,  # RENAME CONSTRAINT (MariaDB drops and adds a check or key)
    "foreign_key_names_reflected": POSTGRESQL | MYSQL,  # SQLAlchemy reflects SQLite's without their names
    # tables and schema-level objects
    "strict_tables": SQLITE,  # STRICT, WITHOUT ROWID, AUTOINCREMENT table options
    "storage_engines": MYSQL,  # ENGINE, ROW_FORMAT, table character set
    "named_schemas": POSTGRESQL,  # schemas inside the database (CREATE SCHEMA)
    "schemas_are_databases": MYSQL,  # `schema=` names another database on the same server
    "enum_types": POSTGRESQL,  # CREATE TYPE ... AS ENUM, shared by columns
    "sequences": POSTGRESQL,  # standalone sequences
    "materialized_views": POSTGRESQL,
}


def dialects_with(*capabilities: str, lacking: tuple[str, ...] = ()) -> list[str]:
    """The dialects that have every capability named and none of `lacking`, in DIALECTS order."""
    for name in (*capabilities, *lacking):
        if name not in CAPABILITIES:
            raise KeyError(f"unknown capability {name!r}: add it to tests/capabilities.py")
    chosen = [d for d in DIALECTS if all(d in CAPABILITIES[c] for c in capabilities)]
    chosen = [d for d in chosen if not any(d in CAPABILITIES[c] for c in lacking)]
    if not chosen:
        raise ValueError(f"no dialect has {capabilities} without {lacking}")
    return chosen


def requires(*capabilities: str) -> pytest.MarkDecorator:
    """Run the test (its `db`, `project` fixtures) on each dialect that has every capability named."""
    return pytest.mark.parametrize("db", dialects_with(*capabilities), indirect=True)


def lacks(*capabilities: str) -> pytest.MarkDecorator:
    """Run the test on each dialect that has none of the capabilities named (to test the refusal)."""
    return pytest.mark.parametrize("db", dialects_with(lacking=capabilities), indirect=True)


def supports(db: Any, capability: str) -> bool:
    """Whether the test's database (anything with `.dialect`, or a dialect name) has the capability."""
    dialect = db if isinstance(db, str) else db.dialect
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}: add it to tests/capabilities.py")
    return dialect in CAPABILITIES[capability]
