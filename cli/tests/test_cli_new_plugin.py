"""``shre new-plugin``: names, written files and the no-overwrite rule."""

from __future__ import annotations

import ast

import pytest
from shre_cli.commands.new_plugin import plugin_names

# tomllib is in the standard library from Python 3.11 on.
tomllib = pytest.importorskip("tomllib")


@pytest.mark.parametrize("name", ["sentiment", "shre-sentiment"])
def test_plugin_names_strip_shre_prefix(name):
    names = plugin_names(name)

    assert names == {
        "namespace": "sentiment",
        "distribution": "shre-sentiment",
        "package": "shre_sentiment",
    }


@pytest.mark.parametrize(
    "name", ["Sentiment", "9lives", "my_plugin", "a:b", "core", "two--hyphens"]
)
def test_new_plugin_invalid_name_exits_2(run_shre, tmp_path, name):
    result = run_shre("new-plugin", name, "--output-dir", str(tmp_path))

    assert result.exit_code == 2
    assert f"invalid plugin name {name!r}" in result.stderr


@pytest.fixture
def package(run_shre, tmp_path):
    result = run_shre("new-plugin", "toy-sentiment", "--output-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    return tmp_path / "shre-toy-sentiment"


def test_new_plugin_substitutes_every_placeholder(package):
    leftovers = [
        path.name for path in package.rglob("*") if path.is_file() and "${" in path.read_text()
    ]

    assert leftovers == []


def test_new_plugin_leaves_no_template_suffix(package):
    assert list(package.rglob("*.tmpl")) == []


def test_new_plugin_python_files_parse(package):
    for path in package.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_new_plugin_entry_point_names_namespace(package):
    pyproject = tomllib.loads((package / "pyproject.toml").read_text(encoding="utf-8"))

    entry_points = pyproject["project"]["entry-points"]["shre"]
    assert entry_points == {"toy-sentiment": "shre_toy_sentiment.plugin"}


def test_new_plugin_bundles_data(package):
    data = package / "src" / "shre_toy_sentiment" / "data"

    assert (data / "train.csv").read_text(encoding="utf-8").startswith("sentence,label\n")
    assert (data / "validation.csv").is_file()


def test_new_plugin_refuses_existing_folder(run_shre, package):
    marker = package / "README.md"
    before = marker.read_text(encoding="utf-8")

    result = run_shre("new-plugin", "toy-sentiment", "--output-dir", str(package.parent))

    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert marker.read_text(encoding="utf-8") == before
