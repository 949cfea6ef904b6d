"""The documentation site builds with ``mkdocs build --strict``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocs_click")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return site_dir


@pytest.mark.slow
def test_cli_page_documents_every_command(site):
    from shre_cli.main import cli

    page = (site / "cli" / "index.html").read_text(encoding="utf-8")

    for name in cli.commands:
        assert f"shre {name}" in page


@pytest.mark.slow
def test_hooks_page_documents_every_hookspec(site):
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import gen_hooks
    finally:
        sys.path.remove(str(ROOT / "docs"))

    page = (site / "hooks" / "index.html").read_text(encoding="utf-8")

    for name in gen_hooks.hookspec_names():
        assert name in page
