"""Declared renames: `info={"schemasync": {"renamed_from": "old"}}` on a Table, Column, Index or constraint. Pure.

Both sides of a rename live here. The models' side (`declare`) reads the declarations and carries
them onto the target snapshot, which reflection cannot give them (they are instructions, not
schema; enum value renames, `renamed_values`, too). The diff side (`plan_renames`) uses them.

A rename is never guessed. When the models declare one and the live schema still has the old
name (and not the new one), the plan renames instead of dropping and adding, and the rest of the
diff runs against the live schema *as it will be* after the rename. Once applied, the declaration
is inert: the old name is gone, so nothing more happens.

Indexes and constraints are also matched by definition (issue 16): a name the models give is
carried (a live one with the same definition under another name is renamed, a visible step), and
one the models leave unnamed matches the live one with its definition, whatever its name.

Servers carry references along on rename (indexes, constraints, foreign keys in other tables);
`_rename_table` and `_rename_column` mirror that in the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import sqlalchemy as sa

from schemasync.operations import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddUnique,
    CreateIndex,
    CreateTable,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropTable,
    DropUnique,
    Operation,
    RenameColumn,
    RenameConstraint,
    RenameIndex,
    RenameTable,
    qualified,
)
from schemasync.snapshot import Index, Snapshot, Table, TableKey, server_name

# --- the models' side: the declarations, onto the target ------------------------------------------


def declare(snapshot: Snapshot, tables: list[sa.Table], default_schema: str | None = None) -> Snapshot:
    """The target with the renames the models declare on `tables` (of names, and of enum values),
    and its unique indexes that the models left unnamed; a model that spells out `default_schema`
    (the server's name for no schema) was read back with none."""
    named = declare_constraint_names(snapshot, tables, default_schema)
    renamed = declare_value_renames(declare_renames(named, tables, default_schema), tables, default_schema)
    return declare_unnamed_unique_indexes(renamed, tables, default_schema)


def declare_constraint_names(snapshot: Snapshot, tables: list[sa.Table], default_schema: str | None = None) -> Snapshot:
    """Keep the names the models give constraints where reading the target took them for the server's
    own (`Dialect.generated_names`: a model's `adrq_asset_fkey` has PostgreSQL's form, `child_ibfk_7`
    MariaDB's): a name the models chose is built and carried whatever its form."""
    by_key = {(None if t.schema == default_schema else t.schema, t.name): t for t in tables}

    def annotate(table: Table) -> Table:
        model = by_key.get(table.key)
        if model is None or not any(i.name is None and i.db_name for kind in _CONSTRAINT_KINDS for i in _items(table, kind)):
            return table
        given = {str(c.name) for c in model.constraints if c.name}
        return _named_as(table, dict.fromkeys(_CONSTRAINT_KINDS, given))

    annotated = tuple(annotate(t) for t in snapshot.tables)
    if all(a is b for a, b in zip(annotated, snapshot.tables)):
        return snapshot  # nothing to name: the same snapshot, with what it has computed already
    return snapshot.with_tables(annotated)


_CONSTRAINT_KINDS = ("primary_key", "uniques", "checks", "foreign_keys", "exclusions")


def _named_as(table: Table, names: dict[str, set[str]]) -> Table:
    """`table` with each constraint that the normaliser left unnamed, whose server name is among
    `names` (per kind), named so again; the same table when there is none."""

    def named(items: tuple, given: set[str]) -> tuple:
        if not any(i.name is None and i.db_name in given for i in items):
            return items
        renamed = (replace(i, name=i.db_name) if i.name is None and i.db_name in given else i for i in items)
        return tuple(sorted(renamed, key=lambda item: repr(item.key)))  # normalisation's order, by key

    changed: dict[str, Any] = {}
    for kind in _CONSTRAINT_KINDS:
        items = _items(table, kind)
        new = named(items, names.get(kind, set()))
        if new is not items:
            changed[kind] = new[0] if kind == "primary_key" else new
    return replace(table, **changed) if changed else table


def _items(table: Table, kind: str) -> tuple:
    """A table's constraints of one kind (`_CONSTRAINT_KINDS`), its primary key as a tuple of none or one."""
    return _maybe(table.primary_key) if kind == "primary_key" else getattr(table, kind)


def declare_unnamed_unique_indexes(snapshot: Snapshot, tables: list[sa.Table], default_schema: str | None = None) -> Snapshot:
    """Mark the target's unique indexes that stand for an unnamed UniqueConstraint of the models
    (MySQL builds one as a unique index named by the server): their name is the server's choice, so
    they match a live one by definition (`unnamed_by_definition`). Where unique constraints stay
    constraints, no index matches: every index of the models has a name of its own."""
    by_key = {(None if t.schema == default_schema else t.schema, t.name): t for t in tables}

    def annotate(table: Table) -> Table:
        model = by_key.get(table.key)
        if model is None:
            return table
        unnamed = [tuple(c.name for c in u.columns) for u in model.constraints if isinstance(u, sa.UniqueConstraint) and not u.name]
        named: list[sa.Index | sa.Constraint] = [*model.indexes, *model.constraints]
        claimed = {str(item.name) for item in named if item.name}
        indexes = list(table.indexes)
        for at, index in enumerate(indexes):
            plain = index.unique and not index.expressions and index.where is None and index.name not in claimed
            if plain and index.columns in unnamed:
                unnamed.remove(index.columns)
                indexes[at] = replace(index, server_named=True)
        # The flag is not compared: tell a marked index apart by identity.
        return table if all(a is b for a, b in zip(indexes, table.indexes)) else replace(table, indexes=tuple(indexes))

    if not any(isinstance(u, sa.UniqueConstraint) and not u.name for t in tables for u in t.constraints):
        return snapshot
    return snapshot.with_tables(tuple(annotate(t) for t in snapshot.tables))


def renamed_from(item: sa.Table | sa.Column | sa.Index | sa.Constraint) -> str | None:
    """The contract's declaration: info={"schemasync": {"renamed_from": "old_name"}}.

    Read without touching `item.info` where the model never set it: SQLAlchemy makes an empty
    dict on first access and keeps it (80 MB over the 90,000 objects of 5,000 tables)."""
    info = vars(item).get("info")
    declared = (info.get("schemasync") or {}).get("renamed_from") if info else None
    return str(declared) if declared else None


def declare_renames(snapshot: Snapshot, tables: list[sa.Table], default_schema: str | None = None) -> Snapshot:
    """Carry the models' rename declarations onto the reflected target (reflection cannot see them);
    a model that spells out `default_schema` is read back with no schema."""
    by_key = {(None if t.schema == default_schema else t.schema, t.name): t for t in tables}
    if not any(renamed_from(item) for t in tables for item in (t, *t.columns, *t.indexes, *t.constraints)):
        return snapshot  # nothing declared: the same snapshot, with what it has computed already

    def annotate(table: Table) -> Table:
        model = by_key.get(table.key)
        if model is None:
            return table
        columns = tuple(replace(c, renamed_from=renamed_from(model.c[c.name])) if c.name in model.c else c for c in table.columns)
        # Indexes and constraints by name, whatever kind the server made of them (MySQL: a unique
        # constraint is a unique index).
        named: list[sa.Index | sa.Constraint] = [*model.indexes, *model.constraints]
        declared = {str(item.name): old for item in named if item.name and (old := renamed_from(item))}

        def mark(items: tuple) -> tuple:
            return tuple(replace(i, renamed_from=declared.get(i.name)) if i.name in declared else i for i in items)

        pk = table.primary_key
        return replace(
            table, columns=columns, renamed_from=renamed_from(model),
            primary_key=mark((pk,))[0] if pk else None, foreign_keys=mark(table.foreign_keys),
            uniques=mark(table.uniques), indexes=mark(table.indexes), checks=mark(table.checks),
        )

    return snapshot.with_tables(tuple(annotate(t) for t in snapshot.tables))


def declare_value_renames(snapshot: Snapshot, tables: list[sa.Table], default_schema: str | None = None) -> Snapshot:
    """Carry enum value renames, declared on a column of the type as
    info={"schemasync": {"renamed_values": {"old": "new"}}}, onto the target's enum types."""
    declared: dict[tuple[str | None, str], dict[str, str]] = {}
    for table in tables:
        for column in table.columns:
            info = vars(column).get("info") or {}  # not column.info: see renamed_from
            renames = (info.get("schemasync") or {}).get("renamed_values")
            if renames and isinstance(column.type, sa.Enum) and column.type.name:
                schema = None if column.type.schema == default_schema else column.type.schema
                declared.setdefault((schema, str(column.type.name)), {}).update({str(o): str(n) for o, n in renames.items()})
    if not declared or not snapshot.enums:
        return snapshot
    enums = tuple(replace(e, renamed_values=tuple(sorted(declared[e.key].items()))) if e.key in declared else e for e in snapshot.enums)
    return replace(snapshot, enums=enums)


# --- the diff side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenamedNames:
    """A plan's table and column renames, both ways: from the names the live schema has now to the
    names after the plan's renames (`new_table`, `new_column`), and back (`old_table`, `old_column`).
    A column is keyed by its table's key after the renames, as RenameColumn names it."""

    new_tables: dict[TableKey, TableKey] = field(default_factory=dict)
    new_columns: dict[tuple[TableKey, str], str] = field(default_factory=dict)
    old_tables: dict[TableKey, TableKey] = field(default_factory=dict)
    old_columns: dict[tuple[TableKey, str], str] = field(default_factory=dict)

    @classmethod
    def of(cls, operations: Iterable[Operation]) -> RenamedNames:
        operations = list(operations)
        tables = {op.table: (op.table[0], op.new_name) for op in operations if isinstance(op, RenameTable)}
        columns = {(op.table, op.old_name): op.new_name for op in operations if isinstance(op, RenameColumn)}
        return cls(tables, columns, {new: old for old, new in tables.items()}, {(key, new): old for (key, old), new in columns.items()})

    def new_table(self, key: TableKey) -> TableKey:
        return self.new_tables.get(key, key)

    def new_column(self, key: TableKey, name: str) -> str:
        return self.new_columns.get((key, name), name)

    def old_table(self, key: TableKey) -> TableKey:
        return self.old_tables.get(key, key)

    def old_column(self, key: TableKey, name: str) -> str:
        return self.old_columns.get((key, name), name)


def plan_renames(current: Snapshot, target: Snapshot) -> tuple[list[Operation], Snapshot]:
    """Rename operations, and `current` as it will look once they have run."""
    operations: list[Operation] = []
    for table in target.tables:
        old_key = (table.schema, table.renamed_from) if table.renamed_from else None
        if old_key and current.table(old_key) and not current.table(table.key):
            operations.append(RenameTable(old_key, table.name))
            current = _rename_table(current, old_key, table.name)
    for table in target.tables:
        live = current.table(table.key)
        for column in table.columns:
            old = column.renamed_from
            if live and old and old in live.columns_by_name and column.name not in live.columns_by_name:
                operations.append(RenameColumn(table.key, old, column.name))
                current = _rename_column(current, table.key, old, column.name)
                live = current.table(table.key)
    for table in target.tables:
        for op in _named_object_renames(table, current.table(table.key)):
            operations.append(op)
            current = _rename_object(current, op)
    for table in target.tables:
        for op in _names_to_carry(table, current.table(table.key)):
            operations.append(op)
            current = _rename_object(current, op)
    return operations, unnamed_by_definition(current, target)


_KINDS = ("indexes", "uniques", "checks", "foreign_keys")


def _named_object_renames(table: Table, live: Table | None) -> list[RenameIndex | RenameConstraint]:
    """Index and constraint renames the target declares and the live table can still take."""
    if live is None:
        return []
    found: list[RenameIndex | RenameConstraint] = []
    pk = (table.primary_key,) if table.primary_key else ()
    live_pk = (live.primary_key,) if live.primary_key else ()
    for wanted, present in [(getattr(table, kind), getattr(live, kind)) for kind in _KINDS] + [(pk, live_pk)]:
        names = {server_name(item) for item in present}
        for item in wanted:
            if item.renamed_from and item.renamed_from in names and item.name not in names:
                found.append(RenameIndex(table.key, item.renamed_from, item) if isinstance(item, Index) else RenameConstraint(table.key, item.renamed_from, item))
    return found


def _same_definition(live: Any, wanted: Any) -> bool:
    """Whether two indexes or constraints differ in their name at most (db_name and renamed_from do not compare)."""
    return type(live) is type(wanted) and replace(live, name=wanted.name) == wanted


def _parts(table: Table) -> list[tuple]:
    """Each kind of named object of a table, the primary key as a kind of its own."""
    return [getattr(table, kind) for kind in _KINDS] + [(table.primary_key,) if table.primary_key else ()]


def _names_to_carry(table: Table, live: Table | None) -> list[RenameIndex | RenameConstraint]:
    """A name the models give an index or constraint is carried by the live one with its definition:
    renamed (a visible step; dialects without RENAME CONSTRAINT drop and add), never left under
    another name. Only a live object whose name no other object of the models claims is taken."""
    if live is None or live == table:
        return []
    found: list[RenameIndex | RenameConstraint] = []
    for wanted, present in zip(_parts(table), _parts(live)):
        claimed = {item.name for item in wanted if item.name}
        live_names = {server_name(item) for item in present}
        taken: set[str | None] = set()
        for item in wanted:
            if not item.name or item.name in live_names or getattr(item, "server_named", False):
                continue
            # A live object with no name at all (SQLite's inline PRIMARY KEY) has none to rename: dropped and added.
            match = next((old for old in present if server_name(old) and server_name(old) not in claimed | taken and _same_definition(old, item)), None)
            old_name = server_name(match) if match is not None else None
            if old_name is not None:  # a match always has a server name (the search above asks for one)
                taken.add(old_name)
                found.append(RenameIndex(table.key, old_name, item) if isinstance(item, Index) else RenameConstraint(table.key, old_name, item))
    return found


def unnamed_by_definition(current: Snapshot, target: Snapshot) -> Snapshot:
    """A constraint the models leave unnamed matches a live one with its definition, whatever the live
    name: that one is compared unnamed (its name kept as `db_name`, to drop it by). A unique index
    that stands for one (`Index.server_named`, MySQL) is compared under the target's name instead.
    Also how `check` compares the live schema with the one the last apply recorded (workflow._drift),
    which names it the same way.

    A live object whose name the plan gives a new object anywhere in its schema is not matched: it
    keeps that name on the server, where (PostgreSQL relations, MySQL foreign keys) the new one
    could not be made beside it. It is dropped and made again under a name of the server's."""

    @cache
    def made() -> dict[str | None, set[str]]:
        """Read once, and only where some table differs: an in-sync plan never asks."""
        return _names_to_make(current, target)

    def unnamed(wanted: tuple, present: tuple, schema: str | None = None) -> tuple:
        claimed = {item.name for item in wanted if item.name} | made().get(schema, set())
        free = [item for item in wanted if item.name is None and item not in present]
        result = []
        for old in present:
            match = next((item for item in free if old.name and old.name not in claimed and _same_definition(old, item)), None)
            if match is not None:
                free.remove(match)
                old = replace(old, name=None, db_name=server_name(old))
            result.append(old)
        # In the order normalisation keeps them (by key), which changed with the name: fingerprints see the order.
        return tuple(sorted(result, key=lambda item: repr(item.key)))

    def update(table: Table) -> Table:
        wanted = target.table(table.key)
        if wanted is None or wanted == table:
            return table
        # A live name of the server's form that the models give that kind of constraint is that name.
        table = _named_as(table, {kind: {i.name for i in _items(wanted, kind) if i.name} for kind in _CONSTRAINT_KINDS})
        if wanted == table:
            return table
        schema = table.key[0]
        pk = unnamed(_maybe(wanted.primary_key), _maybe(table.primary_key), schema)
        kinds: dict[str, Any] = {kind: unnamed(getattr(wanted, kind), getattr(table, kind), schema) for kind in ("uniques", "checks", "foreign_keys")}
        return replace(
            table,
            primary_key=pk[0] if pk else None,
            indexes=_server_named_indexes(wanted.indexes, table.indexes),
            **kinds,
        )

    return replace(current, tables=tuple(update(t) for t in current.tables))


def _names_to_make(current: Snapshot, target: Snapshot) -> dict[str | None, set[str]]:
    """Per schema, the name of each index or constraint the models name that its live table does not hold
    under that name (of its kind): the plan makes it. Names already in place are left out, so a
    server's own choice that a model uses elsewhere in a per-table namespace stays matched."""
    made: dict[str | None, set[str]] = {}
    for table in target.tables:
        live = current.table(table.key)
        live_parts = _parts(live) if live is not None else [()] * len(_parts(table))
        for wanted, present in zip(_parts(table), live_parts):
            held = {server_name(item) for item in present}
            made.setdefault(table.key[0], set()).update(
                item.name for item in wanted if item.name and item.name not in held and not getattr(item, "server_named", False))
    return made


def _server_named_indexes(wanted: tuple[Index, ...], present: tuple[Index, ...]) -> tuple[Index, ...]:
    """The live indexes, each with the definition of a server-named wanted one under that one's name
    (a live index of the same name first). Never onto a name a named wanted index claims or another
    live index holds."""
    free = [item for item in wanted if item.server_named]
    if not free:
        return present
    claimed = {item.name for item in wanted if not item.server_named}
    # A live index keeps its own name on the server: taken for another wanted index, that one could
    # not be created beside it ("Duplicate key name"), so such a live index is not matched.
    wanted_names = {item.name for item in wanted}
    result = list(present)

    def fits(at: int, item: Index) -> bool:
        old = present[at]
        holders = {n for n, live in enumerate(result) if live.name == item.name} - {at}
        keeps_a_wanted_name = old.name != item.name and old.name in wanted_names
        return (result[at] is old and old.name not in claimed and not holders and not keeps_a_wanted_name
                and replace(old, name=item.name, server_named=True) == item)

    for same_name_only in (True, False):
        for item in list(free):
            at = next((n for n, old in enumerate(present) if (old.name == item.name or not same_name_only) and fits(n, item)), None)
            if at is not None:
                free.remove(item)
                result[at] = replace(present[at], name=item.name, server_named=True)
    if result == list(present):
        return present
    # In the order normalisation keeps them (by key), which changed with the name: fingerprints see the order.
    return tuple(sorted(result, key=lambda item: repr(item.key)))


def _maybe(item: object) -> tuple:
    return (item,) if item is not None else ()


def _rename_object(snapshot: Snapshot, op: RenameIndex | RenameConstraint) -> Snapshot:
    new = op.index.name if isinstance(op, RenameIndex) else op.constraint.name

    def rename(items: tuple) -> tuple:
        return tuple(replace(i, name=new, **({} if isinstance(i, Index) else {"db_name": new})) if server_name(i) == op.old_name else i for i in items)

    def update(table: Table) -> Table:
        if table.key != op.table:
            return table
        pk = rename((table.primary_key,))[0] if table.primary_key else None
        renamed: dict[str, Any] = {kind: rename(getattr(table, kind)) for kind in _KINDS}
        return replace(table, primary_key=pk, **renamed)

    return replace(snapshot, tables=tuple(update(t) for t in snapshot.tables))


def _swap(names: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    return tuple(new if name == old else name for name in names)


def _rename_table(snapshot: Snapshot, old_key: TableKey, new_name: str) -> Snapshot:
    def update(table: Table) -> Table:
        fks = tuple(
            replace(fk, referred_table=new_name) if (fk.referred_schema, fk.referred_table) == old_key else fk
            for fk in table.foreign_keys
        )
        return replace(table, name=new_name if table.key == old_key else table.name, foreign_keys=fks)

    return replace(snapshot, tables=tuple(update(t) for t in snapshot.tables))


def _rename_column(snapshot: Snapshot, key: TableKey, old: str, new: str) -> Snapshot:
    def update(table: Table) -> Table:
        fks = tuple(
            replace(fk, referred_columns=_swap(fk.referred_columns, old, new)) if (fk.referred_schema, fk.referred_table) == key else fk
            for fk in table.foreign_keys
        )
        if table.key != key:
            return replace(table, foreign_keys=fks)
        fks = tuple(replace(fk, columns=_swap(fk.columns, old, new)) for fk in fks)
        return replace(
            table,
            columns=tuple(replace(c, name=new) if c.name == old else c for c in table.columns),
            primary_key=replace(table.primary_key, columns=_swap(table.primary_key.columns, old, new)) if table.primary_key else None,
            foreign_keys=fks,
            uniques=tuple(replace(u, columns=_swap(u.columns, old, new)) for u in table.uniques),
            indexes=tuple(replace(i, columns=_swap(i.columns, old, new)) for i in table.indexes),
            implicit_indexes=tuple(replace(i, columns=_swap(i.columns, old, new)) for i in table.implicit_indexes),
        )

    return replace(snapshot, tables=tuple(update(t) for t in snapshot.tables))


def rename_hints(operations: list[Operation]) -> list[str]:
    """Drops paired with adds that look like a rename: say how to declare it (never act on a guess)."""
    hints = []
    added = [op for op in operations if isinstance(op, AddColumn)]
    for drop in (op for op in operations if isinstance(op, DropColumn)):
        for add in added:
            if add.table == drop.table and add.column.type == drop.column.type:
                hints.append(
                    f"{qualified(drop.table)}.{drop.column.name} is dropped and {add.column.name} added with the same type: "
                    f"if it is a rename, declare it: Column({add.column.name!r}, ..., "
                    f"info={{'schemasync': {{'renamed_from': {drop.column.name!r}}}}})"
                )
    created = [op for op in operations if isinstance(op, CreateTable)]
    for drop_table in (op for op in operations if isinstance(op, DropTable)):
        for create in created:
            if [c.name for c in create.definition.columns] == [c.name for c in drop_table.definition.columns]:
                hints.append(
                    f"table {qualified(drop_table.table)} is dropped and {qualified(create.table)} created with the same columns: "
                    f"if it is a rename, declare it: __table_args__ = {{'info': {{'schemasync': {{'renamed_from': {drop_table.table[1]!r}}}}}}}"
                )
    return hints + _object_hints(operations)


_PAIRS = ((DropIndex, CreateIndex, "index", "sa.Index"), (DropUnique, AddUnique, "unique", "sa.UniqueConstraint"),
          (DropCheck, AddCheck, "check", "sa.CheckConstraint"), (DropForeignKey, AddForeignKey, "foreign_key", "sa.ForeignKeyConstraint"))


def _object_hints(operations: list[Operation]) -> list[str]:
    """An index or constraint dropped and added with the same definition under another name."""
    hints = []
    for drop_type, add_type, field_name, construct in _PAIRS:
        added = [op for op in operations if isinstance(op, add_type)]
        for drop in (op for op in operations if isinstance(op, drop_type)):
            old = getattr(drop, field_name)
            for add in added:
                new = getattr(add, field_name)
                same = replace(old, name=new.name) == new  # db_name and renamed_from do not compare
                if add.table == drop.table and new.name and server_name(old) != new.name and same:
                    hints.append(
                        f"{server_name(old)} on {qualified(drop.table)} is dropped and {new.name} added with the same definition: "
                        f"if it is a rename, declare it: {construct}(..., name={new.name!r}, info={{'schemasync': {{'renamed_from': {server_name(old)!r}}}}})"
                    )
    return hints
