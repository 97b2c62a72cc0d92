"""`flask schemasync plan|apply|check`: the commands inside a Flask project, on the app `flask` loaded.

Registered through Flask's `flask.commands` entry point (pyproject.toml), so the group appears in
`flask --help` whenever schemasync and Flask are installed. The models and the URL are the app's
(Flask-SQLAlchemy's default bind, its engine's URL: flask_app.py); a `schemasync.yaml` beside the
app still supplies the rest (exclude_tables, ...). The commands are `cli.py`'s own, run through its
exit-code funnel, with settings made from the app instead of from --models.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from schemasync import cli
from schemasync.config import Settings, load_settings

schemasync = AppGroup("schemasync", help="Declarative schema migrations for this app's Flask-SQLAlchemy models: plan, apply, check.")


@dataclass(frozen=True)
class AppCommon(cli.Common):
    """The common options, with the models and (unless --database-url) the URL taken from the app."""

    bind: str | None = None

    def settings(self) -> Settings:
        from schemasync import console
        from schemasync.database import url_note
        from schemasync.models import from_value
        app: Any = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy is untyped here
        loaded = from_value(app, None, f"the Flask app '{app.name}'", self.bind)
        settings = load_settings(self.database_url, None, self.config)
        settings = replace(settings, database_url=settings.database_url or loaded.url, metadata=loaded.metadata, models=f"the Flask app '{app.name}'")
        note = url_note(settings)
        if note:
            console.make_console(stderr=True, quiet=self.quiet).print(f"[yellow]note:[/] {console.escape(note)}")
        return settings


def _common(bind: str | None, database_url: str | None, config: str | None, debug: bool, quiet: bool) -> AppCommon:
    return AppCommon(database_url=database_url, models=None, config=config, debug=debug, quiet=quiet, bind=bind)


def _options(function: Any) -> Any:
    """The options every command takes here (the app supplies the models)."""
    for option in reversed([
        click.option("--bind", default=None, help="A Flask-SQLAlchemy bind (its __bind_key__) instead of the default database."),
        click.option("--database-url", default=None, help="Another database than the app's (SQLAlchemy URL)."),
        click.option("--config", default=None, help="YAML config file (default ./schemasync.yaml)."),
        click.option("--debug", is_flag=True, help="Show tracebacks."),
        click.option("-q", "--quiet", is_flag=True, help="Print only what scripts need."),
    ]):
        function = option(function)
    return function


def _run(common: AppCommon, command: Any, **options: Any) -> None:
    """Run one of cli.py's commands through its funnel; its exit code is the process's."""
    sys.exit(cli.run(common.debug, lambda: command.__wrapped__(common, **options)))


@schemasync.command("plan")
@click.option("--sql", is_flag=True, help="Print the exact SQL apply would run.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@_options
def plan(sql: bool, as_json: bool, bind: str | None, database_url: str | None, config: str | None, debug: bool, quiet: bool) -> None:
    """Compare the app's models with its database and show the ordered plan and its hash."""
    _run(_common(bind, database_url, config, debug, quiet), cli.plan_command, sql=sql, as_json=as_json)


@schemasync.command("apply")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-destructive", is_flag=True, help="Allow steps that drop data.")
@click.option("--sql", is_flag=True, help="Print the SQL and change nothing.")
@_options
def apply(yes: bool, allow_destructive: bool, sql: bool, bind: str | None, database_url: str | None, config: str | None, debug: bool, quiet: bool) -> None:
    """Apply the plan after showing it and asking; record it in schema_state."""
    _run(_common(bind, database_url, config, debug, quiet), cli.apply_command, yes=yes, allow_destructive=allow_destructive, sql=sql)


@schemasync.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_options
def check(as_json: bool, bind: str | None, database_url: str | None, config: str | None, debug: bool, quiet: bool) -> None:
    """For CI: exit 0 in sync, 2 when changes are pending or the live schema drifted, 1 on error."""
    _run(_common(bind, database_url, config, debug, quiet), cli.check_command, as_json=as_json)
