"""Third-party plugins installed with pip: a working one and five broken ones.

The packages are built from a temporary folder and installed with
``pip install --target`` into another temporary folder that the ``shre``
subprocesses get on ``PYTHONPATH``. Discovery is the same as for a venv
install (``importlib.metadata`` scans ``sys.path``), and the shared virtual
environment is never modified, so tests running beside these never see the
broken plugins.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{distribution}"
version = "0.0.1"

[tool.hatch.build.targets.wheel]
packages = ["{package}"]
{entry_points}
"""

TOY_TASK = """
import shre
from shre.specs import TaskSpec

SHRE_API_VERSION = "{api}"

@shre.hookimpl
def shre_tasks():
    return [TaskSpec(name="toy-task", factory="{package}.plugin:build", description="a toy task")]
"""

# distribution -> (entry-point name or None, module source of <package>/plugin.py or None).
PLUGINS = {
    "shre-toy": ("toy", TOY_TASK.format(api="1.0", package="shre_toy")),
    "shre-raising": ("raising", "raise RuntimeError('broken on purpose')\n"),
    "shre-badhook": (
        "badhook",
        "import shre\nSHRE_API_VERSION = '1.0'\n\n@shre.hookimpl\n"
        "def shre_on_step_end(trainer, stepp):\n    pass\n",
    ),
    "shre-missing": ("missing", None),
    "shre-newapi": ("newapi", TOY_TASK.format(api="2.0", package="shre_newapi")),
    "shre-clash": ("clash", TOY_TASK.format(api="1.0", package="shre_clash")),
    "shre-noentry": (None, "SHRE_API_VERSION = '1.0'\n"),
}


def write_project(
    root: Path, distribution: str, entry_point: str | None, source: str | None
) -> Path:
    package = distribution.replace("-", "_")
    project = root / distribution
    (project / package).mkdir(parents=True)
    (project / package / "__init__.py").write_text("", encoding="utf-8")
    if source is not None:
        (project / package / "plugin.py").write_text(textwrap.dedent(source), encoding="utf-8")

    entry_points = ""
    if entry_point is not None:
        # shre-missing points at a module that its package does not contain.
        module = "shre_missing_module.plugin" if source is None else f"{package}.plugin"
        entry_points = f'\n[project.entry-points.shre]\n{entry_point} = "{module}"\n'
    text = PYPROJECT.format(distribution=distribution, package=package, entry_points=entry_points)
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    return project


def pip_install_target(target: Path, *projects: Path) -> None:
    """Install ``projects`` into ``target`` with pip, without their dependencies.

    With hatchling in this environment the build runs here, offline
    (``--no-build-isolation``). Without it, pip builds in an isolated
    environment and fetches hatchling from the package index.
    """
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    if importlib.util.find_spec("hatchling") is not None:
        command += ["--no-build-isolation", "--no-index"]
    subprocess.run([*command, "--target", str(target), *map(str, projects)], check=True)


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    """Folder with the seven plugin distributions installed, for PYTHONPATH."""
    sources = tmp_path_factory.mktemp("sources")
    target = tmp_path_factory.mktemp("site")
    projects = [write_project(sources, name, *spec) for name, spec in PLUGINS.items()]
    pip_install_target(target, *projects)
    return target


def shre(plugin_path: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(plugin_path), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "shre_cli.main", *args],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


def test_installed_plugin_task_is_listed(plugin_path):
    result = shre(plugin_path, "list", "tasks")

    assert result.returncode == 0, result.stderr
    assert "toy:toy-task" in result.stdout


def test_broken_plugins_leave_list_working(plugin_path):
    result = shre(plugin_path, "list", "tasks")

    assert "glue:cola" in result.stdout


def test_broken_plugins_leave_dry_run_working(plugin_path):
    result = shre(plugin_path, "train", "--task", "glue:cola", "--model", "shre-tiny", "--dry-run")

    assert result.returncode == 0, result.stderr


def test_plugins_json_lists_load_errors(plugin_path):
    result = shre(plugin_path, "plugins", "--json")
    failed = {error["name"] for error in json.loads(result.stdout)["load_errors"]}

    assert failed == {"raising", "badhook", "missing", "newapi"}


def test_clashing_short_name_is_ambiguous(plugin_path):
    result = shre(plugin_path, "train", "--task", "toy-task", "--model", "shre-tiny", "--dry-run")

    assert result.returncode == 2
    assert "clash:toy-task, toy:toy-task" in result.stderr


@pytest.fixture(scope="module")
def doctor(plugin_path) -> subprocess.CompletedProcess:
    return shre(plugin_path, "plugins", "doctor")


def test_doctor_exits_1_on_problems(doctor):
    assert doctor.returncode == 1


@pytest.mark.parametrize(
    ("plugin", "check", "text"),
    [
        ("raising", "import", "broken on purpose"),
        ("badhook", "hooks", "stepp"),
        ("missing", "import", "shre_missing_module"),
        ("newapi", "api version", "written for plugin API 2.0"),
        ("clash", "name clash", "toy:toy-task"),
        ("toy", "name clash", "clash:toy-task"),
        ("shre-noentry", "entry point", "registers no 'shre' entry point"),
    ],
)
def test_doctor_reports_problem(doctor, plugin, check, text):
    lines = [
        line
        for line in doctor.stdout.splitlines()
        if line.startswith(f"[error] {plugin}: {check}:")
    ]

    assert any(text in line for line in lines), doctor.stdout


def test_doctor_passes_working_plugin_import(doctor):
    assert "[ok] toy: import:" in doctor.stdout


def test_load_warning_is_one_line(plugin_path):
    result = shre(plugin_path, "list", "tasks")
    lines = [line for line in result.stderr.splitlines() if "badhook" in line]

    assert len(lines) == 1
    assert "'stepp'" in lines[0]
