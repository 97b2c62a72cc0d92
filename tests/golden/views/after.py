"""Two views, one reading the other: created after what they read (and dropped before it on the way down)."""
import sqlalchemy as sa

import schemasync

metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)
active = schemasync.View("active_users", sa.select(users.c.id, users.c.name).where(users.c.active == sa.true()), metadata)
schemasync.View("active_names", sa.select(active.c.name).where(active.c.name != "nobody"), metadata)
