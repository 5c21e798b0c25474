"""The distribution `dlnotes-book`: its name and version, what it declares, and the built wheel
installed into a fresh environment outside the source tree (`make dist` runs that last test)."""

import os
import re
import tomllib
from pathlib import Path

import pytest

import dlnotes
from _fresh_env import ROOT, build_wheel, clean_env, make_venv, pip_install, run, undeclared
from setup_cell import imported_modules

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def test_distribution_name_is_ours_and_import_name_is_dlnotes():
    # "dlnotes" on PyPI is an unrelated 2022 project; "dlnotes-book" was free (checked with pip).
    assert PROJECT["name"] == "dlnotes-book"
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["dlnotes*"]


def test_one_version_source_and_a_changelog_entry_for_it():
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dlnotes.__version__"}
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", changelog, re.MULTILINE)
    assert headings and headings[0] == dlnotes.__version__, headings


def test_every_import_of_the_package_is_declared():
    """A module the package imports comes from a dependency or an extra, or from one of theirs
    (threadpoolctl arrives with scikit-learn): the wheel's metadata is enough to run it."""
    modules = imported_modules(p.read_text(encoding="utf-8") for p in (ROOT / "dlnotes").rglob("*.py"))
    declared = PROJECT["dependencies"] + sum(PROJECT["optional-dependencies"].values(), [])
    missing = undeclared(modules, declared)
    assert not missing, f"imported by dlnotes/ but not declared in pyproject.toml: {missing}"


@pytest.mark.fresh_env
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path):
    dist = os.environ.get("DLNOTES_DIST")   # make dist passes its dist/; otherwise build here
    wheels = sorted(Path(dist).glob("*.whl")) if dist else [build_wheel(tmp_path / "dist")]
    assert len(wheels) == 1, wheels
    python = make_venv(tmp_path / "venv")
    pip_install(python, f"{wheels[0]}[widgets]")
    front_end = sorted(p.name for p in (ROOT / "dlnotes" / "widgets").iterdir()
                       if p.suffix in (".js", ".css"))
    work = tmp_path / "elsewhere"
    work.mkdir()
    smoke = run([python, ROOT / "tests" / "smoke_installed.py", *front_end], cwd=work, env=clean_env())
    print(smoke.stdout)
    assert smoke.stdout.count("\n") == 4, smoke.stdout
