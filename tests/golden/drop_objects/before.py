import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table("owners", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(60)))
sa.Table(
    "pets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id", name="fk_pets_owner")),
    sa.Column("name", sa.String(30)),
    sa.Column("legs", sa.Integer),
    sa.Column("legacy", sa.String(10)),
    sa.UniqueConstraint("name", name="uq_pets_name"),
    sa.CheckConstraint("legs >= 0", name="ck_pets_legs"),
    sa.Index("ix_pets_legs", "legs"),
)
sa.Table("obsolete", metadata, sa.Column("id", sa.Integer, primary_key=True))
