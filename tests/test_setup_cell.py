"""The set-up cell that opens every chapter (tools/setup_cell.py writes it).

The fast tests check that each chapter's first code cell is the current one (distribution name,
this version, the extras the chapter imports), that it prints and does nothing where the package
is installed, and that the extras cover the chapter's imports. The fresh_env test (`make
colab-check`) runs whole chapters where only Colab's packages are present, with pip pointed at the
wheel built from this tree."""

import contextlib
import io
import os
import subprocess
import tomllib

import nbformat
import pytest

from _fresh_env import (ROOT, build_wheel, clean_env, make_venv, pip_install, requirement_pins, run,
                        undeclared)
import setup_cell

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CHAPTERS = {path.stem: path for path in setup_cell.CHAPTERS}
# What Colab ships that the chapters use (shared/toolchain.md), at this repository's pins.
COLAB = ["torch", "numpy", "scipy", "matplotlib", "scikit-learn", "tqdm", "ipywidgets", "ipykernel"]


def read(stem):
    return nbformat.read(CHAPTERS[stem], as_version=4)


def test_every_chapter_is_covered():
    assert len(CHAPTERS) == 7


@pytest.mark.parametrize("stem", sorted(CHAPTERS))
def test_first_code_cell_is_the_current_setup_cell(stem):
    nb = read(stem)
    index = setup_cell.setup_cell_index(nb)
    assert index is not None, f"{stem}: the first code cell is not the set-up cell"
    cell = nb.cells[index]
    assert cell.source == setup_cell.source(nb), f"{stem}: run `python tools/setup_cell.py`"
    assert '"dlnotes-book[' in cell.source and f']=={setup_cell.version()}"' in cell.source
    assert cell.outputs == [], f"{stem}: the set-up cell printed something where dlnotes is installed"


@pytest.mark.parametrize("stem", sorted(CHAPTERS))
def test_extras_exist_and_cover_the_chapters_imports(stem):
    nb = read(stem)
    wanted = setup_cell.extras(nb)
    assert "torch" in wanted and set(wanted) <= set(PROJECT["optional-dependencies"])
    requirements = PROJECT["dependencies"] + sum((PROJECT["optional-dependencies"][e] for e in wanted), [])
    missing = undeclared(setup_cell.imported_modules(setup_cell.code_sources(nb)), requirements)
    assert not missing, f"{stem} imports modules its set-up cell does not install: {missing}"


def test_cell_does_nothing_where_the_package_is_installed(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exec(setup_cell.source(read("07_deployment")), {})
    assert calls == [] and out.getvalue() == ""


def test_cell_installs_where_the_package_is_missing(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **k: calls.append(args))
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    exec(setup_cell.source(read("07_deployment")), {})
    assert len(calls) == 1 and calls[0][-1] == f"dlnotes-book[onnx,torch]=={setup_cell.version()}"


EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3").execute()
print(nb.cells[-1].outputs[0]["text"], end="")
"""


@pytest.mark.fresh_env
@pytest.mark.parametrize("stem", os.environ.get("DLNOTES_COLAB_CHAPTERS", "02_basics 07_deployment").split())
def test_chapter_runs_where_only_colabs_packages_are(stem, tmp_path):
    """Colab's packages, no dlnotes, anywidget or ONNX: the set-up cell installs dlnotes-book with
    the chapter's extras from the wheel built here (pip finds it through PIP_FIND_LINKS; the name is
    not on PyPI yet, so nothing else can provide it), and the chapter runs to its last cell."""
    wheels = tmp_path / "wheels"
    build_wheel(wheels)
    python = make_venv(tmp_path / "colab")
    pins = requirement_pins()
    pip_install(python, *(pins[name] for name in COLAB), "nbclient")
    assert run([python, "-c", "import importlib.util as u; print(u.find_spec('dlnotes'))"],
               cwd=tmp_path, env=clean_env()).stdout.strip() == "None"
    notebook = tmp_path / CHAPTERS[stem].name
    notebook.write_bytes(CHAPTERS[stem].read_bytes())
    find_links = " ".join(filter(None, [str(wheels), os.environ.get("PIP_FIND_LINKS")]))
    env = clean_env(PIP_FIND_LINKS=find_links, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    last = run([python, "-c", EXECUTE, notebook], cwd=tmp_path, env=env).stdout
    assert f"dlnotes {setup_cell.version()} | seed" in last, last
    installed = run([python, "-m", "pip", "show", "dlnotes-book"], env=env).stdout
    assert f"Version: {setup_cell.version()}" in installed
