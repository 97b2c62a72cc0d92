"""The shape of the house: imports point one way through the layers docs/architecture.md names,
and every registered dialect honours the contract in dialects/base.py."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from schemasync.dialects import REGISTRY, dialect_class
from schemasync.dialects.base import (
    REQUIRED_FACTS,
    REQUIRED_HOOKS,
    Dialect,
    missing_requirements,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "schemasync"

# The layers, lowest first; a module may import only from its own layer or the ones before it.
# docs/architecture.md has one table row per module, under the same layer names (checked below).
LAYERS: dict[str, tuple[str, ...]] = {
    "values": ("errors", "forms", "snapshot", "operations", "view"),
    "pure logic": ("scope", "diff", "diff_objects", "renames", "data_changes", "online", "ordering", "backup", "viewplan"),
    "dialect knowledge": ("dialects", "hazards", "ddl", "render", "render_objects"),
    "planning": ("plan", "preconditions"),
    "database I/O": (
        "reflect", "model_spec", "flask_app", "models", "model_key", "target_cache", "devdb", "model_target", "state", "apply", "lockfile",
        "alembic_setup", "rollback", "preflight", "fill_failure", "recovery",
    ),
    "application": ("config", "config_file", "database", "workflow", "adopt", "alembic_export", "history", "offline", "targets", "api", "testing"),
    "presentation": ("console", "report_formats", "plan_view", "mermaid", "html_report", "targets_console"),
    "command line": ("cli", "__main__", "flask_cli"),
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}


def _module(path: Path) -> str:
    """A file's top-level name inside the package (`dialects` for everything under dialects/)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_has_a_layer():
    unplaced = sorted({_module(p) for p in _modules()} - set(RANK))
    assert not unplaced, f"modules with no layer in LAYERS (and docs/architecture.md): {unplaced}"


def test_imports_point_one_way():
    """Application -> I/O -> planning -> dialect knowledge -> pure logic -> values; never upwards."""
    for path in _modules():
        layer = RANK[_module(path)]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("schemasync"):
                names = [node.module.split(".")[1]] if "." in node.module else [a.name for a in node.names]
                for name in names:
                    if name in RANK:
                        assert RANK[name] <= layer, f"{path.relative_to(ROOT)} imports {name} ({_layer_of(name)} above {_layer_of(_module(path))})"


# The models' way to a target, from the top floor down (docs/architecture.md, "The data flow of one
# plan"): each module hands its result down and imports none of the ones above it, and none of them
# reads the lock file (the keys it shares with them live in model_key.py).
MODELS_PATH = ("model_target", "devdb", "target_cache", "model_key", "renames")


def _schemasync_imports(module: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("schemasync"):
            found |= {node.module.split(".")[1]} if "." in node.module else {a.name for a in node.names}
    return found


def test_the_models_way_to_a_target_goes_down_once():
    for number, module in enumerate(MODELS_PATH):
        imported = _schemasync_imports(module)
        assert not imported & set(MODELS_PATH[: number + 1]) - {module}, f"{module} climbs back up to {sorted(imported & set(MODELS_PATH[:number]))}"
        assert "lockfile" not in imported, f"{module} reaches into the lock file"
    assert set(MODELS_PATH[1:]) <= _schemasync_imports("model_target"), "model_target.py is the one path: it calls each floor"


def _layer_of(module: str) -> str:
    return next(name for name, modules in LAYERS.items() if module in modules)


def test_architecture_document_names_the_same_layers():
    """Each module's row in docs/architecture.md sits under the layer this test puts it in."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text[text.index("## Where each concept lives"):]
    table = table[: table.index("\n\n", table.index("|"))]
    documented: dict[str, str] = {}
    layer = ""
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or (cells[0] and set(cells[0]) <= {"-"}) or cells[0] == "layer":
            continue
        layer = cells[0] or layer
        for name in re.findall(r"`([\w/]+?)(?:\.py|/)`", cells[1]):
            documented[name.split("/")[0]] = layer
    assert documented == {m: _layer_of(m) for m in documented}, "docs/architecture.md puts modules in other layers than LAYERS"
    assert set(documented) == set(RANK), f"modules missing from docs/architecture.md: {sorted(set(RANK) - set(documented))}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_dialect_provides_the_required_facts_and_hooks(name):
    cls = dialect_class(name)
    assert cls.name == name
    assert missing_requirements(cls) == []
    for hook in REQUIRED_HOOKS:
        assert getattr(cls, hook) is not getattr(Dialect, hook)


def test_a_dialect_missing_a_requirement_is_named():
    class Half(Dialect):
        name = "half"

    assert missing_requirements(Half) == [*REQUIRED_FACTS[1:], *REQUIRED_HOOKS]


def test_quirk_docstrings_name_the_dialects_that_override_them():
    """`Overridden by: ...` in each optional hook's docstring is the truth (base.py's contract)."""
    classes = [dialect_class(name) for name in sorted(REGISTRY)]
    for hook, function in inspect.getmembers(Dialect, inspect.isfunction):
        if hook.startswith("_") or hook in REQUIRED_HOOKS:
            continue
        overriders = [cls.name for cls in classes if any(hook in vars(k) for k in cls.__mro__ if k is not Dialect)]
        doc = inspect.getdoc(function) or ""
        said = re.search(r"Overridden by: ([\w, ]+)\.", doc)
        expected = ", ".join(overriders) if overriders else "none"
        assert said and said.group(1) == expected, f"Dialect.{hook}: docstring should say 'Overridden by: {expected}.'"


def _loaded_after(code: str, cwd: Path | None = None) -> set[str]:
    script = code + "\nimport sys; print(' '.join(sorted(m for m in sys.modules if m.startswith('schemasync'))))"
    return set(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=cwd).stdout.split())


def test_importing_the_cli_loads_no_command():
    """`import schemasync.cli` (every run, `--help` and `--version` too) loads only the CLI itself."""
    assert _loaded_after("import schemasync.cli") == {"schemasync", "schemasync.cli", "schemasync.errors", "schemasync.view"}


def test_plan_loads_no_other_commands_code(tmp_path):
    """`schemasync plan` imports what it runs, not adopt, history, offline plans, targets or report formats."""
    (tmp_path / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\nsa.Table('t', metadata, sa.Column('id', sa.Integer, primary_key=True))\n")
    code = (
        "import sys\nfrom schemasync.cli import main\n"
        "sys.argv = ['schemasync', 'plan', '-q', '--database-url', 'sqlite:///x.db', '--models', 'models:metadata']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
    )
    loaded = _loaded_after(code, cwd=tmp_path)
    assert "schemasync.plan" in loaded
    others = {f"schemasync.{m}" for m in ("adopt", "alembic_export", "history", "offline", "targets", "targets_console", "report_formats")}
    assert not loaded & others, f"`plan` imported {sorted(loaded & others)}"


def test_the_cli_help_names_every_registered_dialect():
    """The CLI module stays import-light (no registry import), so a test keeps its list true."""
    source = (PACKAGE / "cli.py").read_text()
    listed = re.search(r'help="Offline: ([\w, ]+) or (\w+)\."', source)
    assert listed and sorted([*listed.group(1).split(", "), listed.group(2)]) == sorted(REGISTRY)
