"""Docs that run: every command in a ```console block of docs/*.md is executed, in order.

The convention (docs/architecture.md points here):
- Each docs file with ```console blocks is one session, run in a fresh copy of fixtures/blog
  (SQLite), block after block. A line starting with `$ ` is a command, run with bash; what
  follows `  #` (two spaces, a hash) is a comment. `# exit N` in the comment is the exit code the
  command must end with (default 0).
- The other lines of a block are output the command must print (stdout and stderr together),
  each found in it with runs of spaces counted as one; `...` stands for output not shown.
- `pip install` lines are not run: the package under test is installed already.
The README's "Coming from Alembic" session runs the same way, in the Alembic project the
tutorial's first block sets up. docs/cli.md must be what docs/cli_reference.py generates, and
docs/configuration.md must cover every config key.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from schemasync.config import ENV_PREFIX, KNOWN_KEYS, read_config
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial-from-alembic.md"


@dataclass
class Command:
    line: str
    where: str
    exit_code: int = 0
    output: list[str] = field(default_factory=list)


def blocks(text: str) -> list[str]:
    return re.findall(r"^```console\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def commands(text: str, source: str) -> list[Command]:
    """The session a Markdown text shows, by the convention above."""
    found: list[Command] = []
    for number, block in enumerate(blocks(text), 1):
        for line in block.splitlines():
            if line.startswith("$ "):
                command, _, comment = line[2:].partition("  #")
                expected = re.search(r"\bexit (\d+)", comment)
                found.append(Command(command.strip(), f"{source} block {number}", int(expected[1]) if expected else 0))
            elif line.strip() and line.strip() != "..." and found:
                found[-1].output.append(line.strip())
    return found


def _squash(text: str) -> str:
    return " ".join(text.split())


def env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    kept = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX) or k == f"{ENV_PREFIX}CACHE_DIR"}
    return {**kept, "PATH": f"{bin_dir}{os.pathsep}{kept.get('PATH', '')}", "NO_COLOR": "1"}


def blog_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "blog"
    shutil.copytree(FIXTURES / "blog", folder, ignore=shutil.ignore_patterns("*.db", "schemasync.yaml", "__pycache__"))
    return folder


def run_session(session: list[Command], folder: Path) -> None:
    for command in session:
        if re.match(r"(python -m )?pip install", command.line):
            continue
        result = subprocess.run(["bash", "-c", command.line], cwd=folder, env=env(), capture_output=True, text=True, timeout=300, check=False)
        output = result.stdout + result.stderr
        context = f"{command.where}: $ {command.line}\n{output}"
        assert result.returncode == command.exit_code, f"exit {result.returncode}, expected {command.exit_code}: {context}"
        for expected in command.output:
            assert _squash(expected) in _squash(output), f"output line not printed: {expected!r}\n{context}"


def docs_with_sessions() -> list[Path]:
    return [path for path in sorted(DOCS.glob("*.md")) if blocks(path.read_text())]


def test_the_tutorial_and_the_troubleshooting_page_have_sessions():
    names = {path.name for path in docs_with_sessions()}
    assert {"tutorial-from-alembic.md", "troubleshooting.md"} <= names


@pytest.mark.slow  # every docs session end to end, in subprocesses: CI runs it, the quick loop does not
@pytest.mark.parametrize("doc", docs_with_sessions(), ids=lambda path: path.name)
def test_every_command_in_the_docs_runs(doc, tmp_path):
    session = commands(doc.read_text(), doc.name)
    assert session
    run_session(session, blog_copy(tmp_path))


@pytest.mark.slow
def test_the_readme_goes_from_an_alembic_project_to_check_in_three_commands(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Coming from Alembic", 1)[1].split("\n## ", 1)[0]
    session = commands(section, "README.md")
    assert [c.line.split()[:2] for c in session] == [["python", "-m"], ["schemasync", "adopt"], ["schemasync", "check"]]
    folder = blog_copy(tmp_path)
    run_session(commands(blocks(TUTORIAL.read_text())[0].join(["```console\n", "```\n"]), "tutorial block 1"), folder)
    run_session(session, folder)


def test_the_convention_reads_commands_exit_codes_and_output():
    text = "```console\n$ schemasync check    # exit 2: pending\nPending changes\n...\n$ ls\n```\n"
    session = commands(text, "x.md")
    assert [(c.line, c.exit_code, c.output) for c in session] == [("schemasync check", 2, ["Pending changes"]), ("ls", 0, [])]


def test_the_cli_reference_is_generated_from_the_app():
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "cli.md").read_text() == module.reference(), "docs/cli.md is out of date: python docs/cli_reference.py > docs/cli.md"


def test_the_configuration_page_covers_every_key_and_its_examples_are_valid(tmp_path):
    text = (DOCS / "configuration.md").read_text()
    missing = sorted(key for key in KNOWN_KEYS if f"`{key}`" not in text)
    assert not missing, f"docs/configuration.md does not describe {missing}"
    for variable in ("DATABASE_URL", "MODELS", "CONFIG", "ALEMBIC"):
        assert f"`{ENV_PREFIX}{variable}`" in text
    for number, example in enumerate(re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)):
        path = tmp_path / f"example{number}.yaml"
        path.write_text(example)
        assert read_config(path)  # parses, and every key is known


def test_links_between_the_docs_resolve():
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"
