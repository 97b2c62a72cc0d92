"""The plan's operations: one frozen class per `op`, each carrying what it changes from and to.

Whether a step is destructive is decided here, from the values, when the operation is made;
never by scanning SQL text. How rollback undoes each step is said at the end (`UNDONE_BY`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from schemasync.snapshot import (
    Check,
    Column,
    EnumType,
    Exclusion,
    ForeignKey,
    Index,
    PrimaryKey,
    SequenceDef,
    Table,
    TableKey,
    Unique,
    View,
    changed_by_key,
    column_to_dict,
    fields_of,
    server_name,
    table_to_dict,
    view_to_dict,
)


def qualified(key: TableKey) -> str:
    schema, name = key
    return f"{schema}.{name}" if schema else name


@dataclass(frozen=True)
class Operation:
    """Base of every plan step."""

    op: ClassVar[str] = ""
    table: TableKey

    @property
    def destructive(self) -> bool:
        return False

    def summary(self) -> str:
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "table": qualified(self.table),
            "destructive": self.destructive,
            "summary": self.summary(),
            **self.details(),
        }


@dataclass(frozen=True)
class CreateTable(Operation):
    op: ClassVar[str] = "create_table"
    definition: Table

    def summary(self) -> str:
        return f"create table {qualified(self.table)} ({len(self.definition.columns)} columns)"

    def details(self) -> dict[str, Any]:
        return {"definition": table_to_dict(self.definition)}


@dataclass(frozen=True)
class DropTable(Operation):
    op: ClassVar[str] = "drop_table"
    definition: Table

    @property
    def destructive(self) -> bool:
        return True

    def summary(self) -> str:
        return f"drop table {qualified(self.table)}"


@dataclass(frozen=True)
class RenameTable(Operation):
    """A declared table rename (`table` is the old key): the rows stay where they are."""

    op: ClassVar[str] = "rename_table"
    new_name: str

    def summary(self) -> str:
        return f"rename table {qualified(self.table)} to {self.new_name}"

    def details(self) -> dict[str, Any]:
        return {"new_name": self.new_name}


@dataclass(frozen=True)
class RenameColumn(Operation):
    """A declared column rename: the values stay in place."""

    op: ClassVar[str] = "rename_column"
    old_name: str
    new_name: str

    def summary(self) -> str:
        return f"rename column {qualified(self.table)}.{self.old_name} to {self.new_name}"

    def details(self) -> dict[str, Any]:
        return {"old_name": self.old_name, "new_name": self.new_name}


@dataclass(frozen=True)
class RenameIndex(Operation):
    """A declared index rename: `index` is the index under its new name."""

    op: ClassVar[str] = "rename_index"
    old_name: str
    index: Index

    def summary(self) -> str:
        return f"rename index {self.old_name} on {qualified(self.table)} to {self.index.name}"

    def details(self) -> dict[str, Any]:
        return {"old_name": self.old_name, "new_name": self.index.name}


@dataclass(frozen=True)
class RenameConstraint(Operation):
    """A declared constraint rename: `constraint` (a PrimaryKey, ForeignKey, Unique or Check) under its new name."""

    op: ClassVar[str] = "rename_constraint"
    old_name: str
    constraint: PrimaryKey | ForeignKey | Unique | Check

    @property
    def kind(self) -> str:
        return {PrimaryKey: "primary key", ForeignKey: "foreign key", Unique: "unique constraint", Check: "check"}[type(self.constraint)]

    @property
    def old(self) -> PrimaryKey | ForeignKey | Unique | Check:
        """The constraint as the server knows it now, under its old name."""
        return replace(self.constraint, name=self.old_name, db_name=self.old_name, renamed_from=None)

    def summary(self) -> str:
        return f"rename {self.kind} {self.old_name} on {qualified(self.table)} to {self.constraint.name}"

    def details(self) -> dict[str, Any]:
        return {"old_name": self.old_name, "new_name": self.constraint.name}


@dataclass(frozen=True)
class AddColumn(Operation):
    op: ClassVar[str] = "add_column"
    column: Column

    def summary(self) -> str:
        null = "" if self.column.nullable else " NOT NULL"
        return f"add column {qualified(self.table)}.{self.column.name} {self.column.type}{null}"

    def details(self) -> dict[str, Any]:
        return {"column": column_to_dict(self.column)}


@dataclass(frozen=True)
class DropColumn(Operation):
    op: ClassVar[str] = "drop_column"
    column: Column

    @property
    def destructive(self) -> bool:
        return self.column.computed is None  # a generated column's values are derived from the others

    def summary(self) -> str:
        return f"drop column {qualified(self.table)}.{self.column.name}"

    def details(self) -> dict[str, Any]:
        return {"column": column_to_dict(self.column)}


@dataclass(frozen=True)
class AlterColumn(Operation):
    op: ClassVar[str] = "alter_column"
    before: Column
    after: Column
    # The server keeps every value through this narrowing (SQLite enforces no length nor size):
    # set by `keep_narrowed_values` from the dialect's `narrowing_keeps_values_on`.
    values_kept: bool = False

    @property
    def destructive(self) -> bool:
        narrowed = self.before.type != self.after.type and not is_widening(self.before.type, self.after.type)
        # A declared conversion replaces every value with the expression's (backup.protect keeps them).
        return (narrowed and not self.values_kept) or becomes_generated(self.before, self.after) or self.using is not None

    @property
    def using(self) -> str | None:
        """The declared conversion of the values (data_changes.py), when the type changes."""
        return self.after.using if self.before.type != self.after.type else None

    def changes(self) -> list[str]:
        b, a = self.before, self.after
        found = []
        if b.type != a.type:
            found.append(f"type {b.type} -> {a.type}" + (f" using ({self.using})" if self.using else ""))
        if b.nullable != a.nullable:
            found.append("drop NOT NULL" if a.nullable else "set NOT NULL")
        if b.default != a.default:
            found.append(f"default {b.default} -> {a.default}")
        if b.autoincrement != a.autoincrement:
            found.append(f"autoincrement {b.autoincrement} -> {a.autoincrement}")
        if b.comment != a.comment:
            found.append("comment")
        if (b.computed, b.persisted) != (a.computed, a.persisted):
            found.append(f"generated {_generated(b)} -> {_generated(a)}")
        if b.identity != a.identity:
            found.append(f"identity {b.identity or 'default'} -> {a.identity or 'default'}")
        return found

    def summary(self) -> str:
        return f"alter column {qualified(self.table)}.{self.after.name}: {', '.join(self.changes())}"

    def details(self) -> dict[str, Any]:
        return {"before": column_to_dict(self.before), "after": column_to_dict(self.after)}


@dataclass(frozen=True)
class SetAutoIncrement(AlterColumn):
    """MariaDB/MySQL: AUTO_INCREMENT put on a column once the key or index it needs exists (ordered
    after new keys and indexes; dialects/mysql lower). `with_primary_key`: a new primary key on a
    new column, added by the same statement, which numbers the rows (a key cannot go on NULLs first)."""

    with_primary_key: PrimaryKey | None = None

    def summary(self) -> str:
        if self.with_primary_key is None:
            return super().summary()
        columns = _cols(self.with_primary_key.columns)
        return f"{super().summary()}; add primary key on {qualified(self.table)} ({columns}) in the same statement (the rows are numbered)"

    def details(self) -> dict[str, Any]:
        key = {"primary_key": _constraint_details(self.with_primary_key)} if self.with_primary_key else {}
        return {**super().details(), **key}


@dataclass(frozen=True)
class DropAutoIncrement(AlterColumn):
    """MariaDB/MySQL: AUTO_INCREMENT taken off a column before the keys and indexes it leads are dropped."""


def becomes_generated(before: Column, after: Column) -> bool:
    """A stored column turned into a generated one: its own values are replaced by the expression's."""
    return before.computed is None and after.computed is not None


def _generated(column: Column) -> str:
    if column.computed is None:
        return "none"
    return f"{column.computed} {'stored' if column.persisted else 'virtual'}"


@dataclass(frozen=True)
class ReplaceGeneratedColumn(Operation):
    """A change to a generated column the server cannot make in place (a new expression on
    PostgreSQL, VIRTUAL <-> STORED on MariaDB, a stored column becoming generated): the column is
    dropped and added again. A generated column's values are computed from the row's other columns,
    so replacing one loses nothing, and one that stops being generated is filled with the old
    expression's values; a stored column that becomes generated loses its own values (destructive:
    backup.protect keeps them for rollback)."""

    op: ClassVar[str] = "replace_generated_column"
    before: Column
    after: Column

    @property
    def destructive(self) -> bool:
        return becomes_generated(self.before, self.after)

    def summary(self) -> str:
        changes = ", ".join(AlterColumn(self.table, self.before, self.after).changes())
        how = "stored values replaced by the expression's" if self.destructive else "values are derived, none lost"
        return f"replace generated column {qualified(self.table)}.{self.after.name} (drop and add; {how}): {changes}"

    def details(self) -> dict[str, Any]:
        return {"before": column_to_dict(self.before), "after": column_to_dict(self.after)}


@dataclass(frozen=True)
class SetNotNullAfterRestore(AlterColumn):
    """Require values in a column that the plan added (or altered) nullable so that its kept values
    could be restored first: a separate, late step (see backup.restore)."""

    def summary(self) -> str:
        return f"alter column {qualified(self.table)}.{self.after.name}: set NOT NULL (once its kept values are restored)"


@dataclass(frozen=True)
class FillColumn(Operation):
    """Fill a column from a declared SQL expression over the same row (data_changes.py), in the rows
    where it is NULL: a column the plan adds (every row), or one it makes NOT NULL. Only NULLs are
    touched, so running it again (a resumed apply) fills what is left and nothing twice."""

    op: ClassVar[str] = "fill_column"
    column: Column
    expression: str
    # The column is NOT NULL once filled: every row needs a value from the expression.
    required: bool = False
    # The schema_state ids of earlier applies that filled this column by key (online.FillRowsByKey)
    # and stopped part-way: the fill continues from their progress (data_changes.resumed_fills).
    resumes: tuple[int, ...] = ()

    def summary(self) -> str:
        return f"fill {qualified(self.table)}.{self.column.name} from ({self.expression}) where it is NULL"

    @staticmethod
    def column_in_summary(summary: str, table: str) -> str | None:
        """The column a recorded fill step's summary names (`table` as the step records it): a
        step in schema_state keeps its summary, not the operation (recovery.unfinished_fills)."""
        head = f"fill {table}."
        return summary[len(head):].split(" from (", 1)[0] if summary.startswith(head) and " from (" in summary else None

    def details(self) -> dict[str, Any]:
        return {"column": self.column.name, "expression": self.expression, "required": self.required}


@dataclass(frozen=True)
class SetNotNullAfterFill(AlterColumn):
    """Require values (and put the declared default) on a column that the plan added or left nullable
    so that a fill could run first: a step of its own, after the fill."""

    def summary(self) -> str:
        return f"alter column {qualified(self.table)}.{self.after.name}: {', '.join(self.changes())} (once it is filled)"


@dataclass(frozen=True)
class SetTableComment(Operation):
    op: ClassVar[str] = "set_table_comment"
    before: str | None
    after: str | None

    def summary(self) -> str:
        return f"{'set' if self.after else 'drop'} comment on table {qualified(self.table)}"

    def details(self) -> dict[str, Any]:
        return {"comment": self.after}


@dataclass(frozen=True)
class SetTableOptions(Operation):
    """Table options (MariaDB ENGINE, CHARSET, ROW_FORMAT...; SQLite's by a rebuild): (key, value) pairs."""

    op: ClassVar[str] = "set_table_options"
    before: tuple[tuple[str, Any], ...]
    after: tuple[tuple[str, Any], ...]

    def changed(self) -> dict[str, Any]:
        """The options that differ, each with its new value (None: back to the server's default)."""
        return {key: new for key, _, new in changed_by_key(dict(self.before), dict(self.after), str)}

    @property
    def destructive(self) -> bool:
        """A new character set converts every text value (MariaDB CONVERT TO): what does not fit is lost."""
        return any(key.endswith(("charset", "collate")) for key in self.changed())

    def summary(self) -> str:
        shown = ", ".join(f"{key}={'default' if value is None else value}" for key, value in self.changed().items())
        return f"set table options of {qualified(self.table)}: {shown}"

    def details(self) -> dict[str, Any]:
        return {"options": self.changed()}


def _constraint_details(constraint: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields_of(constraint).items() if k not in ("db_name", "renamed_from")}


def _label(constraint: Any) -> str:
    name = getattr(constraint, "name", None)
    return f" {name}" if name else ""


def _shown_name(constraint: Any) -> str:
    """The name the server knows a constraint by; SQLite's unnamed ones have none (say so by omission)."""
    name = server_name(constraint)
    return f" {name}" if name else ""


def _cols(columns: tuple[str, ...]) -> str:
    return ", ".join(columns)


@dataclass(frozen=True)
class AddPrimaryKey(Operation):
    op: ClassVar[str] = "add_primary_key"
    primary_key: PrimaryKey

    def summary(self) -> str:
        return f"add primary key{_label(self.primary_key)} on {qualified(self.table)} ({_cols(self.primary_key.columns)})"

    def details(self) -> dict[str, Any]:
        return {"primary_key": _constraint_details(self.primary_key)}


@dataclass(frozen=True)
class DropPrimaryKey(Operation):
    op: ClassVar[str] = "drop_primary_key"
    primary_key: PrimaryKey

    def summary(self) -> str:
        return f"drop primary key on {qualified(self.table)} ({_cols(self.primary_key.columns)})"


@dataclass(frozen=True)
class AddForeignKey(Operation):
    op: ClassVar[str] = "add_foreign_key"
    foreign_key: ForeignKey

    def summary(self) -> str:
        fk = self.foreign_key
        target = qualified((fk.referred_schema, fk.referred_table))
        return f"add foreign key{_label(fk)} {qualified(self.table)}({_cols(fk.columns)}) -> {target}({_cols(fk.referred_columns)})"

    def details(self) -> dict[str, Any]:
        return {"foreign_key": _constraint_details(self.foreign_key)}


@dataclass(frozen=True)
class DropForeignKey(Operation):
    op: ClassVar[str] = "drop_foreign_key"
    foreign_key: ForeignKey

    def summary(self) -> str:
        fk = self.foreign_key
        return f"drop foreign key{_shown_name(fk)} on {qualified(self.table)}({_cols(fk.columns)})"


@dataclass(frozen=True)
class AddUnique(Operation):
    op: ClassVar[str] = "add_unique"
    unique: Unique

    def summary(self) -> str:
        return f"add unique constraint{_label(self.unique)} on {qualified(self.table)} ({_cols(self.unique.columns)})"

    def details(self) -> dict[str, Any]:
        return {"unique": _constraint_details(self.unique)}


@dataclass(frozen=True)
class DropUnique(Operation):
    op: ClassVar[str] = "drop_unique"
    unique: Unique

    def summary(self) -> str:
        name = _shown_name(self.unique)
        return f"drop unique constraint{name} on {qualified(self.table)}" + ("" if name else f" ({_cols(self.unique.columns)})")


@dataclass(frozen=True)
class CreateIndex(Operation):
    op: ClassVar[str] = "create_index"
    index: Index

    def summary(self) -> str:
        kind = "unique index" if self.index.unique else "index"
        return f"create {kind} {self.index.name} on {qualified(self.table)} ({_cols(self.index.columns)})"

    def details(self) -> dict[str, Any]:
        return {"index": _constraint_details(self.index)}


@dataclass(frozen=True)
class DropIndex(Operation):
    op: ClassVar[str] = "drop_index"
    index: Index

    def summary(self) -> str:
        return f"drop index {self.index.name} on {qualified(self.table)}"


@dataclass(frozen=True)
class AddCheck(Operation):
    op: ClassVar[str] = "add_check"
    check: Check

    def summary(self) -> str:
        return f"add check{_label(self.check)} on {qualified(self.table)}: {self.check.sqltext}"

    def details(self) -> dict[str, Any]:
        return {"check": _constraint_details(self.check)}


@dataclass(frozen=True)
class DropCheck(Operation):
    op: ClassVar[str] = "drop_check"
    check: Check

    def summary(self) -> str:
        name = _shown_name(self.check)
        return f"drop check{name} on {qualified(self.table)}" + ("" if name else f": {self.check.sqltext}")


@dataclass(frozen=True)
class AddExclusion(Operation):
    """A PostgreSQL exclusion constraint added (it builds an index; rows that conflict make it fail)."""

    op: ClassVar[str] = "add_exclusion"
    exclusion: Exclusion

    def summary(self) -> str:
        return f"add exclusion constraint{_label(self.exclusion)} on {qualified(self.table)}: {self.exclusion.definition}"

    def details(self) -> dict[str, Any]:
        return {"exclusion": _constraint_details(self.exclusion)}


@dataclass(frozen=True)
class DropExclusion(Operation):
    op: ClassVar[str] = "drop_exclusion"
    exclusion: Exclusion

    def summary(self) -> str:
        name = _shown_name(self.exclusion)
        return f"drop exclusion constraint{name} on {qualified(self.table)}" + ("" if name else f": {self.exclusion.definition}")


@dataclass(frozen=True)
class RebuildTable(Operation):
    """SQLite's way to make a change ALTER TABLE cannot: copy the rows into a new table."""

    op: ClassVar[str] = "rebuild_table"
    before: Table
    after: Table
    reasons: tuple[str, ...]
    loses_data: bool
    # Declared data changes the copy carries out (data_changes.py): (column, expression) pairs. A
    # filled column takes the expression where it has no value; a converted one takes it always.
    fills: tuple[tuple[str, str], ...] = ()
    conversions: tuple[tuple[str, str], ...] = ()

    @property
    def destructive(self) -> bool:
        return self.loses_data

    def summary(self) -> str:
        return f"rebuild table {qualified(self.table)} (copy rows) to: {'; '.join(self.reasons)}"

    def details(self) -> dict[str, Any]:
        return {"definition": table_to_dict(self.after)}


@dataclass(frozen=True)
class RebuildTableAfterRestore(RebuildTable):
    """SQLite's late rebuild: the NOT NULL that had to wait until kept values were restored."""



# --- views (the plan drops a view before what it reads changes, and creates it once that is done) ---


@dataclass(frozen=True)
class CreateView(Operation):
    """Create a view (`table` is the view's key); `because` names the change it was re-created around."""

    op: ClassVar[str] = "create_view"
    view: View
    because: str | None = None

    def summary(self) -> str:
        again = f" ({self.because})" if self.because else ""
        return f"create {_view_kind(self.view)} {qualified(self.table)}{again}"

    def details(self) -> dict[str, Any]:
        return {"view": view_to_dict(self.view)}


@dataclass(frozen=True)
class DropView(Operation):
    """Drop a view: no rows are lost (a materialized view's are computed again when it is re-created)."""

    op: ClassVar[str] = "drop_view"
    view: View
    because: str | None = None

    def summary(self) -> str:
        again = f" ({self.because})" if self.because else ""
        return f"drop {_view_kind(self.view)} {qualified(self.table)}{again}"


def _view_kind(view: View) -> str:
    return "materialized view" if view.materialized else "view"


_SIZED = re.compile(r"^(?P<base>[A-Z ]+?)\s*(?:\((?P<args>[0-9, ]+)\))?$")
_INTEGER_RANK = {"SMALLINT": 1, "MEDIUMINT": 2, "INTEGER": 3, "INT": 3, "BIGINT": 4}
_TEXT_RANK = {"VARCHAR": 1, "CHARACTER VARYING": 1, "NVARCHAR": 1, "TEXT": 2, "MEDIUMTEXT": 3, "LONGTEXT": 4}


def parse_type(text: str) -> tuple[str, tuple[int, ...]] | None:
    """A type's text as (base name, size arguments): "VARCHAR(20)" -> ("VARCHAR", (20,)); None when it has another shape."""
    match = _SIZED.match(text.upper().replace(" UNSIGNED", ""))
    if not match:
        return None
    args = tuple(int(a) for a in (match["args"] or "").replace(" ", "").split(",") if a)
    return match["base"].strip(), args


# A collation clause (PostgreSQL, SQLite: COLLATE "C"; MariaDB: COLLATE utf8mb4_bin, the character set kept).
_COLLATE = re.compile(r"""\s+COLLATE\s+("[^"]*"|\w+)""", re.IGNORECASE)
_CHARSET = re.compile(r"\s+CHARACTER SET\s+\w+", re.IGNORECASE)
_UTF8MB4 = re.compile(r"\bCHARACTER SET utf8mb4\b", re.IGNORECASE)
_UNSIGNED = re.compile(r"\bUNSIGNED\b", re.IGNORECASE)
_MEMBERS = re.compile(r"^(?:ENUM|SET)\((.*)\)", re.IGNORECASE | re.DOTALL)


def type_members(text: str) -> list[str] | None:
    """The values of an ENUM(...) or SET(...) type, None for another type."""
    found = _MEMBERS.match(text.strip())
    return re.findall(r"'((?:[^']|'')*)'", found.group(1)) if found else None


def is_widening(before: str, after: str) -> bool:
    """True when every value of type `before` fits in `after` unchanged (conservative: unknown is False)."""
    if _COLLATE.sub("", before) == _COLLATE.sub("", after):
        return True  # only the collation changes: how values compare, not what they are
    if _UTF8MB4.search(after) and _CHARSET.sub("", _COLLATE.sub("", before)) == _CHARSET.sub("", _COLLATE.sub("", after)):
        return True  # MariaDB: utf8mb4 holds every character (whatever the table's character set was)
    if _UNSIGNED.search(before) is None and _UNSIGNED.search(after) is not None:
        return False  # negative numbers do not fit
    members = type_members(before), type_members(after)
    if members[0] is not None and members[1] is not None:
        return set(members[0]) <= set(members[1])  # ENUM / SET: every value still a member (order aside)
    b, a = parse_type(before), parse_type(after)
    if b is None or a is None:
        return False
    (b_base, b_args), (a_base, a_args) = b, a
    if b_base in _INTEGER_RANK and a_base in _INTEGER_RANK:
        return _INTEGER_RANK[a_base] >= _INTEGER_RANK[b_base]
    if b_base in _TEXT_RANK and a_base in _TEXT_RANK:
        if _TEXT_RANK[a_base] != _TEXT_RANK[b_base]:
            return _TEXT_RANK[a_base] > _TEXT_RANK[b_base]
        return not a_args or (bool(b_args) and a_args[0] >= b_args[0])
    if b_base == a_base and b_base in {"NUMERIC", "DECIMAL"} and len(b_args) == len(a_args) == 2:
        return a_args[1] >= b_args[1] and a_args[0] - a_args[1] >= b_args[0] - b_args[1]
    return False


_LENGTHS = {"VARCHAR", "CHARACTER VARYING", "NVARCHAR", "CHAR", "CHARACTER", "NCHAR", "TEXT"}
_NUMBERS = {*_INTEGER_RANK, "TINYINT", "NUMERIC", "DECIMAL"}


def narrowing_kind(before: str, after: str) -> str | None:
    """"length" when text gets a shorter limit, "range" when numbers a smaller type; None when the
    change is no narrowing of one of these (a widening, or another kind of type change)."""
    if before == after or is_widening(before, after):
        return None
    b, a = parse_type(_COLLATE.sub("", before)), parse_type(_COLLATE.sub("", after))
    if b is None or a is None:
        return None
    if b[0] in _LENGTHS and a[0] in _LENGTHS:
        return "length"
    return "range" if b[0] in _NUMBERS and a[0] in _NUMBERS else None


def keep_narrowed_values(operations: list[Operation], kinds: frozenset[str]) -> list[Operation]:
    """Column changes whose narrowing the server makes without touching a value (`kinds`, the dialect's
    `narrowing_keeps_values_on`) lose nothing: not destructive, nothing to back up."""
    if not kinds:
        return operations
    return [
        replace(op, values_kept=True) if isinstance(op, AlterColumn) and narrowing_kind(op.before.type, op.after.type) in kinds else op
        for op in operations
    ]


# --- keeping what an apply destroys (see backup.py) ------------------------------------------------


@dataclass(frozen=True)
class BackupTable(Operation):
    """Copy a table's rows into a backup table before it is dropped."""

    op: ClassVar[str] = "backup_table"
    backup: str
    columns: tuple[str, ...]
    # Columns kept as text: their type is an enum type, which a later plan may drop (the backup
    # must not depend on it); a restore casts them back (RestoreRows.casts).
    as_text: tuple[str, ...] = ()

    def summary(self) -> str:
        return f"keep the rows of table {qualified(self.table)} in {self.backup}"

    def details(self) -> dict[str, Any]:
        return {"backup": self.backup, "columns": list(self.columns), **({"as_text": list(self.as_text)} if self.as_text else {})}


@dataclass(frozen=True)
class BackupColumns(Operation):
    """Copy the values of columns about to be dropped or narrowed, with the primary key, into a backup table."""

    op: ClassVar[str] = "backup_columns"
    backup: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    as_text: tuple[str, ...] = ()  # as BackupTable.as_text

    def summary(self) -> str:
        return f"keep the values of {qualified(self.table)}.({_cols(self.columns)}) by ({_cols(self.key)}) in {self.backup}"

    def details(self) -> dict[str, Any]:
        return {"backup": self.backup, "key": list(self.key), "columns": list(self.columns), **({"as_text": list(self.as_text)} if self.as_text else {})}


@dataclass(frozen=True)
class RestoreRows(Operation):
    """Insert the rows kept in a backup table into a (re-created) table; `columns` pairs (table column, backup column)."""

    op: ClassVar[str] = "restore_rows"
    backup: str
    columns: tuple[tuple[str, str], ...]
    autoincrement: tuple[str, ...] = ()
    # (table column, its type): values cast back through text, because the backup may hold them as
    # text (an enum type dropped with its columns; see backup.enum_casts).
    casts: tuple[tuple[str, str], ...] = ()

    def summary(self) -> str:
        return f"restore the rows of table {qualified(self.table)} from {self.backup}"

    def details(self) -> dict[str, Any]:
        return {"backup": self.backup, "columns": [list(pair) for pair in self.columns], **_casts(self.casts)}


@dataclass(frozen=True)
class RestoreColumns(Operation):
    """Set column values from a backup table, matched by primary key; pairs are (table column, backup column)."""

    op: ClassVar[str] = "restore_columns"
    backup: str
    key: tuple[tuple[str, str], ...]
    columns: tuple[tuple[str, str], ...]
    casts: tuple[tuple[str, str], ...] = ()  # as RestoreRows.casts

    def summary(self) -> str:
        names = _cols(tuple(c for c, _ in self.columns))
        return f"restore the values of {qualified(self.table)}.({names}) from {self.backup}"

    def details(self) -> dict[str, Any]:
        return {"backup": self.backup, "key": [list(p) for p in self.key], "columns": [list(p) for p in self.columns], **_casts(self.casts)}


def _casts(casts: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """In a restore's details only when it has some (older plans' hashes stay the same)."""
    return {"casts": [list(pair) for pair in casts]} if casts else {}


# --- schema-level objects (PostgreSQL named schemas, enum types, sequences) -----------------------
# `table` is the object's own (schema, name) key: a plan step names what it changes.


@dataclass(frozen=True)
class CreateSchema(Operation):
    """A named schema the models use that the database lacks (IF NOT EXISTS: an empty one is not seen). Never dropped."""

    op: ClassVar[str] = "create_schema"

    def summary(self) -> str:
        return f"create schema {self.table[1]}"


@dataclass(frozen=True)
class CreateEnum(Operation):
    op: ClassVar[str] = "create_enum"
    enum: EnumType

    def summary(self) -> str:
        return f"create enum type {qualified(self.table)} ({', '.join(self.enum.values)})"

    def details(self) -> dict[str, Any]:
        return {"values": list(self.enum.values)}


@dataclass(frozen=True)
class DropEnum(Operation):
    """An enum type no column uses any more (its columns are dropped or retyped first): no data goes with it."""

    op: ClassVar[str] = "drop_enum"
    enum: EnumType

    def summary(self) -> str:
        return f"drop enum type {qualified(self.table)}"


@dataclass(frozen=True)
class AddEnumValue(Operation):
    """ALTER TYPE ... ADD VALUE, placed BEFORE or AFTER a value already there (`neighbour`)."""

    op: ClassVar[str] = "add_enum_value"
    value: str
    placement: str | None = None  # "BEFORE", "AFTER" or None (the type had no values)
    neighbour: str | None = None

    def summary(self) -> str:
        where = f" {self.placement.lower()} '{self.neighbour}'" if self.placement else ""
        return f"add value '{self.value}' to enum type {qualified(self.table)}{where}"

    def details(self) -> dict[str, Any]:
        return {"value": self.value, "placement": self.placement, "neighbour": self.neighbour}


@dataclass(frozen=True)
class RenameEnumValue(Operation):
    """A declared value rename: the rows holding it hold the new name at once."""

    op: ClassVar[str] = "rename_enum_value"
    old_value: str
    new_value: str

    def summary(self) -> str:
        return f"rename value '{self.old_value}' of enum type {qualified(self.table)} to '{self.new_value}'"

    def details(self) -> dict[str, Any]:
        return {"old_value": self.old_value, "new_value": self.new_value}


@dataclass(frozen=True)
class EnumColumn:
    """A live column of an enum type that a swap converts; `default` is the one to put back (the target's)."""

    table: TableKey
    column: str
    default: str | None = None
    had_default: bool = False


@dataclass(frozen=True)
class SwapEnum(Operation):
    """Values dropped or reordered: rename the type aside, create it anew, convert each column
    through text (fails on a row holding a dropped value: pre-flight counts them), drop the old type."""

    op: ClassVar[str] = "swap_enum"
    before: EnumType
    after: EnumType
    columns: tuple[EnumColumn, ...] = ()

    @property
    def dropped_values(self) -> tuple[str, ...]:
        return tuple(v for v in self.before.values if v not in self.after.values)

    def summary(self) -> str:
        dropped = self.dropped_values
        change = f"drop value(s) {', '.join(repr(v) for v in dropped)}" if dropped else "reorder values"
        return f"swap enum type {qualified(self.table)} ({change}; {len(self.columns)} column(s) converted) to ({', '.join(self.after.values)})"

    def details(self) -> dict[str, Any]:
        return {"before": list(self.before.values), "after": list(self.after.values), "columns": [f"{qualified(c.table)}.{c.column}" for c in self.columns]}


@dataclass(frozen=True)
class CreateSequence(Operation):
    op: ClassVar[str] = "create_sequence"
    sequence: SequenceDef

    def summary(self) -> str:
        s = self.sequence
        return f"create sequence {qualified(self.table)} (start {s.start}, increment {s.increment})"

    def details(self) -> dict[str, Any]:
        return {"sequence": _constraint_details(self.sequence)}


@dataclass(frozen=True)
class AlterSequence(Operation):
    """ALTER SEQUENCE with the options that changed; its current value is kept (START WITH is not RESTART)."""

    op: ClassVar[str] = "alter_sequence"
    before: SequenceDef
    after: SequenceDef

    def changes(self) -> list[str]:
        return [f"{name} {getattr(self.before, name)} -> {getattr(self.after, name)}" for name in _SEQUENCE_OPTIONS if getattr(self.before, name) != getattr(self.after, name)]

    def summary(self) -> str:
        return f"alter sequence {qualified(self.table)}: {', '.join(self.changes())}"

    def details(self) -> dict[str, Any]:
        return {"before": _constraint_details(self.before), "after": _constraint_details(self.after)}


_SEQUENCE_OPTIONS = ("data_type", "start", "increment", "min_value", "max_value", "cache", "cycle")


@dataclass(frozen=True)
class DropSequence(Operation):
    """Destructive: its current value goes with it (a rollback re-creates it at its start value)."""

    op: ClassVar[str] = "drop_sequence"
    sequence: SequenceDef

    @property
    def destructive(self) -> bool:
        return True

    def summary(self) -> str:
        return f"drop sequence {qualified(self.table)}"


# --- how a step is undone ----------------------------------------------------------------------------
# There is no inverse method: rollback plans again, from the live schema to the snapshot taken before
# the apply (rollback.plan_rollback), and the diff of that pair makes the steps below. The apply's
# renames are recorded (backup.rename_records) and declared backwards, so they rename back; the data
# it kept comes back through restore steps. An empty tuple: the rollback has nothing to undo.
# tests/test_operations_contract.py checks every entry by planning the way back.
UNDONE_BY: dict[type[Operation], tuple[type[Operation], ...]] = {
    CreateTable: (DropTable,),
    DropTable: (CreateTable, RestoreRows),
    RenameTable: (RenameTable,),
    RenameColumn: (RenameColumn,),
    RenameIndex: (RenameIndex,),
    RenameConstraint: (RenameConstraint,),
    AddColumn: (DropColumn,),
    DropColumn: (AddColumn, RestoreColumns),
    AlterColumn: (AlterColumn,),
    SetAutoIncrement: (DropAutoIncrement,),
    DropAutoIncrement: (SetAutoIncrement,),
    ReplaceGeneratedColumn: (ReplaceGeneratedColumn,),
    # A fill is undone with its column (dropped when the plan added it; a column made NOT NULL
    # becomes nullable again and keeps the filled values).
    FillColumn: (),
    SetNotNullAfterFill: (),
    SetTableComment: (SetTableComment,),
    SetTableOptions: (SetTableOptions,),
    AddPrimaryKey: (DropPrimaryKey,),
    DropPrimaryKey: (AddPrimaryKey,),
    AddForeignKey: (DropForeignKey,),
    DropForeignKey: (AddForeignKey,),
    AddUnique: (DropUnique,),
    DropUnique: (AddUnique,),
    CreateIndex: (DropIndex,),
    DropIndex: (CreateIndex,),
    AddCheck: (DropCheck,),
    DropCheck: (AddCheck,),
    AddExclusion: (DropExclusion,),
    DropExclusion: (AddExclusion,),
    RebuildTable: (RebuildTable,),
    CreateView: (DropView,),
    DropView: (CreateView,),
    CreateEnum: (DropEnum,),
    DropEnum: (CreateEnum,),
    # PostgreSQL cannot drop an enum value: the way back swaps the type.
    AddEnumValue: (SwapEnum,),
    # Value renames are not recorded for rollback (as table and column renames are): the way back
    # swaps the type, which fails on rows holding the new value (pre-flight counts them).
    RenameEnumValue: (SwapEnum,),
    # A swap that drops values is undone by adding them again (one that only reorders, by another swap).
    SwapEnum: (AddEnumValue,),
    CreateSequence: (DropSequence,),
    DropSequence: (CreateSequence,),
    AlterSequence: (AlterSequence,),
    # Never dropped (other things may live in the schema).
    CreateSchema: (),
    # Backups outlive the apply (`history prune` removes them); restores fill a table or column the
    # same plan re-creates, and late NOT NULLs complete such a restore: each is undone with it.
    BackupTable: (),
    BackupColumns: (),
    RestoreRows: (),
    RestoreColumns: (),
    SetNotNullAfterRestore: (),
    RebuildTableAfterRestore: (),
}
