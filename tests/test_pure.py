"""The pure core, without a database: widening, keyed diff, ordering, and the import direction."""

from __future__ import annotations

import pytest

from schemasync.diff import diff
from schemasync.operations import (
    AddForeignKey,
    AlterColumn,
    CreateTable,
    DropTable,
    is_widening,
)
from schemasync.ordering import order
from schemasync.snapshot import Column, ForeignKey, Snapshot, Table, Unique


@pytest.mark.parametrize(
    "before, after, widening",
    [
        ("VARCHAR(50)", "VARCHAR(200)", True),
        ("VARCHAR(200)", "VARCHAR(50)", False),
        ("VARCHAR(50)", "TEXT", True),
        ("TEXT", "VARCHAR(50)", False),
        ("SMALLINT", "INTEGER", True),
        ("INTEGER(11)", "BIGINT(20)", True),
        ("BIGINT", "INTEGER", False),
        ("NUMERIC(10, 2)", "NUMERIC(12, 2)", True),
        ("NUMERIC(10, 2)", "NUMERIC(10, 4)", False),
        ("NUMERIC(10, 2)", "NUMERIC(9, 2)", False),
        ("INTEGER", "VARCHAR(10)", False),
        ("DATE", "DATETIME", False),
    ],
)
def test_is_widening(before, after, widening):
    assert is_widening(before, after) is widening


def test_narrowing_alter_is_destructive_and_widening_is_not():
    col = Column("c", "VARCHAR(50)")
    assert AlterColumn(("", "t"), col, Column("c", "VARCHAR(10)")).destructive
    assert not AlterColumn(("", "t"), col, Column("c", "VARCHAR(60)")).destructive
    assert not AlterColumn(("", "t"), col, Column("c", "VARCHAR(50)", nullable=False)).destructive


def _table(name: str, *refs: str) -> Table:
    fks = tuple(ForeignKey(("ref_" + r,), r, ("id",)) for r in refs)
    columns = (Column("id", "INTEGER", nullable=False),) + tuple(Column("ref_" + r, "INTEGER") for r in refs)
    return Table(name, columns, foreign_keys=fks)


def test_creates_follow_foreign_keys_and_split_cycles():
    target = Snapshot("x", (_table("a", "c"), _table("b", "a"), _table("c", "b"), _table("d")))
    ops = order(diff(Snapshot("x"), target), split_fk_cycles=True)
    created = [op.table[1] for op in ops if isinstance(op, CreateTable)]
    added = [op for op in ops if isinstance(op, AddForeignKey)]
    assert sorted(created) == ["a", "b", "c", "d"]
    assert len(added) == 1 and ops[-1] is added[0]
    # every FK inside a CREATE TABLE points at a table created earlier
    seen: set[str] = set()
    for op in ops:
        if isinstance(op, CreateTable):
            assert all(fk.referred_table in seen for fk in op.definition.foreign_keys)
            seen.add(op.table[1])


def test_cycles_stay_inline_where_references_resolve_lazily():
    target = Snapshot("x", (_table("a", "b"), _table("b", "a")))
    ops = order(diff(Snapshot("x"), target), split_fk_cycles=False)
    assert [type(op) for op in ops] == [CreateTable, CreateTable]


def test_drops_go_referencing_first_and_self_references_are_fine():
    current = Snapshot("x", (_table("parent"), _table("child", "parent"), _table("tree", "tree")))
    ops = order(diff(current, Snapshot("x")), split_fk_cycles=True)
    dropped = [op.table[1] for op in ops if isinstance(op, DropTable)]
    assert dropped.index("child") < dropped.index("parent")
    assert "tree" in dropped


def test_unnamed_constraints_match_by_definition_named_by_name():
    base = _table("t")
    before = Table("t", base.columns + (Column("u", "INTEGER"),), uniques=(Unique(("u",)),))
    assert diff(Snapshot("x", (before,)), Snapshot("x", (before,))) == []
    renamed = Table("t", before.columns, uniques=(Unique(("u",), name="uq_t_u"),))
    kinds = [op.op for op in diff(Snapshot("x", (before,)), Snapshot("x", (renamed,)))]
    assert kinds == ["drop_unique", "add_unique"] or kinds == ["add_unique", "drop_unique"]


def test_a_server_named_unique_index_matches_by_definition_unless_its_name_is_held():
    """A unique index the models left unnamed (MySQL) is the live one with its definition, compared
    under the target's name; never onto a name a named index of the models claims or another live index holds."""
    from schemasync.renames import unnamed_by_definition
    from schemasync.snapshot import Index

    columns = _table("t").columns + (Column("code", "INTEGER"), Column("qty", "INTEGER"))
    target = Snapshot("x", (Table("t", columns, indexes=(Index("code", ("code",), unique=True, server_named=True), Index("ix_qty", ("qty",)))),))

    def live(*indexes: Index) -> Snapshot:
        return Snapshot("x", (Table("t", columns, indexes=indexes),))

    matched = unnamed_by_definition(live(Index("uq_t_code", ("code",), unique=True), Index("ix_qty", ("qty",))), target)
    assert diff(matched, target) == []
    held = live(Index("uq_t_code", ("code",), unique=True), Index("code", ("qty",)))
    assert unnamed_by_definition(held, target) == held
    claimed = Snapshot("x", (Table("t", columns, indexes=(Index("code", ("code",), unique=True, server_named=True), Index("uq_t_code", ("qty",)))),))
    assert unnamed_by_definition(live(Index("uq_t_code", ("code",), unique=True)), claimed) == live(Index("uq_t_code", ("code",), unique=True))


def test_a_live_unique_index_whose_name_another_wanted_index_takes_is_not_matched():
    """Found by test_convergence on MariaDB: unnamed uniques on (id, c1) and (id) are named `id` and
    `id_2` by the server; the live `id` on (id) must not be compared as `id_2`, or the plan creates
    `id` on (id, c1) beside it ("Duplicate key name 'id'"): it is dropped and made again instead."""
    from schemasync.renames import unnamed_by_definition
    from schemasync.snapshot import Index

    columns = _table("t").columns + (Column("c1", "INTEGER"),)
    target = Snapshot("x", (Table("t", columns, indexes=(
        Index("id", ("id", "c1"), unique=True, server_named=True), Index("id_2", ("id",), unique=True, server_named=True))),))
    live = Snapshot("x", (Table("t", columns, indexes=(Index("id", ("id",), unique=True), Index("uq2", ("id", "c1"), unique=True))),))
    assert unnamed_by_definition(live, target) == live


def test_rename_declarations_are_read_without_making_info_dicts():
    """SQLAlchemy makes and keeps an empty `info` dict on first access: 80 MB over 5,000 tables' objects."""
    import sqlalchemy as sa

    from schemasync.renames import renamed_from

    metadata = sa.MetaData()
    table = sa.Table(
        "t", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(10), info={"schemasync": {"renamed_from": "mail"}}),
        sa.Index("ix_t_email", "email"),
    )
    assert [renamed_from(item) for item in (table, *table.columns, *table.indexes, *table.constraints)] == [None, None, "mail", None, None]
    assert not any("info" in vars(item) for item in (table, table.c.id, *table.indexes, *table.constraints))


def test_a_fingerprint_hashed_table_by_table_is_the_canonical_forms_digest():
    from schemasync.snapshot import (
        Column,
        Index,
        PrimaryKey,
        Snapshot,
        Table,
        fingerprint_of,
    )

    tables = (
        Table("a", (Column("z", "INTEGER"), Column("b", "TEXT", default="'x'")), primary_key=PrimaryKey(("z",)), indexes=(Index("ix", ("b",)),)),
        Table("b", (Column("id", "INTEGER", nullable=False),), schema="other", comment="it's"),
    )
    for some in ((), tables[:1], tables):
        assert Snapshot("sqlite", some).fingerprint() == fingerprint_of(Snapshot("sqlite", some).to_dict())


# --- the forms by field name: canonical (fingerprints), stored (lock file, target cache) ---------

SNAPSHOT_CLASSES = ("Column", "PrimaryKey", "ForeignKey", "Unique", "Check", "Exclusion", "Index", "Table", "EnumType", "View", "SequenceDef", "Snapshot")


def _snapshot_class(name):
    import schemasync.snapshot as snapshot

    return getattr(snapshot, name)


def _every_field_set(cls, salt="x"):
    """A value of a snapshot class with every field away from its default, made from the fields
    themselves: a field added later is set here too, so the round trips below cover it."""
    import dataclasses
    import typing

    from schemasync.snapshot import Table

    hints = typing.get_type_hints(cls)
    values = {f.name: _value_for(hints[f.name], f"{f.name}-{salt}") for f in dataclasses.fields(cls)}
    if cls is Table:  # a table's items name its own columns
        values["columns"] = tuple(dataclasses.replace(c, name=f"c{i}") for i, c in enumerate(values["columns"]))
    return cls(**values)


def _value_for(hint, text):
    import dataclasses
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _value_for(next(a for a in args if a is not type(None)), text)
    if dataclasses.is_dataclass(hint):
        return _every_field_set(hint, text)
    if origin is tuple:
        item = args[0]
        return tuple(_value_for(item, f"{text}{i}") for i in range(2)) if item is not typing.Any else (text, 7)
    return {str: text, bool: True, int: 7}.get(hint, object())


@pytest.mark.parametrize("name", SNAPSHOT_CLASSES)
def test_every_field_that_is_not_compared_says_how_it_is_kept(name):
    """Not compared means outside the canonical form: such a field is SERVER (stored beside it) or
    NOT_STORED, decided and written down, never left out by omission."""
    import dataclasses

    for f in dataclasses.fields(_snapshot_class(name)):
        form = f.metadata.get("form", "always")
        assert (form in ("server", "not stored")) == (not f.compare), f"{name}.{f.name}: compare={f.compare} but form {form!r}"


@pytest.mark.parametrize("name", SNAPSHOT_CLASSES)
def test_every_snapshot_class_round_trips_through_its_canonical_form(name):
    import dataclasses
    import json

    from schemasync.forms import from_dict, to_dict

    cls = _snapshot_class(name)
    value = _every_field_set(cls)
    back = from_dict(cls, json.loads(json.dumps(to_dict(value))))
    assert back == value
    for f in dataclasses.fields(cls):
        if f.compare:
            assert getattr(back, f.name) == getattr(value, f.name), f"{name}.{f.name} lost"


def _stored_fields(item):
    """Every field the stored form keeps (all but NOT_STORED), nested values included."""
    import dataclasses

    if isinstance(item, tuple):
        return tuple(_stored_fields(i) for i in item)
    if not dataclasses.is_dataclass(item):
        return item
    return {f.name: _stored_fields(getattr(item, f.name)) for f in dataclasses.fields(item) if f.metadata.get("form") != "not stored"}


def test_a_table_with_every_field_set_round_trips_through_the_lock_file_and_the_target_cache(tmp_path):
    """The stored form (the lock file's and the cache's) loses nothing but what is NOT_STORED."""
    import dataclasses

    from schemasync.lockfile import LockEntry, LockFile
    from schemasync.target_cache import BuiltOn, TargetCache, snapshot_of

    table = _every_field_set(_snapshot_class("Table"))
    unnamed = dataclasses.replace(table, name="u", uniques=tuple(dataclasses.replace(u, name=None) for u in table.uniques))
    snapshot = dataclasses.replace(_every_field_set(_snapshot_class("Snapshot")), dialect="postgresql", tables=(table, unnamed))
    lock = LockFile.from_yaml(LockFile("models", {"postgresql": LockEntry(snapshot)}).to_yaml("schema.lock.yaml"), "schema.lock.yaml")
    cache, identity = TargetCache(tmp_path), BuiltOn("postgresql", "15.0", "").identity
    keys = {t.qualified_name: f"k{n}" for n, t in enumerate(snapshot.tables)}
    cache.store(identity, keys, snapshot)
    built = cache.load(identity, keys)
    assert built is not None and built.objects_match(keys) and len(built.matching(keys)) == 2
    for back in (lock.entries["postgresql"].snapshot, snapshot_of("postgresql", built.matching(keys), built.objects)):
        assert back is not None and back.fingerprint() == snapshot.fingerprint()
        for kept, original in zip(back.tables, snapshot.tables):
            assert _stored_fields(kept) == _stored_fields(original)
        assert _stored_fields(back.enums) == _stored_fields(snapshot.enums)
        assert _stored_fields((*back.sequences, *back.views)) == _stored_fields((*snapshot.sequences, *snapshot.views))
    assert set(built.matching({**keys, "u": "another model"})) == set(keys) - {"u"}, "a table built from another model is not taken"


def test_the_canonical_form_is_byte_identical_to_the_one_fingerprints_were_made_from():
    """Goldens, lock files and schema_state rows hold this form: its keys, order and digest are pinned."""
    import json

    from schemasync.snapshot import (
        Check,
        Column,
        EnumType,
        ForeignKey,
        Index,
        PrimaryKey,
        SequenceDef,
        Snapshot,
        Table,
        Unique,
        View,
        table_to_stored,
    )

    table = Table(
        "t", (Column("id", "INTEGER", False, autoincrement=True), Column("g", "INTEGER", computed="id + 1", persisted=True)), "s",
        PrimaryKey(("id",), None, "pk_auto"), (ForeignKey(("g",), "u", ("id",), None, "CASCADE", None, "fk_t", "fk_t", deferrable=True, initially="DEFERRED"),),
        (Unique(("g",), None, "uq_auto"),), (Index("ix", ("g",), True, expressions=("g", "lower(x)"), where="g > 0", options=(("postgresql_using", "gin"),)),),
        (Check("g > 0", "ck", "ck"),), "a table", implicit_indexes=(Index("fk_idx", ("g",)),), options=(("mysql_engine", "InnoDB"),),
    )
    snapshot = Snapshot("postgresql", (table,), (EnumType("mood", ("a", "b"), "s"),), (SequenceDef("seq", "s", cycle=True),), (View("v", "SELECT 1", None, True),))
    canonical_table = (
        '{"schema": "s", "name": "t", "comment": "a table", "columns": [{"name": "id", "type": "INTEGER", "nullable": false, "default": null, '
        '"autoincrement": true, "comment": null}, {"name": "g", "type": "INTEGER", "nullable": true, "default": null, "autoincrement": false, '
        '"comment": null, "computed": "id + 1", "persisted": true}], "primary_key": {"columns": ["id"], "name": null}, "foreign_keys": [{"columns": ["g"], '
        '"referred_table": "u", "referred_columns": ["id"], "referred_schema": null, "ondelete": "CASCADE", "onupdate": null, "name": "fk_t", '
        '"deferrable": true, "initially": "DEFERRED"}], "uniques": [{"columns": ["g"], "name": null}], "indexes": [{"name": "ix", "columns": ["g"], '
        '"unique": true, "expressions": ["g", "lower(x)"], "where": "g > 0", "options": [["postgresql_using", "gin"]]}], "checks": [{"sqltext": "g > 0", '
        '"name": "ck"}], "options": [["mysql_engine", "InnoDB"]]'
    )
    objects = (
        '"enums": [{"schema": "s", "name": "mood", "values": ["a", "b"]}], "sequences": [{"schema": "s", "name": "seq", "data_type": "bigint", '
        '"start": 1, "increment": 1, "min_value": 1, "max_value": 9223372036854775807, "cache": 1, "cycle": true}], '
        '"views": [{"schema": null, "name": "v", "definition": "SELECT 1", "materialized": true}]'
    )
    assert json.dumps(snapshot.to_dict()) == '{"dialect": "postgresql", "tables": [' + canonical_table + "}], " + objects + "}"
    assert snapshot.fingerprint() == "sha256:d963b2082b6ce9d89c1d10c3069246ea52714180184306ea641e244e2ec7b965"
    server = ', "server_names": {"primary_key": ["pk_auto"], "uniques": ["uq_auto"], "implicit_indexes": [{"name": "fk_idx", "columns": ["g"], "unique": false}]}}'
    assert json.dumps(table_to_stored(table)) == canonical_table + server


def test_a_live_constraint_keeping_a_name_a_new_object_takes_is_not_matched():
    """Found by test_convergence on PostgreSQL: a unique named `uq1`, then left unnamed, kept `uq1` on
    the server; a new table's unique named `uq1` could then not be made ("relation uq1 already
    exists"). The live one is dropped and made again under the server's name; once the new one is in
    place the name no longer blocks a match (a per-table namespace may reuse it)."""
    from schemasync.renames import unnamed_by_definition

    columns = _table("t").columns
    live_t = Table("t", columns, uniques=(Unique(("id",), name="uq1"),))
    wanted_t = Table("t", columns, uniques=(Unique(("id",)),))
    wanted_u = Table("u", columns, uniques=(Unique(("id",), name="uq1"),))
    target = Snapshot("x", (wanted_t, wanted_u))
    kept = unnamed_by_definition(Snapshot("x", (live_t,)), target)
    assert kept == Snapshot("x", (live_t,))
    assert sorted(op.op for op in diff(kept, target)) == ["add_unique", "create_table", "drop_unique"]
    in_place = unnamed_by_definition(Snapshot("x", (live_t, wanted_u)), target)
    assert diff(in_place, target) == []
