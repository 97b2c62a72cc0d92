"""What a project wires schemasync into: `--version`, shell completion, the pre-commit hook
(.pre-commit-hooks.yaml) and the GitHub Action (action.yml), each run as its file says.

`run_hook` and `run_action` read the YAML and run its commands with bash; tests/test_wheel.py runs
them again from a wheel installed in a fresh venv (the action's install step included).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

import schemasync
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
INSTALL_STEP = "install schemasync"


def run_hook(hook_id: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """The hook's entry and args, as pre-commit runs a `pass_filenames: false` hook."""
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks[hook_id]
    assert hook["pass_filenames"] is False and hook["language"] == "python"
    command = " ".join([hook["entry"], *hook.get("args", [])])
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=300)


def run_action(inputs: Mapping[str, str], cwd: Path, env: Mapping[str, str], skip: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """The composite action's steps in order, `${{ inputs.X }}` filled from `inputs` or the defaults;
    stops at the first step that fails, as a runner does. Returns the last step's result."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()} | dict(inputs)

    def filled(text: str) -> str:
        return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: values[m.group(1)], text)

    result = None
    for step in action["runs"]["steps"]:
        assert "uses" not in step and step["shell"] == "bash", "every step is a bash step this test can run"
        if step["name"] in skip:
            continue
        step_env = {**env, **{k: filled(v) for k, v in step.get("env", {}).items()}}
        folder = cwd / filled(step.get("working-directory", "."))
        result = subprocess.run(["bash", "-e", "-c", filled(step["run"])], cwd=folder, env=step_env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            break
    assert result is not None
    return result


def checkout_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user's shell, with `schemasync` on PATH running this checkout."""
    shims = tmp_path / "bin"
    shims.mkdir(exist_ok=True)
    shim = shims / "schemasync"
    shim.write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" -m schemasync "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMASYNC_") and k != "GITHUB_STEP_SUMMARY"}
    return {**kept, "PATH": f"{shims}{os.pathsep}{kept.get('PATH', '')}", "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def blog_project(tmp_path: Path, config: str = "pyproject") -> Path:
    """fixtures/blog as a project of its own (a repository root) configured in pyproject.toml."""
    folder = tmp_path / "project"
    shutil.copytree(FIXTURES / "blog", folder, ignore=shutil.ignore_patterns("*.db", "schemasync.yaml", "__pycache__"))
    (folder / ".git").mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "blog"\n\n[tool.schemasync]\ndatabase_url = "sqlite:///blog.db"\nmodels = "models:Base"\n')
    return folder


def next_revision(folder: Path) -> None:
    """The models change (the blog's second revision), as a commit would change them."""
    (folder / "models.py").write_text((folder / "models_v2.py").read_text())


# --- version and completion --------------------------------------------------------------------------


def test_version_is_the_package_version(tmp_path):
    result = subprocess.run(["schemasync", "--version"], env=checkout_env(tmp_path), capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == f"schemasync {schemasync.__version__}\n"
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == schemasync.__version__


def test_shell_completion_installs_and_completes(tmp_path):
    # typer takes the shell's name after --show-completion / --install-completion only with its
    # detection off; with it on, the name is not read and shellingham looks for the parent shell,
    # which a test run started outside a shell (a CI job, a background job) does not have.
    env = {**checkout_env(tmp_path), "HOME": str(tmp_path), "SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run(["schemasync", "--show-completion", "bash"], env=env, capture_output=True, text=True)
    assert shown.returncode == 0 and "_SCHEMASYNC_COMPLETE=complete_bash" in shown.stdout
    installed = subprocess.run(["schemasync", "--install-completion", "bash"], env=env, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    script = tmp_path / ".bash_completions" / "schemasync.sh"
    assert script.is_file() and str(script) in (tmp_path / ".bashrc").read_text()
    # What bash does on TAB: the installed function fills COMPREPLY.
    words = {"schemasync ch": "check", "schemasync check --ag": "--against", "schemasync --ver": "--version"}
    for typed, expected in words.items():
        line = f'source "{script}"; COMP_WORDS=({typed}); COMP_CWORD={len(typed.split()) - 1}; _schemasync_completion schemasync; echo "${{COMPREPLY[@]}}"'
        completed = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True)
        assert completed.stdout.split() == [expected], (typed, completed.stdout, completed.stderr)


# --- the pre-commit hook ---------------------------------------------------------------------------------


def test_the_pre_commit_hook_fails_when_the_models_change_without_the_lock_file(tmp_path):
    folder, env = blog_project(tmp_path), checkout_env(tmp_path)
    assert subprocess.run(["schemasync", "snapshot", "--dialect", "sqlite"], cwd=folder, env=env, capture_output=True).returncode == 0
    passed = run_hook("schemasync-lock", folder, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Up to date: schema.lock.yaml matches the models" in passed.stdout
    assert not (folder / "blog.db").exists(), "the hook needs no database"
    next_revision(folder)
    failed = run_hook("schemasync-lock", folder, env)
    assert failed.returncode == 2 and "Lock file out of date" in failed.stdout


def test_the_pre_commit_hook_matches_the_files_a_model_change_touches():
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    pattern = re.compile(hook["files"])
    assert all(pattern.search(name) for name in ("app/models.py", "schema.lock.yaml", "pyproject.toml", "schemasync.yaml"))
    assert not pattern.search("README.md")


# --- the GitHub Action -----------------------------------------------------------------------------------


@pytest.mark.parametrize("offline", [False, True], ids=["database", "lock-file"])
def test_the_action_passes_in_sync_and_fails_with_annotations_and_a_summary(tmp_path, offline):
    folder, env = blog_project(tmp_path), checkout_env(tmp_path)
    setup = ["schemasync", "snapshot", "--dialect", "sqlite"] if offline else ["schemasync", "apply", "--yes"]
    assert subprocess.run(setup, cwd=folder, env=env, capture_output=True).returncode == 0
    summary = tmp_path / "summary.md"
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    inputs = {"working-directory": "project", "args": "--against schema.lock.yaml" if offline else ""}
    passed = run_action(inputs, tmp_path, env, skip=(INSTALL_STEP,))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "in sync" in summary.read_text() or "up to date" in summary.read_text().lower()
    next_revision(folder)
    failed = run_action(inputs, tmp_path, env, skip=(INSTALL_STEP,))
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert failed.stdout.startswith("::error title=schemasync"), failed.stdout
    assert "out of" in summary.read_text().split("## schemasync check")[-1]
