"""The set-up cell that opens every chapter, and the script that writes it.

Where `dlnotes` is importable (this repository's `.venv`, Binder, a reader's `pip install`), the cell
does nothing and prints nothing, so nbval compares nothing for it. Where it is missing (Colab, a
downloaded notebook), it installs the released distribution at this repository's exact version with
the extras that chapter imports.

    python tools/setup_cell.py          insert the cell, or bring an existing one up to date

Run it after changing `__version__` in dlnotes/__init__.py, then re-execute the chapters
(`make notebooks`). tests/test_setup_cell.py fails while a chapter's cell is out of step.
"""

import ast
from pathlib import Path

import nbformat

from version import version

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("0*.ipynb"))
DISTRIBUTION = "dlnotes-book"

# What a chapter imports -> the extra of DISTRIBUTION that provides it (pyproject.toml).
EXTRA_FOR_MODULE = {"torch": "torch", "dlnotes.widgets": "widgets", "dlnotes.deploy": "onnx"}

TEMPLATE = '''\
# Set-up: installs the book's package where it is missing (Colab, a downloaded notebook).
import importlib.util, subprocess, sys

if importlib.util.find_spec("dlnotes") is None:
    package = "{requirement}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)'''

FIRST_LINE = TEMPLATE.splitlines()[0]


def imported_modules(sources):
    """Every absolute module that the Python ``sources`` import, counting the names that
    ``from package import name`` brings in as modules ``package.name``."""
    found = set()
    for text in sources:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def code_sources(nb):
    """The sources of a notebook's code cells."""
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def extras(nb):
    """The extras a chapter needs, sorted: those whose module (or a submodule of it) it imports."""
    modules = imported_modules(code_sources(nb))
    return sorted({extra for module, extra in EXTRA_FOR_MODULE.items()
                   if any(m == module or m.startswith(module + ".") for m in modules)})


def source(nb):
    """The set-up cell's source for notebook `nb`."""
    return TEMPLATE.format(requirement=f"{DISTRIBUTION}[{','.join(extras(nb))}]=={version()}")


def setup_cell_index(nb):
    """Index of the notebook's set-up cell (the first code cell, when it starts with FIRST_LINE)."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            return i if cell.source.startswith(FIRST_LINE) else None
    return None


def write(path):
    """Insert the set-up cell before the first code cell of `path`, or update it; True if changed."""
    nb = nbformat.read(path, as_version=4)
    wanted = source(nb)
    index = setup_cell_index(nb)
    if index is None:
        first_code = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
        nb.cells.insert(first_code, nbformat.v4.new_code_cell(wanted))
    elif nb.cells[index].source == wanted:
        return False
    else:
        nb.cells[index].source = wanted
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return True


if __name__ == "__main__":
    for chapter in CHAPTERS:
        print(f"{chapter.name}: {'written' if write(chapter) else 'up to date'}")

