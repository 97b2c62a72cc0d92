"""The `schemasync` command: thin typer commands over workflow reports.

This is the one place that turns exceptions into exit codes (`run`). Errors are one line on
stderr; `--debug` shows the traceback (never with local variables: they hold URLs).
"""


import functools
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from schemasync import __version__, console, workflow
from schemasync.config import Settings, load_settings
from schemasync.errors import ExitCode, RefusedError, SchemasyncError
from schemasync.plan import Plan

# Click's UsageError, found through a public typer name: typer vendors Click in some versions and
# depends on it in others, and this module imports only from typer.
_UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class Group(TyperGroup):
    """Usage errors (unknown option, missing value) are bad input like any other: one line, exit 1.

    Click's own handling prints a box and exits 2, which `check` uses for "changes pending".
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _UsageError as error:
            context = getattr(error, "ctx", None)
            where = f" (see {context.command_path} --help)" if context is not None else ""
            message = error.format_message().strip().rstrip(".")  # type: ignore[attr-defined]
            line = console.one_line(console.redact(message))  # a URL passed as an argument is echoed back
            console.make_console(stderr=True).print(f"[bold red]error:[/] {console.escape(line)}{where}")
            code = ExitCode.ERROR
        except typer.Abort:
            console.make_console(stderr=True).print("[bold red]error:[/] aborted")
            code = ExitCode.ERROR
        sys.exit(code if isinstance(code, int) else ExitCode.OK)


app = typer.Typer(
    name="schemasync",
    cls=Group,
    help="Declarative schema migrations for SQLAlchemy models: plan, apply, check. No revision files.",
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass(frozen=True)
class Common:
    """Options every command takes (see the contract: flag > env > config file)."""

    database_url: str | None
    models: str | None
    config: str | None
    debug: bool
    quiet: bool

    def settings(self) -> Settings:
        return load_settings(self.database_url, self.models, self.config)


_COMMON_PARAMETERS = [
    inspect.Parameter("database_url", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--database-url", help="SQLAlchemy URL \\[env: SCHEMASYNC_DATABASE_URL]", show_default=False)]),
    inspect.Parameter("models", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--models", help="module:attr of a MetaData or declarative Base \\[env: SCHEMASYNC_MODELS]", show_default=False)]),
    inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--config", help="YAML config file (default ./schemasync.yaml) \\[env: SCHEMASYNC_CONFIG]", show_default=False)]),
    inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--debug", help="Show tracebacks.")]),
    inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("-q", "--quiet", help="Print only what scripts need.")]),
]


def command(name: str) -> Callable[[Callable[..., int]], Callable[..., None]]:
    """Register a command that takes the common options as its first argument and returns an exit code."""

    def decorate(function: Callable[..., int]) -> Callable[..., None]:
        own = list(inspect.signature(function).parameters.values())[1:]

        @functools.wraps(function)
        def wrapper(**kwargs: Any) -> None:
            common = Common(**{p.name: kwargs.pop(p.name) for p in _COMMON_PARAMETERS})
            raise typer.Exit(run(common.debug, lambda: function(common, **kwargs)))

        wrapper.__signature__ = inspect.Signature(own + _COMMON_PARAMETERS)  # type: ignore[attr-defined]
        app.command(name)(wrapper)
        return wrapper

    return decorate


def run(debug: bool, body: Callable[[], int]) -> int:
    """The exit-code funnel: 0/2 from the command, 1 with a one-line message for any error."""
    try:
        return body()
    except typer.Exit:
        raise
    except (Exception, KeyboardInterrupt) as error:
        err = console.make_console(stderr=True)
        if debug:
            console.print_traceback(err, error)
        err.print(f"[bold red]error:[/] {console.escape(error_line(error, debug))}")
        return ExitCode.ERROR


def error_line(error: BaseException, debug: bool = False) -> str:
    """The one line an error is reported as: ours verbatim, anything else named, passwords hidden."""
    if isinstance(error, SchemasyncError):
        message = str(error)
    elif isinstance(error, KeyboardInterrupt):
        message = "interrupted"
    else:  # the last line of defence: still one line, unless --debug
        detail = next(iter(str(error).strip().splitlines()), "")
        message = f"unexpected {type(error).__name__}{': ' + detail if detail else ''}"
        message += "" if debug else " (run with --debug for the traceback)"
    return console.one_line(console.redact(message))


def stdin_is_terminal() -> bool:
    """Whether a person can answer a prompt (tests replace this)."""
    return sys.stdin.isatty()


def confirm_apply(out: Any, plan: Plan) -> bool:
    if not stdin_is_terminal():
        raise RefusedError("refusing to apply without confirmation: no terminal to ask (pass --yes)")
    try:
        answer = out.input(console.escape(f"Apply {len(plan.steps)} operations? [y/N] "))  # rich would eat [y/N]
    except EOFError:  # stdin closed before an answer: that is not a yes
        out.print()
        return False
    return answer.strip().lower() in {"y", "yes"}


@command("plan")
def plan_command(
    common: Common,
    sql: Annotated[bool, typer.Option("--sql", help="Print the exact SQL apply would run.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Save the plan for `apply --plan`.")] = None,
) -> int:
    """Compare the models with the live schema and show the ordered plan and its hash."""
    report = workflow.plan(common.settings())
    stdout = console.make_console(quiet=common.quiet)
    if out:
        out.write_text(report.plan.to_json())
    if as_json:
        typer.echo(console.to_json(report.plan.to_dict()), nl=False)
    elif sql:
        typer.echo(console.plan_sql(report.plan), nl=False)
    else:
        console.print_plan(stdout, report.plan, report.other_objects)
    if out:
        console.make_console(stderr=True, quiet=common.quiet).print(f"Plan saved to {out}")
    return ExitCode.OK


@command("apply")
def apply_command(
    common: Common,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Apply a plan saved with `plan --out`.")] = None,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Allow steps that drop data.")] = False,
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL and change nothing.")] = False,
) -> int:
    """Apply the plan after showing it and asking; record it in schema_state."""
    stdout = console.make_console(quiet=common.quiet)

    def confirm(plan: Plan) -> bool:
        console.print_plan(stdout, plan)
        return yes or confirm_apply(stdout, plan)

    report = workflow.apply(common.settings(), confirm, allow_destructive, plan_file, sql_only=sql)
    if sql:
        typer.echo(console.plan_sql(report.plan), nl=False)
    elif report.result is None:
        console.print_plan(stdout, report.plan)
    else:
        result = report.result
        stdout.print(f"[green]Applied[/] {len(report.plan.steps)} operations ({result.statements} statements) in {result.duration_ms / 1000:.2f}s; recorded as schema_state #{result.state_id}.")
    return ExitCode.OK


@command("check")
def check_command(
    common: Common,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> int:
    """For CI: exit 0 in sync, 2 when changes are pending or the live schema drifted, 1 on error."""
    report = workflow.check(common.settings())
    if as_json:
        typer.echo(console.to_json(console.check_dict(report)), nl=False)
    else:
        console.print_check(console.make_console(quiet=common.quiet), report)
    return ExitCode.OK if report.in_sync else ExitCode.PENDING


@command("history")
def history_command(
    common: Common,
    as_json: Annotated[bool, typer.Option("--json", help="Print the history as JSON.")] = False,
) -> int:
    """Applied plans from schema_state: when, hash, operation count, status."""
    report = workflow.history(common.settings())
    if as_json:
        typer.echo(console.to_json(console.history_dict(report)), nl=False)
    else:
        console.print_history(console.make_console(quiet=common.quiet), report)
    return ExitCode.OK


@command("inspect")
def inspect_command(common: Common) -> int:
    """Print the live schema as YAML, with what schemasync does not manage."""
    typer.echo(console.inspect_yaml(workflow.inspect(common.settings())), nl=False)
    return ExitCode.OK


@command("init")
def init_command(
    common: Common,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing schemasync.yaml.")] = False,
) -> int:
    """Write a commented starter schemasync.yaml in the current folder."""
    cwd = Path.cwd()
    path = workflow.init(cwd, common.database_url or f"sqlite:///{cwd.name}.db", common.models or "models:Base", force)
    console.make_console(quiet=common.quiet).print(f"Wrote {path.name}. Next: schemasync plan")
    return ExitCode.OK


def _version(value: bool) -> None:
    if value:
        typer.echo(f"schemasync {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main_callback(
    context: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Declarative schema migrations for SQLAlchemy models."""
    if context.invoked_subcommand is None:  # no command: show the help, but do not pass for success
        typer.echo(context.get_help())
        console.make_console(stderr=True).print("[bold red]error:[/] no command given: choose one of the commands above")
        raise typer.Exit(ExitCode.ERROR)


def main() -> None:
    app()
