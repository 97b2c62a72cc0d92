"""The `schemasync` command: thin typer commands over workflow reports.

This is the one place that turns exceptions into exit codes (`run`). Errors are one line on
stderr; `--debug` shows the traceback (never with local variables: they hold URLs).
"""


import functools
import gc
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from schemasync import __version__
from schemasync.errors import ConfigError, ExitCode, RefusedError, SchemasyncError

# Start-up time: each command imports the modules it runs (`plan` never loads rollback, offline
# plans, many targets or report formats); the names below are for annotations only.
if TYPE_CHECKING:
    from schemasync import history, offline, targets, workflow
    from schemasync.config import Settings
    from schemasync.plan import Plan

# Click's UsageError, found through a public typer name: typer vendors Click in some versions and
# depends on it in others, and this module imports only from typer.
_UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class Group(TyperGroup):
    """Usage errors (unknown option, missing value) are bad input like any other: one line, exit 1.

    Click's own handling prints a box and exits 2, which `check` uses for "changes pending".
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        from schemasync import console
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra)
        except _UsageError as error:
            context = getattr(error, "ctx", None)
            where = f" (see {context.command_path} --help)" if context is not None else ""
            message = error.format_message().strip().rstrip(".")  # type: ignore[attr-defined]  # _UsageError is only typed as Exception
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
    add_completion=True,
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
    target: str | None = None
    alembic: str | None = None
    # `--online/--no-online` where the command takes it; None: the config decides.
    online: bool | None = None
    models_package: str | None = None
    dev_url: str | None = None

    def settings(self) -> "Settings":
        from schemasync import console
        from schemasync.config import load_settings
        from schemasync.database import url_note, with_alembic, with_models
        settings = load_settings(self.database_url, self.models, self.config, target=self.target, alembic=self.alembic, models_package=self.models_package,
                                 dev_url=self.dev_url)
        settings = with_models(with_alembic(settings))
        note = url_note(settings)
        if note:  # an async URL (FastAPI apps have them) runs through the sync driver: said, on stderr
            console.make_console(stderr=True, quiet=self.quiet).print(f"[yellow]note:[/] {console.escape(note)}")
        return settings if self.online is None else replace(settings, online=self.online)


_COMMON_PARAMETERS = [
    inspect.Parameter("database_url", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--database-url", help="SQLAlchemy URL \\[env: SCHEMASYNC_DATABASE_URL]", show_default=False)]),
    inspect.Parameter("models", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--models", help="module:attr of a MetaData, declarative Base, Flask app or db (db.Model, create_app(), db.metadatas[bind]; comma-separated for several) \\[env: SCHEMASYNC_MODELS]", show_default=False)]),
    inspect.Parameter("models_package", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--models-package", help="Import every module of this package first, so that all model classes register \\[env: SCHEMASYNC_MODELS_PACKAGE]", show_default=False)]),
    inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--config", help="Config file (default: schemasync.yaml or pyproject.toml [tool.schemasync], here or in a parent folder up to the repository root) \\[env: SCHEMASYNC_CONFIG]", show_default=False)]),
    inspect.Parameter("alembic", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--alembic", help="alembic.ini to read the URL and the models (env.py's target_metadata) from, for whichever is not given (default ./alembic.ini when there is no schemasync.yaml) \\[env: SCHEMASYNC_ALEMBIC]", show_default=False)]),
    inspect.Parameter("target", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--target", help="One of the config's `targets:` by name (its URL and schema).", show_default=False)]),
    inspect.Parameter("dev_url", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        str | None, typer.Option("--dev-url", help="SQLAlchemy URL of a scratch database (same dialect) to build the models in, where the target has not got them built already: plan and check then only read the target \\[env: SCHEMASYNC_DEV_URL]", show_default=False)]),
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

        wrapper.__signature__ = inspect.Signature(own + _COMMON_PARAMETERS)  # type: ignore[attr-defined]  # typeshed declares no __signature__ on functions
        app.command(name)(wrapper)
        return wrapper

    return decorate


def run(debug: bool, body: Callable[[], int]) -> int:
    """The exit-code funnel: 0/2 from the command, 1 with a one-line message for any error (3 for an
    apply in progress, `InProgressError`)."""
    from schemasync import console
    try:
        return body()
    except typer.Exit:
        raise
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001  (the one funnel from exceptions to exit codes)
        err = console.make_console(stderr=True)
        if debug:
            console.print_traceback(err, error)
        err.print(f"[bold red]error:[/] {console.escape(error_line(error, debug))}")
        return getattr(error, "exit_code", ExitCode.ERROR)


def error_line(error: BaseException, debug: bool = False) -> str:
    """The one line an error is reported as: ours verbatim, anything else named, passwords hidden."""
    from schemasync import console
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


def confirm_apply(out: Any, plan: "Plan", where: str | None = None) -> bool:
    """`Apply 3 changes to postgresql://app@db.internal/prod (1 long-lock)? [y/N]`: where, said without its password."""
    from schemasync import console, plan_view
    risks = f" ({console.hazard_summary(plan)})" if plan.hazards else ""
    to = f" to {console.shown_url(where)}" if where else ""
    return ask(out, f"Apply {plan_view.plural(len(plan_view.changes(plan)), 'change')}{to}{risks}?", "apply")


def ask(out: Any, question: str, action: str) -> bool:
    """A [y/N] question; without a terminal to ask, refuse (the user passes --yes)."""
    from schemasync import console
    if not stdin_is_terminal():
        raise RefusedError(f"refusing to {action} without confirmation: no terminal to ask (pass --yes)")
    try:
        answer = out.input(console.escape(f"{question} [y/N] "))  # rich would eat [y/N]
    except EOFError:  # stdin closed before an answer: that is not a yes
        out.print()
        return False
    return answer.strip().lower() in {"y", "yes"}


def with_online(common: Common, online: bool, no_online: bool) -> Common:
    """`--online` / `--no-online` (not shown in --help) over the config's `online`."""
    if online and no_online:
        raise ConfigError("--online and --no-online cannot be used together")
    return replace(common, online=True if online else False if no_online else None)


@command("plan")
def plan_command(
    common: Common,
    sql: Annotated[bool, typer.Option("--sql", help="Print the exact SQL apply would run.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Save the plan for `apply --plan`.")] = None,
    source: Annotated[str | None, typer.Option("--from", help="Offline: plan from this lock file (or `empty`) to the models, no server.", show_default=False)] = None,
    dialect: Annotated[str | None, typer.Option("--dialect", help="Offline: mysql, postgresql or sqlite.", show_default=False)] = None,
    models_lock: Annotated[Path | None, typer.Option("--to", help="Offline: the models' lock file (default schema.lock.yaml).", show_default=False)] = None,
    all_targets: Annotated[bool, typer.Option("--all-targets", help="Every target in the config.")] = False,
    parallel: Annotated[int, typer.Option("--parallel", min=1, help="Targets at a time with --all-targets.")] = 1,
    alembic_revision: Annotated[Path | None, typer.Option("--alembic-revision", help="Also write the plan as an Alembic revision file in this versions directory (or script location).", show_default=False)] = None,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="With --alembic-revision: write a revision that drops data.")] = False,
    online: Annotated[bool, typer.Option("--online", help="Plan online steps (as `online: true` in the config does).")] = False,
    no_online: Annotated[bool, typer.Option("--no-online", hidden=True)] = False,
    compact: Annotated[bool, typer.Option("--compact", help="One line per change, without what it changes column by column.")] = False,
    output_format: Annotated[str, typer.Option("--format", help="text; mermaid (an ER diagram of the tables the plan touches and their neighbours); html (one self-contained page: with --out, written there instead of the JSON plan).")] = "text",
) -> int:
    """Compare the models with the live schema and show the ordered plan and its hash."""
    from schemasync import console
    if output_format not in PLAN_FORMATS:
        raise ConfigError(f"--format {output_format}: choose one of {', '.join(PLAN_FORMATS)}")
    if output_format != "text" and (as_json or sql or all_targets or alembic_revision):
        raise ConfigError(f"--format {output_format} cannot be combined with --json, --sql, --all-targets or --alembic-revision")
    common = with_online(common, online, no_online)
    if alembic_revision or allow_destructive:
        return alembic_revision_command(common, alembic_revision, allow_destructive, bool(source or all_targets or out or as_json or sql))
    if all_targets:
        return targets_command(common, "plan", parallel, "json" if as_json else "sql" if sql else "text")
    if (dialect or models_lock) and not source:
        raise ConfigError("--dialect and --to are for offline plans: add --from LOCK_FILE (or --from empty)")
    if source:
        from schemasync import offline

        report = offline.offline_plan(common.settings(), source, dialect, models_lock)
    else:
        from schemasync import workflow

        report = workflow.plan(common.settings())
    stdout = console.make_console(quiet=common.quiet)
    if output_format != "text":
        return print_plan_picture(report.plan, output_format, out)
    if out:
        out.write_text(report.plan.to_json())
    if as_json:
        typer.echo(console.to_json(report.plan.to_dict()), nl=False)
    elif sql:
        typer.echo(console.plan_sql(report.plan), nl=False)
    else:
        console.print_unfinished(stdout, getattr(report, "unfinished", ()))
        console.print_plan(stdout, report.plan, report.other_objects, compact)
    if common.quiet and report.plan.steps and not (as_json or sql):
        typer.echo(report.plan.hash)  # -q: what a script keeps, and nothing else
    if out:
        console.make_console(stderr=True, quiet=common.quiet).print(f"Plan saved to {out}")
    return ExitCode.OK


PLAN_FORMATS = ("text", "mermaid", "html")


def print_plan_picture(plan: "Plan", output_format: str, out: Path | None) -> int:
    """`plan --format mermaid|html`: the diagram on stdout, or the HTML report (to --out when given)."""
    from schemasync import console, mermaid

    if output_format == "mermaid":
        typer.echo(mermaid.mermaid(mermaid.plan_diagram(plan)), nl=False)
        return ExitCode.OK
    from schemasync import html_report

    page = html_report.html_report(plan)
    if out is None:
        typer.echo(page, nl=False)
    else:
        out.write_text(page, encoding="utf-8")
        console.make_console(stderr=True).print(f"Report written to {console.escape(str(out))}")
    return ExitCode.OK


def alembic_revision_command(common: Common, directory: Path | None, allow_destructive: bool, other_options: bool) -> int:
    """`plan --alembic-revision DIR`: the plan as usual, and the revision file written."""
    from schemasync import alembic_export, console
    if directory is None:
        raise ConfigError("--allow-destructive is for `plan --alembic-revision DIR` (apply takes its own)")
    if other_options:
        raise ConfigError("--alembic-revision plans against the live database: it cannot be combined with --from, --all-targets, --out, --json or --sql")
    report = alembic_export.export_revision(common.settings(), directory, allow_destructive)
    stdout = console.make_console(quiet=common.quiet)
    console.print_plan(stdout, report.upgrade, report.other_objects)
    console.print_revision(stdout, report)
    return ExitCode.OK


@command("apply")
def apply_command(
    common: Common,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Apply a plan saved with `plan --out`.")] = None,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Allow steps that drop data.")] = False,
    allow_mass_drop: Annotated[bool, typer.Option("--allow-mass-drop", help="With --allow-destructive: allow a plan that drops all, or more than half, of the managed tables.")] = False,
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL and change nothing.")] = False,
    allow_hazard: Annotated[list[str] | None, typer.Option("--allow-hazard", help="Allow steps with this hazard although block_hazards lists it (repeatable).", show_default=False)] = None,
    no_preflight: Annotated[bool, typer.Option("--no-preflight", help="Skip counting the rows that would make a step fail (slow on huge tables); a failing step then stops the apply.")] = False,
    all_targets: Annotated[bool, typer.Option("--all-targets", help="Every target in the config.")] = False,
    parallel: Annotated[int, typer.Option("--parallel", min=1, help="Targets at a time with --all-targets.")] = 1,
    online: Annotated[bool, typer.Option("--online", help="Change busy tables without blocking writes (as `online: true` in the config does).")] = False,
    no_online: Annotated[bool, typer.Option("--no-online", hidden=True)] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Echo each statement as it runs, with its duration.")] = False,
    compact: Annotated[bool, typer.Option("--compact", help="Show the plan one line per change.")] = False,
) -> int:
    """Apply the plan after showing it and asking; record it in schema_state."""
    from schemasync import console
    from schemasync.hazards import ALL as HAZARDS
    allowed = tuple(allow_hazard or ())
    unknown = [name for name in allowed if name not in HAZARDS]
    if unknown:
        raise ConfigError(f"--allow-hazard {unknown[0]}: unknown hazard (known: {', '.join(HAZARDS)})")
    common = with_online(common, online, no_online)
    if all_targets:
        if plan_file or sql:
            raise ConfigError("--all-targets cannot be combined with --plan or --sql (use `plan --all-targets --sql`)")
        return targets_command(common, "apply", parallel, "text", yes=yes, allow_destructive=allow_destructive, allow_mass_drop=allow_mass_drop)
    from schemasync import workflow

    stdout = console.make_console(quiet=common.quiet)
    progress = console.StatementEcho(stdout) if verbose else console.StatementProgress(console.make_console(stderr=True, quiet=common.quiet))
    settings = common.settings()

    def confirm(plan: "Plan") -> bool:
        confirmed = yes or confirm_apply(stdout, plan, settings.database_url)
        progress.expect(len(plan.statements) if confirmed else 0)
        return confirmed

    def note(line: str) -> None:
        """Waiting for the migration lock, and what recovery recorded: said as it happens."""
        console.make_console(stderr=True, quiet=common.quiet).print(f"[yellow]{console.escape(line)}[/]")

    with progress:
        report = workflow.apply(settings, confirm, allow_destructive, plan_file, sql_only=sql, on_statement=progress,
                                allow_hazards=allowed, preflight_checks=not no_preflight, on_note=note, allow_mass_drop=allow_mass_drop,
                                on_plan=lambda plan: console.print_plan(stdout, plan, compact=compact))
        progress.finish()
    if sql:
        typer.echo(console.plan_sql(report.plan), nl=False)
    elif report.result is None:
        console.print_plan(stdout, report.plan)
    else:
        console.print_applied(stdout, report.plan, report.result)
    if common.quiet and report.plan.steps and not sql:
        typer.echo(report.plan.hash)  # -q: what a script keeps, and nothing else
    return ExitCode.OK


@command("check")
def check_command(
    common: Common,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON (same as --format json).")] = False,
    output_format: Annotated[str, typer.Option("--format", help="text, json, markdown or github (annotations; Markdown to $GITHUB_STEP_SUMMARY).")] = "text",
    against: Annotated[Path | None, typer.Option("--against", help="No server: fail when the models changed but this lock file was not updated.", show_default=False)] = None,
    lock: Annotated[Path | None, typer.Option("--lock", help="Also compare the live schema and the models with this lock file.", show_default=False)] = None,
    all_targets: Annotated[bool, typer.Option("--all-targets", help="Every target in the config.")] = False,
    parallel: Annotated[int, typer.Option("--parallel", min=1, help="Targets at a time with --all-targets.")] = 1,
) -> int:
    """For CI: exit 0 in sync, 2 when changes are pending or the live schema drifted, 1 on error."""
    from schemasync import report_formats

    chosen = "json" if as_json else output_format
    if chosen not in report_formats.FORMATS:
        raise ConfigError(f"--format {chosen}: choose one of {', '.join(report_formats.FORMATS)}")
    if all_targets:
        return targets_command(common, "check", parallel, chosen, lock=lock)
    report: "workflow.CheckReport | offline.LockCheckReport"  # noqa: UP037  (unquoted, ruff takes it for a use of the imports below)
    if against:
        from schemasync import offline

        report = offline.check_lock(common.settings(), against)
    else:
        from schemasync import workflow

        report = workflow.check(common.settings(), lock)
    print_check_report(report, chosen, common.quiet)
    return ExitCode.OK if report.in_sync else ExitCode.PENDING


def print_check_report(report: "workflow.CheckReport | offline.LockCheckReport", chosen: str, quiet: bool) -> None:
    """The report in the chosen format; `github` also appends the Markdown to $GITHUB_STEP_SUMMARY."""
    from schemasync import console, offline, report_formats

    if chosen == "json":
        typer.echo(console.to_json(report_formats.check_json(report)), nl=False)
    elif chosen == "markdown":
        typer.echo(report_formats.check_markdown(report), nl=False)
    else:
        if chosen == "github":
            typer.echo(report_formats.github_annotations(report), nl=False)
            summary = os.environ.get("GITHUB_STEP_SUMMARY")
            if summary:
                with open(summary, "a", encoding="utf-8") as file:
                    file.write(report_formats.check_markdown(report) + "\n")
        stdout = console.make_console(quiet=quiet)
        if isinstance(report, offline.LockCheckReport):
            report_formats.print_lock_check(stdout, report)
        else:
            console.print_check(stdout, report)
            if report.lock:
                report_formats.print_lock_status(stdout, report.lock)


@command("snapshot")
def snapshot_command(
    common: Common,
    out: Annotated[Path, typer.Option("--out", help="The lock file to write.")] = Path("schema.lock.yaml"),
    live: Annotated[bool, typer.Option("--live", help="Snapshot the live database instead of the models.")] = False,
    dialect: Annotated[str | None, typer.Option("--dialect", help="Build the models for this dialect (sqlite needs no server).", show_default=False)] = None,
) -> int:
    """Write the normalised schema of the models (or of the database) to a lock file to commit."""
    from schemasync import console, offline

    report = offline.snapshot(common.settings(), out, live, dialect)
    kept = f"; kept the {', '.join(report.kept_dialects)} snapshot(s) made from the same models" if report.kept_dialects else ""
    what = "the live database" if live else "the models"
    console.make_console(quiet=common.quiet).print(f"Wrote {out}: {what}, {report.tables} tables on {report.dialect}, fingerprint {report.fingerprint}{kept}")
    return ExitCode.OK


# --- many targets ---------------------------------------------------------------------------------


def targets_command(common: Common, intent: str, parallel: int, chosen: str, yes: bool = False, allow_destructive: bool = False, lock: Path | None = None,
                    allow_mass_drop: bool = False) -> int:
    """plan/apply/check on every configured target, with a progress display and a summary table."""
    from schemasync import console, targets, targets_console

    if common.target:
        raise ConfigError("--target and --all-targets cannot be used together")
    settings = common.settings()
    names = [spec.name for spec in targets.chosen_targets(settings)]
    stdout = console.make_console(quiet=common.quiet)
    with targets_console.progress(console.make_console(stderr=True, quiet=common.quiet), names, intent) as on_event:
        if intent == "plan":
            report = targets.plan_targets(settings, parallel, on_event)
        elif intent == "check":
            report = targets.check_targets(settings, parallel, on_event, lock)
        else:
            report = targets.apply_targets(settings, lambda plans: confirm_targets(stdout, plans, yes), allow_destructive, parallel, on_event, allow_mass_drop)
    print_targets(report, intent, chosen, stdout)
    return targets_exit_code(report)


def confirm_targets(out: Any, plans: "list[tuple[str, Plan]]", yes: bool) -> bool:
    """One question for the whole run (each plan was listed per target above it)."""
    from schemasync import console
    from schemasync.plan_view import changes, plural
    for name, plan in plans:
        out.print(f"[bold]{console.escape(name)}[/]: {plural(len(changes(plan)), 'change')}, hash {plan.hash}")
    if yes:
        return True
    if not stdin_is_terminal():
        raise RefusedError("refusing to apply without confirmation: no terminal to ask (pass --yes)")
    total = sum(len(changes(plan)) for _, plan in plans)
    try:
        answer = out.input(console.escape(f"Apply {plural(total, 'change')} on {plural(len(plans), 'target')}? [y/N] "))
    except EOFError:
        out.print()
        return False
    return answer.strip().lower() in {"y", "yes"}


def print_targets(report: "targets.TargetsReport", intent: str, chosen: str, stdout: Any) -> None:
    """JSON and Markdown alone on stdout; SQL on stdout with the table on stderr; else the table."""
    from schemasync import console, targets_console

    if chosen == "json":
        typer.echo(console.to_json(targets_console.targets_json(report, error_line)), nl=False)
    elif chosen == "markdown":
        typer.echo(targets_console.targets_markdown(report, error_line), nl=False)
    elif chosen == "sql":
        for outcome in report.outcomes:
            if outcome.result is not None:
                typer.echo(f"-- target {outcome.name}\n" + console.plan_sql(outcome.result.plan), nl=False)
        targets_console.print_summary(console.make_console(stderr=True), report, error_line)
    else:
        if chosen == "github":
            typer.echo(targets_console.targets_annotations(report, error_line), nl=False)
            summary = os.environ.get("GITHUB_STEP_SUMMARY")
            if summary:
                with open(summary, "a", encoding="utf-8") as file:
                    file.write(targets_console.targets_markdown(report, error_line) + "\n")
        targets_console.print_summary(stdout, report, error_line)


def targets_exit_code(report: "targets.TargetsReport") -> int:
    """1 when any target failed, else 2 when any check found changes, else 0."""
    from schemasync import workflow

    if report.failed:
        return ExitCode.ERROR
    pending = any(isinstance(o.result, workflow.CheckReport) and not o.result.in_sync for o in report.outcomes)
    return ExitCode.PENDING if pending else ExitCode.OK


@command("rollback")
def rollback_command(
    common: Common,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL and change nothing.")] = False,
    to: Annotated[int | None, typer.Option("--to", help="Go back to before apply ID, undoing every later apply.", show_default=False)] = None,
) -> int:
    """Bring the schema back to before the last apply (or apply --to ID), with the data it dropped."""
    from schemasync import console, history

    stdout = console.make_console(quiet=common.quiet)

    progress = console.StatementProgress(console.make_console(stderr=True, quiet=common.quiet))

    def confirm(undone: int, plan: "Plan") -> bool:
        console.print_rollback_plan(stdout, undone, plan)
        from schemasync.plan_view import changes, plural
        confirmed = yes or ask(stdout, f"Roll back apply #{undone} ({plural(len(changes(plan)), 'change')})?", "roll back")
        progress.expect(len(plan.statements) if confirmed else 0)
        return confirmed

    with progress:
        report = history.rollback(common.settings(), confirm, to, sql_only=sql, on_statement=progress)
    if sql:
        typer.echo(console.rollback_sql(report), nl=False)
    else:
        console.print_rollback(stdout, report)
    return ExitCode.OK


@command("prune")
def prune_command(
    common: Common,
    keep: Annotated[int | None, typer.Option("--keep", min=0, help="How many recent applies/rollbacks keep their backups (default: keep_backups in the config).", show_default=False)] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> int:
    """Drop old backup tables (the data kept for rollback), after asking."""
    from schemasync import console, history

    stdout = console.make_console(quiet=common.quiet)

    def confirm(doomed: "list[history.KeptBackup]") -> bool:
        console.print_backups(stdout, doomed, "Backups to drop")
        return yes or ask(stdout, f"Drop {len(doomed)} backup table(s)? Rollback past them will no longer be possible.", "prune")

    report = history.prune(common.settings(), keep, confirm)
    stdout.print(f"Dropped {len(report.dropped)} backup table(s); the {report.kept_rows} most recent applies/rollbacks keep theirs." if report.dropped else "Nothing to prune.")
    return ExitCode.OK


@command("adopt")
def adopt_command(
    common: Common,
    accept_differences: Annotated[bool, typer.Option("--accept-differences", help="When the database differs from the models: record the live schema as the baseline anyway; the differences stay pending for `apply`.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (with --accept-differences).")] = False,
) -> int:
    """Start managing an existing database (from Alembic or by hand): record a baseline when it matches the models, else list what differs."""
    from schemasync import adopt, console
    stdout = console.make_console(quiet=common.quiet)

    def accept(differences: "Plan") -> bool:
        console.print_differences(stdout, differences)
        question = "Record the live schema as the baseline, and leave these steps pending?"
        return accept_differences and (yes or ask(stdout, question, "record a baseline"))

    report = adopt.adopt(common.settings(), accept)
    console.print_adopt(stdout, report)
    if report.result is None:
        raise RefusedError("adopt cancelled; nothing was recorded" if accept_differences else adopt.not_adopted(report))
    return ExitCode.OK


@command("history")
def history_command(
    common: Common,
    as_json: Annotated[bool, typer.Option("--json", help="Print the history as JSON.")] = False,
) -> int:
    """Applied plans from schema_state: when, hash, operation count, status."""
    from schemasync import console, history

    report = history.history(common.settings())
    if as_json:
        typer.echo(console.to_json(console.history_dict(report)), nl=False)
    else:
        console.print_history(console.make_console(quiet=common.quiet), report)
    return ExitCode.OK


@command("inspect")
def inspect_command(
    common: Common,
    output_format: Annotated[str, typer.Option("--format", help="yaml, or mermaid (an ER diagram: tables, key columns, foreign keys).")] = "yaml",
) -> int:
    """Print the live schema as YAML, with what schemasync does not manage."""
    from schemasync import console, mermaid, workflow

    if output_format not in ("yaml", "mermaid"):
        raise ConfigError(f"--format {output_format}: choose yaml or mermaid")
    report = workflow.inspect(common.settings())
    if output_format == "mermaid" and report.live is not None:
        typer.echo(mermaid.mermaid(mermaid.schema_diagram(report.live)), nl=False)
    else:
        typer.echo(console.inspect_yaml(report), nl=False)
    return ExitCode.OK


@command("explain")
def explain_command(
    common: Common,
    hazard: Annotated[str, typer.Argument(help="A hazard a plan names: data-loss, irreversible, data-dependent, table-rewrite, long-lock, index-build.", show_default=False)],
) -> int:
    """What a hazard means and what to do about it."""
    from schemasync import console, hazards

    if hazard not in hazards.HELP:
        raise ConfigError(f"unknown hazard {hazard!r} (known: {', '.join(hazards.ALL)})")
    console.make_console(quiet=common.quiet).print(f"[bold]{hazard}[/]: {console.escape(hazards.HELP[hazard])}")
    return ExitCode.OK


@command("init")
def init_command(
    common: Common,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing schemasync.yaml.")] = False,
) -> int:
    """Write a commented starter schemasync.yaml in the current folder."""
    from schemasync import console, workflow

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
    from schemasync import console
    if context.invoked_subcommand is None:  # no command: show the help, but do not pass for success
        typer.echo(context.get_help())
        console.make_console(stderr=True).print("[bold red]error:[/] no command given: choose one of the commands above")
        raise typer.Exit(ExitCode.ERROR)


def main() -> None:
    """The `schemasync` process. It is short-lived and its objects (the models above all) live until
    it exits, so the cyclic garbage collector is off: its passes over a heap of model objects cost
    15-20% of a plan at 1,000 tables (docs/performance.md). Objects are frozen before exit, so the
    interpreter's final collection does not walk them either."""
    gc.disable()
    try:
        app(prog_name="schemasync")  # also under `python -m schemasync`: completion keys on the name
    finally:
        gc.freeze()
