"""The package as users get it: the wheel built from this checkout, installed in a fresh venv (no
checkout on the path, dependencies from the index), runs the README's quickstart, docs/api.md, the
pytest plugin, the pre-commit hook's command and the GitHub Action's steps (its install step
installing the wheel)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.test_integrations import blog_project, next_revision, run_action, run_hook
from tests.test_readme import _blocks
from tests.test_testing import MODELS, TESTS

ROOT = Path(__file__).resolve().parent.parent


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


def install(work: Path) -> tuple[Path, Path, dict[str, str]]:
    """Build the wheel under `work`, install it in a fresh venv: (the wheel, the venv, an environment whose PATH starts with the venv's bin)."""
    work.mkdir()
    source = work / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    source.mkdir()
    shutil.copytree(ROOT / "schemasync", source / "schemasync", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("SCHEMASYNC_")}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)], work, base_env)
    wheel = next((work / "dist").glob("schemasync_sqlalchemy-*.whl"))
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], work, base_env)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel), "pytest"], work, base_env, timeout=600)
    env = {**base_env, "PATH": f"{venv / 'bin'}{os.pathsep}{base_env.get('PATH', '')}", "VIRTUAL_ENV": str(venv), "NO_COLOR": "1"}
    return wheel, venv, env


def _the_wheel_holds_the_package_data_and_the_entry_points(installed, tmp_path):
    wheel, venv, env = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert {"schemasync/py.typed", "schemasync/config.schema.json", "schemasync/testing.py"} <= set(names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "schemasync = schemasync.cli:main" in entry_points and "schemasync = schemasync.testing" in entry_points
    where = _run(["python", "-c", "import schemasync; print(schemasync.__file__)"], venv, env).stdout
    assert where.startswith(str(venv)), where  # the installed package, not this checkout


def _the_readme_quickstart_runs_from_the_wheel(installed, tmp_path):
    _, _, env = installed
    demo = _blocks("bash")[0].strip()
    prefix = "python -m pip install -e . && cd fixtures/blog && "
    assert demo.startswith(prefix)
    folder = tmp_path / "blog"
    shutil.copytree(FIXTURES / "blog", folder, ignore=shutil.ignore_patterns("*.db", "schemasync.yaml", "__pycache__"))
    result = _run(["bash", "-c", demo.removeprefix(prefix)], folder, env)
    assert "create table users" in result.stdout and "In sync" in result.stdout


def _the_api_docs_run_from_the_wheel(installed, tmp_path):
    _, _, env = installed
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "docs" / "api.md").read_text(), flags=re.S | re.M)
    result = _run(["python", "-c", "\n".join(blocks)], tmp_path, env)
    assert "the database and the models differ" in result.stdout
    assert (tmp_path / "app.db").exists()


def _the_pytest_plugin_is_registered_by_the_wheel(installed, tmp_path):
    _, _, env = installed
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "test_sample.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nschemasync_models = models:Base\n")
    result = subprocess.run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr  # one test passes, the differing one fails
    assert "1 failed, 1 passed" in result.stdout and "pending: create table audit" in result.stdout


def _the_pre_commit_hook_and_the_action_run_from_the_wheel(installed, tmp_path):
    wheel, _, env = installed
    folder = blog_project(tmp_path)
    _run(["schemasync", "snapshot", "--dialect", "sqlite"], folder, env)
    assert run_hook("schemasync-lock", folder, env).returncode == 0
    _run(["schemasync", "apply", "--yes"], folder, env)
    summary = tmp_path / "summary.md"
    action_env = {**env, "GITHUB_STEP_SUMMARY": str(summary)}
    passed = run_action({"package": str(wheel), "working-directory": "project"}, tmp_path, action_env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    next_revision(folder)
    assert run_hook("schemasync-lock", folder, env).returncode == 2
    failed = run_action({"package": str(wheel), "working-directory": "project"}, tmp_path, action_env)
    assert failed.returncode == 2 and failed.stdout.startswith("::error title=schemasync"), failed.stdout + failed.stderr
    assert "out of sync" in summary.read_text()


@pytest.mark.slow  # builds a wheel and a venv, then runs each part from it (about 100 s; one test, so xdist builds it once)
def test_the_wheel_in_a_fresh_venv_runs_the_quickstart_the_api_the_plugin_the_hook_and_the_action(tmp_path):
    installed = install(tmp_path / "wheel")
    for part in (_the_wheel_holds_the_package_data_and_the_entry_points, _the_readme_quickstart_runs_from_the_wheel, _the_api_docs_run_from_the_wheel,
                 _the_pytest_plugin_is_registered_by_the_wheel, _the_pre_commit_hook_and_the_action_run_from_the_wheel):
        folder = tmp_path / part.__name__.strip("_")
        folder.mkdir()
        part(installed, folder)
