"""A native enum type, created before the column that uses it (and dropped after it on the way down)."""
import sqlalchemy as sa

metadata = sa.MetaData()
mood = sa.Enum("happy", "sad", name="mood")
sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40)),
    sa.Column("mood", mood, nullable=False, server_default="happy"),
)
