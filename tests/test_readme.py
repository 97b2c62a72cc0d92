"""Docs that run: the README's commands are executed as written, in a copy of fixtures/blog.

The interactive `schemasync apply` runs in a real pseudo-terminal and is answered at its prompt.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMASYNC_")}
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "NO_COLOR": "1"}


def _blog_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "blog"
    shutil.copytree(FIXTURES / "blog", folder, ignore=shutil.ignore_patterns("*.db", "schemasync.yaml", "__pycache__"))
    return folder


def run_in_terminal(command: str, cwd: Path, answer: bytes, timeout: float = 120) -> tuple[int, str]:
    """Run `command` with a pseudo-terminal as stdin/stdout; type `answer` at the [y/N] prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        os.chdir(cwd)
        os.execvpe("bash", ["bash", "-c", command], _env())
    output, answered, deadline = b"", False, time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        output += data
        if not answered and b"[y/N]" in output:
            os.write(fd, answer)
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_the_ci_script_runs_the_readme_test_command():
    test_command = _blocks("bash")[1].strip()
    assert test_command.endswith("python -m pytest -n auto")  # every test, on one worker per CPU
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_the_ci_script_checks_types_and_lint_before_the_tests():
    script = (ROOT / ".ci" / "run").read_text()
    tests_at = script.index(_blocks("bash")[1].strip())
    assert -1 < script.find("\npython -m mypy\n") < tests_at
    assert -1 < script.find("\npython -m ruff check .\n") < tests_at


def test_the_readme_demo_command_runs(tmp_path):
    demo = _blocks("bash")[0].strip()
    prefix = "python -m pip install -e . && cd fixtures/blog && "
    assert demo.startswith(prefix)
    result = subprocess.run(["bash", "-c", demo.removeprefix(prefix)], cwd=_blog_copy(tmp_path), env=_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "create table users" in result.stdout and "In sync" in result.stdout


@pytest.mark.slow  # the README session in subprocesses and a terminal
def test_the_readme_session_runs_line_by_line(tmp_path):
    folder = _blog_copy(tmp_path)
    session = _session(_blocks("console")[0])
    assert session[0] == ("cd fixtures/blog", [])
    for command, shown in session[1:]:
        if command == "schemasync apply":
            code, output = run_in_terminal(command, folder, b"y\n")
            assert re.search(r"Apply 9 changes to sqlite:///\S*blog\.db\? \[y/N\]", output), output
        else:
            result = subprocess.run(["bash", "-c", command], cwd=folder, env=_env(), capture_output=True, text=True, timeout=300)
            code, output = result.returncode, result.stdout + result.stderr
        assert code == 0, (command, output)
        for line in shown:  # the output the README shows is what the command prints (runs of spaces as one)
            assert " ".join(line.split()) in " ".join(output.split()), (command, line, output)
    assert (folder / "schemasync.yaml").read_text().count("sqlite:///blog.db") == 1


def _session(block: str) -> list[tuple[str, list[str]]]:
    """(command, the output lines shown under it) for each `$ ` line; `...` stands for lines not shown."""
    found: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append((line.removeprefix("$ ").split("  #")[0].strip(), []))
        elif line.strip() and line.strip() != "..." and found:
            found[-1][1].append(line.strip())
    return found


def test_answering_no_at_the_prompt_changes_nothing(tmp_path):
    folder = _blog_copy(tmp_path)
    subprocess.run(["bash", "-c", "schemasync init"], cwd=folder, env=_env(), check=True, capture_output=True)
    code, output = run_in_terminal("schemasync apply", folder, b"n\n")
    assert code == 1 and "cancelled" in output
    result = subprocess.run(["bash", "-c", "schemasync check"], cwd=folder, env=_env(), capture_output=True, text=True)
    assert result.returncode == 2
