"""The target cache's key describes each table without compiling it: two equal descriptions must
always mean the same DDL (else a changed model could be served an old target)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.ext.compiler import compiles

from schemasync.dialects import offline_dialect
from schemasync.model_key import ddl_digest, describe
from tests.test_catalog import MODEL_FILES, load
from tests.test_convergence import edited, schemas, to_metadata

DIALECTS = [offline_dialect(name) for name in ("sqlite", "postgresql", "mysql")]


def assert_sound(left: sa.MetaData, right: sa.MetaData) -> None:
    """Same name, same description => same compiled DDL, on every dialect."""
    for dialect in DIALECTS:
        for name, a in left.tables.items():
            b = right.tables.get(name)
            if b is None:
                continue
            described_a, described_b = describe(a, dialect.sa_dialect), describe(b, dialect.sa_dialect)
            if described_a is not None and described_a == described_b:
                assert ddl_digest(a, dialect) == ddl_digest(b, dialect), f"{name} on {dialect.name}: equal descriptions, different DDL"


@pytest.mark.parametrize("models", MODEL_FILES)
def test_the_suite_models_are_described(models):
    metadata = load(models)
    for dialect in DIALECTS:
        assert all(describe(t, dialect.sa_dialect) is not None for t in metadata.tables.values())


def test_every_pair_of_suite_models_is_told_apart_when_their_ddl_differs():
    loaded = [load(models) for models in MODEL_FILES]
    for left in loaded:
        for right in loaded:
            assert_sound(left, right)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_schemas_and_their_edits(data):
    schema = data.draw(schemas(), label="schema")
    after = data.draw(edited(schema), label="edit")
    before_models, after_models = to_metadata(schema), to_metadata(after)
    for dialect in DIALECTS:
        assert all(describe(t, dialect.sa_dialect) is not None for t in before_models.tables.values())
    assert_sound(before_models, after_models)


def base(*extra: object, metadata: sa.MetaData | None = None, **options: object) -> sa.Table:
    metadata = metadata if metadata is not None else sa.MetaData()
    sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return sa.Table(
        "t", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(20), nullable=False, server_default="x"),
        sa.Column("p", sa.Integer, sa.ForeignKey("parent.id")),
        *extra,
        **options,
    )


# Each variation changes what create_all sends, on at least one dialect.
VARIATIONS = {
    "type length": lambda: base(sa.Column("extra", sa.String(40))),
    "type": lambda: base(sa.Column("extra", sa.Text())),
    "numeric scale": lambda: base(sa.Column("extra", sa.Numeric(10, 3))),
    "collation": lambda: base(sa.Column("extra", sa.String(30, collation="C"))),
    "variant": lambda: base(sa.Column("extra", sa.String(30).with_variant(mysql.VARCHAR(40), "mysql"))),
    "enum values": lambda: base(sa.Column("extra", sa.Enum("a", "b", "c", name="kind"))),
    "not null": lambda: base(sa.Column("extra", sa.String(30), nullable=False)),
    "server default": lambda: base(sa.Column("extra", sa.String(30), server_default="y")),
    "text default": lambda: base(sa.Column("extra", sa.Integer, server_default=sa.text("1 + 1"))),
    "function default": lambda: base(sa.Column("extra", sa.DateTime, server_default=sa.func.now())),
    "comment": lambda: base(sa.Column("extra", sa.String(30), comment="it's")),
    "table comment": lambda: base(sa.Column("extra", sa.String(30)), comment="a table"),
    "index": lambda: base(sa.Column("extra", sa.String(30)), sa.Index("ix_t_extra", "extra")),
    "unique index": lambda: base(sa.Column("extra", sa.String(30)), sa.Index("ix_t_extra", "extra", unique=True)),
    "expression index": lambda: base(sa.Column("extra", sa.String(30)), sa.Index("ix_t_extra", sa.func.lower(sa.text("extra")))),
    "partial index": lambda: base(sa.Column("extra", sa.String(30)), sa.Index("ix_t_extra", "extra", postgresql_where=sa.text("extra > 'a'"))),
    "unique": lambda: base(sa.Column("extra", sa.String(30)), sa.UniqueConstraint("extra", name="uq_t_extra")),
    "check": lambda: base(sa.Column("extra", sa.Integer), sa.CheckConstraint("extra > 0", name="ck_t_extra")),
    "check expression": lambda: base(sa.Column("extra", sa.Integer), sa.CheckConstraint(sa.column("extra") > 5)),
    "fk action": lambda: base(sa.Column("extra", sa.Integer), sa.ForeignKeyConstraint(["extra"], ["parent.id"], ondelete="CASCADE")),
    "fk deferrable": lambda: base(sa.Column("extra", sa.Integer), sa.ForeignKeyConstraint(["extra"], ["parent.id"], deferrable=True)),
    "quoted name": lambda: base(sa.Column(sa.sql.quoted_name("Extra", quote=True), sa.String(30))),
    "table option": lambda: base(sa.Column("extra", sa.String(30)), mysql_engine="MyISAM"),
    "autoincrement off": lambda: sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)),
    "naming convention": lambda: base(sa.Column("extra", sa.String(30), unique=True), metadata=sa.MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"})),
}


@pytest.mark.parametrize("name", list(VARIATIONS))
def test_a_change_to_the_ddl_changes_the_description(name):
    plain, changed = base(sa.Column("extra", sa.String(30))), VARIATIONS[name]()
    compiled = {d.name: (ddl_digest(plain, d), ddl_digest(changed, d)) for d in DIALECTS}
    assert any(a != b for a, b in compiled.values()), "not a DDL change on any dialect"
    for dialect in DIALECTS:
        described = describe(plain, dialect.sa_dialect), describe(changed, dialect.sa_dialect)
        if compiled[dialect.name][0] != compiled[dialect.name][1]:
            assert described[1] is None or described[0] != described[1], f"{name}: same description on {dialect.name}"


class Upper(sa.types.TypeDecorator):
    impl = sa.String
    cache_ok = True


class Hooked(sa.String):
    pass


@compiles(Hooked)
def _hooked(element, compiler, **kw):
    return "VARCHAR(99)"


@pytest.mark.parametrize(
    "column",
    [
        lambda: sa.Column("x", Upper(10)),
        lambda: sa.Column("x", Hooked(10)),
        lambda: sa.Column("x", sa.Integer, sa.Sequence("x_seq")),
        lambda: sa.Column("x", sa.Integer, sa.Identity()),
        lambda: sa.Column("x", sa.Integer, sa.Computed("id + 1")),
        lambda: sa.Column("x", postgresql.ARRAY(Upper(10))),
    ],
    ids=["type decorator", "compiles hook", "sequence", "identity", "computed", "decorated item type"],
)
def test_what_it_cannot_describe_is_compiled(column):
    table = base(column())
    assert all(describe(table, d.sa_dialect) is None for d in DIALECTS)
