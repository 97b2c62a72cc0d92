"""An Alembic setup written by the test itself: alembic.ini, migrations/env.py, versions, revisions.

env.py is the shape `alembic init` writes (online and offline paths, `target_metadata`), so
schemasync reads it the way it would read a real project's.
"""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path

from alembic import command
from alembic.config import Config

INI = """\
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os
sqlalchemy.url = {url}
"""

ENV = """\
from alembic import context
from sqlalchemy import engine_from_config, pool
{models_import}

config = context.config
{before}
target_metadata = {target}


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={{"paramstyle": "named"}})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config(config.get_section(config.config_ini_section, {{}}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""

def write_setup(folder: Path, url: str | None, models: str | None = "models:metadata", before: str = "") -> Path:
    """alembic.ini (with `sqlalchemy.url` unless `url` is None) and migrations/; returns the ini's path."""
    ini = folder / "alembic.ini"
    text = INI.format(url=url.replace("%", "%%")) if url else INI.replace("sqlalchemy.url = {url}\n", "")
    ini.write_text(text)
    migrations = folder / "migrations"
    (migrations / "versions").mkdir(parents=True, exist_ok=True)
    module, _, attribute = (models or "").partition(":")
    models_import = f"from {module} import {attribute}" if models else ""
    (migrations / "env.py").write_text(ENV.format(models_import=models_import, target=attribute or "None", before=before))
    return ini


def write_revision(folder: Path, revision: str, down_revision: str | None, upgrade: str, downgrade: str) -> Path:
    """A hand-written revision file in migrations/versions."""
    path = folder / "migrations" / "versions" / f"{revision}_step.py"
    lines = [
        f'"""revision {revision}"""', "import sqlalchemy as sa", "from alembic import op", "",
        f"revision = {revision!r}", f"down_revision = {down_revision!r}", "branch_labels = None", "depends_on = None", "", "",
        "def upgrade():", textwrap.indent(textwrap.dedent(upgrade).strip(), "    "), "", "",
        "def downgrade():", textwrap.indent(textwrap.dedent(downgrade).strip(), "    "), "",
    ]
    path.write_text("\n".join(lines))
    return path


def config(ini: Path) -> Config:
    return Config(str(ini))


def alembic(ini: Path, name: str, *args: object, **kwargs: object) -> None:
    """Run an Alembic command (upgrade, downgrade, ...) from the ini's folder, as a user would."""
    cwd, path = os.getcwd(), list(sys.path)
    os.chdir(ini.parent)
    importlib.invalidate_caches()  # another test's folder may have had the same mtime
    try:
        getattr(command, name)(config(ini), *args, **kwargs)
    finally:
        os.chdir(cwd)
        sys.path[:] = path  # Alembic prepends `prepend_sys_path` for good
