"""The suite's one convergence assertion, through the real CLI.

`converge(project, models, *flags)` applies the models, then insists that `plan` says "No changes."
and `check` exits 0 (and, when given, that the live schema has `schema`'s shape); it returns the plan
it applied, as JSON, whose SQL never names the scratch place the models were built in (issue 16).
`models` is model source text (written to a fresh module), a `--models` value already written, or a
`MetaData` (handed over as a module, for generated schemas).
"""

from __future__ import annotations

import json
import secrets
import sys
import types
from collections.abc import Mapping

import sqlalchemy as sa
import yaml

from schemasync.errors import ExitCode
from tests.conftest import assert_no_scratch_name

HEADER = "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"


def metadata_module(metadata: sa.MetaData, name: str = "m") -> str:
    """Hand a MetaData to schemasync as `module:metadata` without writing source text."""
    module = types.ModuleType(f"m_{name}_{secrets.token_hex(4)}")
    module.metadata = metadata  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module  # conftest forgets m_* modules after each test
    return f"{module.__name__}:metadata"


def models_spec(project, models: str | sa.MetaData, name: str = "m") -> str:
    """The `--models` value for source text, a MetaData, or a value that already is one."""
    if isinstance(models, sa.MetaData):
        return metadata_module(models, name)
    if "\n" in models:
        return project.write_models(name, models)
    return models


def converge(project, models: str | sa.MetaData, *flags: str, name: str = "m", schema: Mapping | None = None) -> dict:
    """Apply `models` (with `flags`, e.g. --allow-destructive); then the plan is empty, check exits 0
    and the live schema contains `schema` (a subset of `inspect`'s YAML). Returns the applied plan."""
    spec = models_spec(project, models, name)
    planned = project.cli("plan", "--json", models=spec)
    assert planned.exit_code == ExitCode.OK, planned.output
    assert_no_scratch_name(sql(json.loads(planned.output)))
    applied = project.cli("apply", "--yes", *flags, models=spec)
    assert applied.exit_code == ExitCode.OK, applied.output
    assert_converged(project, spec)
    if schema is not None:
        assert_schema(project, spec, schema)
    return json.loads(planned.output)


def assert_converged(project, spec: str) -> None:
    """Nothing left to do: `plan` says "No changes." and `check` exits 0 (for tests that apply by hand)."""
    left = project.cli("plan", models=spec)
    assert "No changes." in left.output, f"not converged, the plan still has:\n{left.output}"
    check = project.cli("check", models=spec)
    assert check.exit_code == ExitCode.OK, f"check is not in sync:\n{check.output}"


def converge_each(project, *versions: str, header: str = HEADER, flags: tuple[str, ...] = ("--allow-destructive",)) -> list[dict]:
    """Converge on each version of the models (source after `header`) in turn; the applied plans."""
    return [converge(project, header + source, *flags, name=f"v{number}") for number, source in enumerate(versions, 1)]


def assert_schema(project, spec: str, expected: Mapping) -> None:
    """The live schema (`inspect`) contains `expected`: mappings by key, everything else equal."""
    inspected = project.cli("inspect", models=spec)
    assert inspected.exit_code == ExitCode.OK, inspected.output
    problems = list(mismatches(expected, yaml.safe_load(inspected.output), "schema"))
    assert not problems, "the live schema differs:\n  " + "\n  ".join(problems)


def mismatches(expected: object, actual: object, where: str):
    """Where `actual` does not contain `expected` (a mapping is matched key by key, the rest exactly)."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        for key, value in expected.items():
            if key not in actual:
                yield f"{where}.{key}: missing"
            else:
                yield from mismatches(value, actual[key], f"{where}.{key}")
    elif expected != actual:
        yield f"{where}: expected {expected!r}, found {actual!r}"


def ops(plan: dict) -> list[str]:
    """The plan's operation names, in order."""
    return [op["op"] for op in plan["operations"]]


def sql(plan: dict) -> str:
    """Every statement of the plan, one a line."""
    return "\n".join(s for step in plan["operations"] for s in step["sql"])
